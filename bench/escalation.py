"""Escalation benchmark: time from "webhook received" to "Twilio API called" for critical alerts.

Starts the local stand-in of Twilio's Messages API (tests/fakes/twilio_api.py), then a gateway
as a subprocess (`python -m app.cli serve --demo`) with the twilio SMS provider pointed at the
stand-in, waits for /readyz, and posts N signed inbound SMS "Attaque en cours a <Place> #i",
one at a time with a gap, from an unknown number (so the place comes from the text). Each
answer's TwiML carries the alert's reference (K-XXXX); a page to a liaison starts with it. The
latency of an alert is the stand-in's `received_at` of the first Messages request whose body
contains the reference, minus the wall-clock time just before its webhook was sent.

    .venv/bin/python bench/escalation.py                       # temporary SQLite file
    .venv/bin/python bench/escalation.py --n 120 --gap 0.2
    .venv/bin/python bench/escalation.py --database-url postgresql://postgres@127.0.0.1/fresh_db

Use an empty PostgreSQL database (`createdb ...`): alerts near incidents still open from an
earlier run join them and are not paged again.

Corroboration: an alert within KENGELE_CORROBORATION_RADIUS_KM (10) and _WINDOW_HOURS (6) of an
open incident joins it and does not page anyone. The alerts therefore go to places of the demo
gazetteer chosen at least --min-km (12) apart; when N exceeds their number, the places are cycled
and the gateway's corroboration window is shortened to half a round, so every alert is a fresh
escalation. Alerts whose page is not seen within --wait seconds of the last post are counted
and left out of the figures.

The gateway's SMS rate limit (KENGELE_SMS_RATE_PER_SECOND 1, KENGELE_SMS_BURST 3 by default)
is raised to 1000/1000 so that it does not dominate: this measures the pipeline, not the
sending pace of one long code. Status callbacks ("sent", "delivered") are posted back to the
gateway over HTTP by the stand-in, as Twilio would (--no-callbacks turns them off).
"""

from __future__ import annotations

import argparse
import csv
import math
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import httpx
from twilio.request_validator import RequestValidator

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.fakes.twilio_api import ACCOUNT_SID, AUTH_TOKEN, twilio_fake  # noqa: E402

GAZETTEER = ROOT / "app" / "demo" / "data" / "gazetteer_drc_east.csv"
LIAISONS = ROOT / "app" / "demo" / "data" / "liaisons.csv"
FROM_NUMBER = "+243800000000"
REF = re.compile(r"\bK-[2-9A-HJKMNP-Z]{4}\b")
SMS_PATH = "/webhooks/twilio/sms"


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (0-100) by nearest rank."""
    ordered = sorted(values)
    index = max(0, min(len(ordered) - 1, round(q / 100 * len(ordered)) - 1))
    return ordered[index]


def km(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Great-circle distance in km."""
    lat1, lon1, lat2, lon2 = map(math.radians, (*a, *b))
    h = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    )
    return 2 * 6371.0 * math.asin(math.sqrt(h))


def far_apart_places(min_km: float) -> list[str]:
    """Names of demo places in a liaison's zone, each at least `min_km` from the others.

    A name the gazetteer has twice (Kabare) is left out: the geotagger may pick the other one.
    """
    with LIAISONS.open(encoding="utf-8") as f:
        zones = {
            z.strip().lower() for row in csv.DictReader(f) for z in row["zones"].split("|") if z
        }
    with GAZETTEER.open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    counts = Counter(row["name"].lower() for row in rows)
    chosen: list[tuple[str, tuple[float, float]]] = []
    for row in rows:
        if row["admin2"].strip().lower() not in zones or counts[row["name"].lower()] > 1:
            continue
        point = (float(row["lat"]), float(row["lon"]))
        if all(km(point, other) >= min_km for _, other in chosen):
            chosen.append((row["name"], point))
    return [name for name, _ in chosen]


