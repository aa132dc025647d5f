"""Benchmark of the geotagger and triage with a 100,000-place gazetteer.

Builds a synthetic gazetteer (random syllable names, some of two words, some shared) plus the
real places of ../shared/data/gazetteer_drc_east.csv, then prints the build time, the memory
(tracemalloc peak and retained) and the per-message triage latency over alerts_dev bodies.

    .venv/bin/python bench/geotag.py [N_PLACES]
"""

from __future__ import annotations

import csv
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

SHARED = ROOT.parent / "shared" / "data"
SYLLABLES = [c + v for c in "bkmnlrstgdfpwyzch" for v in "aeiou"] + ["mba", "nga", "ndo", "shi"]


def real_places() -> list[GazPlace]:
    path = SHARED / "gazetteer_drc_east.csv"
    if not path.exists():
        return []
    with path.open(encoding="utf-8") as fh:
        return [
            GazPlace(
                r["id"],
                r["name"],
                float(r["lat"]),
                float(r["lon"]),
                r["admin1"] or None,
                r["admin2"] or None,
                tuple(a for a in r["alt_names"].split("|") if a),
            )
            for r in csv.DictReader(fh)
        ]


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

    bodies = []
    alerts = SHARED / "alerts_dev.jsonl"
    if alerts.exists():
        bodies = [json.loads(x)["body"] for x in alerts.read_text().splitlines() if x.strip()]
    if not bodies:
        bodies = ["Attaque a Erengeti, 3 morts", "M23 wanaelekea Kiwanja kutoka Rutshuru"]
    home = gaz.get("mavivi")
    sender = Sender(known=True, verified=True, home=home, language="fr")
    for body in bodies:  # warm-up
        triage_message(body, gazetteer=gaz, sender=sender)
    timings = []
    for _ in range(5):
        for body in bodies:
            t = time.perf_counter()
            triage_message(body, gazetteer=gaz, sender=sender)
            timings.append((time.perf_counter() - t) * 1000)
    timings.sort()
    q = statistics.quantiles(timings, n=100)
    print(
        f"triage latency over {len(timings)} messages: p50 {q[49]:.2f} ms, "
        f"p95 {q[94]:.2f} ms, p99 {q[98]:.2f} ms, max {timings[-1]:.2f} ms"
    )
    if alerts.exists() and real:
        small = Gazetteer(real, served_admin2=frozenset({"Beni", "Lubero", "Rutshuru"}))
        small_sender = Sender(known=True, verified=True, home=small.get("mavivi"), language="fr")
        same = sum(
            (triage_message(b, gazetteer=gaz, sender=sender).place or home)
            == (triage_message(b, gazetteer=small, sender=small_sender).place or home)
            for b in bodies
        )
        print(f"same place as with the 119 real places only: {same}/{len(bodies)} messages")
    t = time.perf_counter()
    for body in bodies:
        gaz.search(body.split()[0])
    print(f"search: {(time.perf_counter() - t) * 1000 / len(bodies):.2f} ms per query")


if __name__ == "__main__":
    main()
