"""Ingest benchmark: N signed inbound-SMS webhooks with C concurrent clients against a running
gateway, next to the same load on its bare /healthz route.

    kengele serve --demo &                         # or any running gateway
    python bench/ingest.py --n 2000 --concurrency 16

The gateway must share the Twilio auth token and public URL given here (defaults: the
gateway's own defaults). Prints throughput and p50/p95/p99 latency of both, and their ratio.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import statistics
import time

import httpx
from twilio.request_validator import RequestValidator

BODIES = [
    "Attaque en cours a {place}, les ADF ont tue 3 personnes",
    "Watu wenye silaha wameonekana karibu na {place}",
    "Bcp de coups de feu entendus vers {place} maintenant",
    "wamechoma nyumba kumi huko {place}",
    "Pillage des boutiques a {place} hier soir",
    "Bonjour, test",
]
PLACES = ["Mavivi", "Oicha", "Eringeti", "Mbau", "Kamango", "Kasindi", "Beni", "Rutshuru"]
REPORTERS = [f"+2438100001{n:02d}" for n in range(1, 21)] + ["+243899990001", "+243899990002"]


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (0-100) by nearest rank."""
    ordered = sorted(values)
    index = max(0, min(len(ordered) - 1, round(q / 100 * len(ordered)) - 1))
    return ordered[index]


async def run(
    n: int, concurrency: int, make_request: object, client: httpx.AsyncClient
) -> tuple[float, list[float], int]:
    """(elapsed seconds, latencies, failures) of n requests made by `concurrency` workers."""
    latencies: list[float] = []
    failures = 0
    queue: asyncio.Queue[int] = asyncio.Queue()
    for i in range(n):
        queue.put_nowait(i)

    async def worker() -> None:
        nonlocal failures
        while True:
            try:
                i = queue.get_nowait()
            except asyncio.QueueEmpty:
                return
            start = time.perf_counter()
            response = await make_request(client, i)  # type: ignore[operator]
            latencies.append(time.perf_counter() - start)
            if response.status_code != 200:
                failures += 1

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return time.perf_counter() - started, latencies, failures


def report(name: str, n: int, elapsed: float, latencies: list[float], failures: int) -> float:
    """Print one line of figures; returns the throughput."""
    rate = n / elapsed
    print(
        f"{name:<10} {n:>6} req  {rate:>8.1f} req/s  "
        f"p50 {percentile(latencies, 50) * 1000:>7.1f} ms  "
        f"p95 {percentile(latencies, 95) * 1000:>7.1f} ms  "
        f"p99 {percentile(latencies, 99) * 1000:>7.1f} ms  "
        f"mean {statistics.fmean(latencies) * 1000:>7.1f} ms  failures {failures}"
    )
    return rate


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--url", default="http://127.0.0.1:8000", help="where to send")
    parser.add_argument(
        "--public-url",
        default=os.environ.get("KENGELE_PUBLIC_URL", "http://127.0.0.1:8000"),
        help="the gateway's KENGELE_PUBLIC_URL (what the signature covers)",
    )
    parser.add_argument(
        "--token", default=os.environ.get("KENGELE_TWILIO_AUTH_TOKEN", "kengele-dev-token")
    )
    parser.add_argument("--n", type=int, default=1000, help="requests per run")
    parser.add_argument("--concurrency", type=int, default=16, help="concurrent clients")
    args = parser.parse_args()

    validator = RequestValidator(args.token)
    path = "/webhooks/twilio/sms"
    run_id = secrets.token_hex(4)

    async def sms(client: httpx.AsyncClient, i: int) -> httpx.Response:
        sid = f"SM{run_id}{i:024x}"
        form = {
            "MessageSid": sid,
            "AccountSid": "AC" + "0" * 32,
            "From": REPORTERS[i % len(REPORTERS)],
            "To": "+243800000000",
            # A unique suffix keeps every message a new alert (no panic-resend folding).
            "Body": BODIES[i % len(BODIES)].format(place=PLACES[i % len(PLACES)]) + f" #{i}",
        }
        signature = validator.compute_signature(args.public_url + path, form)
        return await client.post(path, data=form, headers={"X-Twilio-Signature": signature})

    async def healthz(client: httpx.AsyncClient, _: int) -> httpx.Response:
        return await client.get("/healthz")

    limits = httpx.Limits(max_connections=args.concurrency)
    async with httpx.AsyncClient(base_url=args.url, limits=limits, timeout=60) as client:
        await run(min(50, args.n), args.concurrency, healthz, client)  # warm up
        print(f"gateway {args.url}, {args.n} requests, {args.concurrency} concurrent clients")
        bare = report("/healthz", args.n, *await run(args.n, args.concurrency, healthz, client))
        ingest = report("sms", args.n, *await run(args.n, args.concurrency, sms, client))
    print(f"ratio sms/healthz throughput: {ingest / bare:.3f}")


if __name__ == "__main__":
    asyncio.run(main())
