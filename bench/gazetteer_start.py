"""A gateway on a large gazetteer: start to ready, RSS, the first SMS after the start.

    kengele import places rg_cities1000.csv --name-col name --lat-col lat --lon-col lon \\
        --admin1-col admin1 --admin2-col admin2 --allow-partial --source geonames
    python bench/gazetteer_start.py --database-url postgresql://postgres@127.0.0.1/kengele_geo

(into KENGELE_DATABASE_URL; docs/PERFORMANCE.md section 1c.) Starts `kengele serve` (one
process) on that database, times how long until /readyz answers 200 (the place index is
built before), reads its RSS from /proc, then times one signed SMS webhook, the first after
the start, 40 more, then SMS sent one after another from a PATCH of a place until a search
shows the edit (the index's rebuild), against those 40. `--rebuilds N` then edits N more
times and reads the RSS after each, and at its highest during them.
"""

from __future__ import annotations

import argparse
import gc
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
from twilio.request_validator import RequestValidator

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

from inbound_wrk import PATH, TOKEN, free_port, stop  # noqa: E402


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


class Pauses:
    """The bench's own garbage collections over 10 ms, with when they ended: a pause of the
    client is counted in the latency of the SMS it was timing, and is not the gateway's."""

    def __init__(self) -> None:
        self.seen: list[tuple[float, float]] = []
        self._started = 0.0
        gc.callbacks.append(self._hook)

    def _hook(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._started = time.monotonic()
        elif (took := time.monotonic() - self._started) > 0.010:
            self.seen.append((time.monotonic(), took))


class Highest:
    """The highest RSS of a process, read from /proc every 50 ms in a thread until stopped."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.mb = rss_mb(pid)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)
        self._thread.start()

    def _watch(self) -> None:
        while not self._stop.wait(0.05):
            self.mb = max(self.mb, rss_mb(self.pid))

    def stop(self) -> float:
        self._stop.set()
        self._thread.join()
        return self.mb


def sms(client: httpx.Client, public: str, i: int) -> float:
    form = {
        "MessageSid": f"SM{os.urandom(4).hex()}{i:024x}",
        "From": "+243810000101",
        "To": "+243800000000",
        "Body": f"Attaque en cours a Beni #{i}",
    }
    signature = RequestValidator(TOKEN).compute_signature(public + PATH, form)
    started = time.perf_counter()
    answer = client.post(PATH, data=form, headers={"X-Twilio-Signature": signature})
    answer.raise_for_status()
    return time.perf_counter() - started


def spread(times: list[float]) -> str:
    """Count, median, 95th percentile and max of latencies in seconds, as milliseconds."""
    ordered = sorted(times)
    p95 = ordered[min(len(ordered) - 1, round(len(ordered) * 0.95))]
    return (
        f"{len(ordered)} SMS, median {ordered[len(ordered) // 2] * 1000:.0f} ms, "
        f"p95 {p95 * 1000:.0f} ms, max {ordered[-1] * 1000:.0f} ms"
    )


def edit_and_send(
    client: httpx.Client, public: str, admin_key: str
) -> tuple[list[float], list[float], float]:
    """PATCH a place, then send SMS one after another until a search shows the edit (search
    waits for the rebuild of the index): the latencies of those SMS, when each was sent
    (seconds after the PATCH was answered), and the rebuild's time."""
    headers = {"Authorization": f"Bearer {admin_key}"}
    place = client.get("/api/v1/places?q=Beni", headers=headers).json()[0]["id"]
    label = f"Beni-{os.urandom(3).hex()}"
    client.patch(
        f"/api/v1/places/{place}", headers=headers, json={"alt_names": [label]}
    ).raise_for_status()
    started = time.monotonic()
    done: list[float] = []

    def search() -> None:
        with httpx.Client(base_url=public, timeout=120) as other:
            found = other.get(f"/api/v1/places?q={label}", headers=headers).json()
            assert found and found[0]["id"] == place, found
        done.append(time.monotonic() - started)

    waiter = threading.Thread(target=search)
    waiter.start()
    times: list[float] = []
    sent: list[float] = []
    while not done or len(times) < 10:
        sent.append(time.monotonic() - started)
        times.append(sms(client, public, 1000 + len(times)))
    waiter.join()
    return times, sent, done[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", default=os.environ.get("KENGELE_DATABASE_URL"))
    parser.add_argument("--admin-key", default=os.environ.get("KENGELE_BENCH_ADMIN_KEY"))
    parser.add_argument(
        "--slow",
        type=float,
        metavar="MS",
        help="list each SMS of the rebuild slower than MS, with when it was sent, and the "
        "bench's own collections over 10 ms",
    )
    parser.add_argument(
        "--rebuilds",
        type=int,
        default=0,
        metavar="N",
        help="then N more edits, each followed by 6 s of rest: RSS after each (does memory "
        "grow from one rebuild to the next?) and at its highest during them",
    )
    args = parser.parse_args()
    if not args.database_url:
        parser.error("give --database-url or set KENGELE_DATABASE_URL (a PostgreSQL database)")
    pauses = Pauses()
    port = free_port()
    public = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "KENGELE_DATABASE_URL": args.database_url,
        "KENGELE_PUBLIC_URL": public,
        "KENGELE_TWILIO_AUTH_TOKEN": TOKEN,
    }
    started = time.monotonic()
    gateway = subprocess.Popen(
        [sys.executable, "-m", "app.cli", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        with httpx.Client(base_url=public, timeout=60) as client:
            while True:
                try:
                    if client.get("/readyz").status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                time.sleep(0.1)
            print(f"start to ready      {time.monotonic() - started:6.1f} s")
            print(f"RSS when ready      {rss_mb(gateway.pid):6.0f} MB")
            print(f"first SMS           {sms(client, public, 0) * 1000:6.0f} ms")
            print(f"RSS after first SMS {rss_mb(gateway.pid):6.0f} MB")
            quiet = [sms(client, public, i) for i in range(1, 41)]
            print(f"next 40 SMS         {spread(quiet)}")
            if args.admin_key:
                patched = time.monotonic()
                during, sent, rebuild = edit_and_send(client, public, args.admin_key)
                print(f"SMS during the rebuild after a PATCH ({rebuild:.1f} s): {spread(during)}")
                usual = sorted(quiet)[len(quiet) // 2]
                over = (max(during) - usual) * 1000
                print(f"most over the median before the edit: {over:.0f} ms")
                if args.slow is not None:
                    for at, took in zip(sent, during, strict=True):
                        if took * 1000 > args.slow:
                            print(f"slow: sent {at:5.2f} s after the PATCH, {took * 1000:.0f} ms")
                    for ended, took in pauses.seen:
                        if ended >= patched:
                            print(
                                f"the bench's collection of {took * 1000:.0f} ms, ended "
                                f"{ended - patched:5.2f} s after the PATCH was sent"
                            )
            print(f"RSS at the end      {rss_mb(gateway.pid):6.0f} MB")
            time.sleep(6)  # the periodic check (every 5 s) gives back what the rebuild freed
            print(f"RSS 6 s later       {rss_mb(gateway.pid):6.0f} MB")
            if args.admin_key and args.rebuilds:
                highest = Highest(gateway.pid)
                for n in range(args.rebuilds):
                    edit_and_send(client, public, args.admin_key)
                    time.sleep(6)
                    print(f"rebuild {n + 2}: RSS 6 s later {rss_mb(gateway.pid):4.0f} MB")
                print(f"RSS at its highest during those rebuilds {highest.stop():.0f} MB")
    finally:
        stop(gateway)


if __name__ == "__main__":
    main()