def free_port() -> int:
    """A free TCP port of 127.0.0.1."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_gateway(
    port: int, fake_base: str, database_url: str, log_path: Path, window_hours: float | None
) -> subprocess.Popen[bytes]:
    """`kengele serve --demo` in its own process group, logging to `log_path`."""
    env = dict(os.environ)
    env.update(
        {
            "KENGELE_SMS_PROVIDER": "twilio",
            "KENGELE_TWILIO_API_BASE": fake_base,
            "KENGELE_TWILIO_ACCOUNT_SID": ACCOUNT_SID,
            "KENGELE_TWILIO_AUTH_TOKEN": AUTH_TOKEN,
            "KENGELE_TWILIO_FROM": FROM_NUMBER,
            "KENGELE_PUBLIC_URL": f"http://127.0.0.1:{port}",
            "KENGELE_DATABASE_URL": database_url,
            "KENGELE_SMS_BURST": "1000",
            "KENGELE_SMS_RATE_PER_SECOND": "1000",
        }
    )
    if window_hours is not None:
        env["KENGELE_CORROBORATION_WINDOW_HOURS"] = f"{window_hours:.6f}"
    command = [sys.executable, "-m", "app.cli", "serve", "--demo", "--port", str(port)]
    with log_path.open("wb") as log:
        return subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )


def stop_gateway(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM the gateway's process group; SIGKILL it if it lingers."""
    if process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def wait_ready(client: httpx.Client, process: subprocess.Popen[bytes], within: float) -> None:
    """Poll /readyz until it answers 200."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the gateway exited with {process.returncode}")
        try:
            if client.get("/readyz").status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise RuntimeError("the gateway was not ready in time")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=0, help="alerts (default: one per place)")
    parser.add_argument("--gap", type=float, default=0.2, help="seconds between posts")
    parser.add_argument(
        "--database-url", default="", help="the gateway's database (default: temporary SQLite)"
    )
    parser.add_argument("--min-km", type=float, default=12.0, help="distance between places")
    parser.add_argument("--wait", type=float, default=15.0, help="seconds to wait for pages")
    parser.add_argument("--no-callbacks", action="store_true", help="no status callbacks")
    args = parser.parse_args()

    places = far_apart_places(args.min_km)
    n = args.n or len(places)
    window_hours = None
    if n > len(places):
        # A place comes back after one round: the incident it opened must be closed by then.
        window_hours = len(places) * args.gap / 2 / 3600
    tmp = Path(tempfile.mkdtemp(prefix="kengele-bench-"))
    database_url = args.database_url or f"sqlite:///{tmp / 'bench.db'}"
    port = free_port()
    public_url = f"http://127.0.0.1:{port}"
    validator = RequestValidator(AUTH_TOKEN)
    run_id = os.urandom(4).hex()
    mode = "manual" if args.no_callbacks else "auto"

    with twilio_fake(callbacks=mode) as fake:
        log_path = tmp / "gateway.log"
        process = start_gateway(port, fake.base_url, database_url, log_path, window_hours)
        sent_at: dict[str, float] = {}
        round_trips: list[float] = []
        no_ref = 0
        try:
            with httpx.Client(base_url=public_url, timeout=30) as client:
                wait_ready(client, process, 60)
                backend = database_url.split(":", 1)[0]
                print(f"gateway {public_url} on {backend}, log {log_path}")
                print(
                    f"{n} critical alerts over {len(places)} places >= {args.min_km:g} km apart, "
                    f"one every {args.gap:g} s; SMS rate limit raised to 1000/s, burst 1000; "
                    f"status callbacks {'off' if args.no_callbacks else 'on'}"
                    + (
                        f"; corroboration window {window_hours * 3600:.1f} s"
                        if window_hours
                        else ""
                    )
                )
                for i in range(n):
                    place = places[i % len(places)]
                    form = {
                        "MessageSid": f"SM{run_id}{i:024x}",
                        "AccountSid": ACCOUNT_SID,
                        "From": f"+2438999{i % 10000:05d}",
                        "To": FROM_NUMBER,
                        "Body": f"Attaque en cours a {place} #{i}",
                    }
                    signature = validator.compute_signature(public_url + SMS_PATH, form)
                    started = time.time()
                    response = client.post(
                        SMS_PATH, data=form, headers={"X-Twilio-Signature": signature}
                    )
                    round_trips.append(time.time() - started)
                    found = REF.search(response.text)
                    if response.status_code != 200 or found is None:
                        no_ref += 1
                    else:
                        sent_at[found.group(0)] = started
                    time.sleep(args.gap)

                deadline = time.monotonic() + args.wait
                first: dict[str, float] = {}
                pages = 0
                while True:
                    first.clear()
                    pages = 0
                    for request in fake.requests:
                        found = REF.match(request.body or "")
                        if found and found.group(0) in sent_at:
                            pages += 1
                            first.setdefault(found.group(0), request.received_at.timestamp())
                    if len(first) == len(sent_at) or time.monotonic() > deadline:
                        break
                    time.sleep(0.2)
        finally:
            stop_gateway(process)

    latencies = [first[ref] - sent_at[ref] for ref in first]
    print(
        f"alerts posted {n}, answered with a reference {len(sent_at)}, "
        f"paged {len(first)} ({pages} page SMS), not paged within {args.wait:g} s "
        f"{len(sent_at) - len(first)}, no reference {no_ref}"
    )
    print(
        f"webhook round trip   p50 {percentile(round_trips, 50) * 1000:7.1f} ms  "
        f"p99 {percentile(round_trips, 99) * 1000:7.1f} ms  max {max(round_trips) * 1000:7.1f} ms"
    )
    if latencies:
        print(
            f"webhook -> Twilio    p50 {percentile(latencies, 50) * 1000:7.1f} ms  "
            f"p99 {percentile(latencies, 99) * 1000:7.1f} ms  max {max(latencies) * 1000:7.1f} ms"
        )
    return 0 if latencies else 1


if __name__ == "__main__":
    sys.exit(main())
