"""First page latency: a signed SMS webhook posted → its alert's first page arriving at the
Twilio stand-in, while other webhooks arrive at a steady pace.

Starts `kengele serve` (optionally `--workers N`) on a fresh PostgreSQL database with the demo
data (no console handset: pages leave by the Twilio channel), and the Twilio stand-in
(tests/fakes/twilio_api.py) in a thread of this process, so that the POST and the page's
arrival are timed on one clock. Every second, `--rate` critical reports (each its own alert,
paged to the liaisons of its zone) are posted, each without waiting for the last; one in
`--every` is measured (the others are the background load). After the run, each measured
message is matched to its alert's pages through the database (MessageSid → alert → pages'
provider ids → the stand-in's requests): latency = first page's arrival − POST start.
Over the load's middle third it also reads serve's CPU (its processes' user + system time in
/proc, Linux) and the database's transactions (pg_stat_database), and prints both per
webhook. `--no-worker` serves without the background loops: the request path's share.
`--mode inline|queued|auto` serves with that KENGELE_INBOUND_MODE (auto by default, as the
gateway; `--queued` is `--mode queued`; docs/ARCHITECTURE.md, "Queued intake").
The latencies are printed for the whole load, then for the webhooks posted `--settle` seconds
or more into it (counted from the first measured one): a process just started pays in its
first second for what it does the first time (docs/PERFORMANCE.md, section 1m).

    createdb -h 127.0.0.1 -U postgres kengele_bench_page
    .venv/bin/python bench/first_page.py \
        --database-url postgresql://postgres@127.0.0.1/kengele_bench_page --seconds 30
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
from sqlalchemy import select, text

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from app.inbound.models import InboundMessage  # noqa: E402
from app.kit.config import Settings  # noqa: E402
from app.kit.db import create_engine, create_sessionmaker  # noqa: E402
from app.outbox.models import Delivery  # noqa: E402
from app.outbox.wakeup import asyncpg_dsn  # noqa: E402
from bench.inbound_wrk import cpu_seconds  # noqa: E402
from tests.fakes.twilio_api import TwilioFake  # noqa: E402
from tests.faults.support import SMS, critical_sms  # noqa: E402
from tests.support import PUBLIC_URL, sign  # noqa: E402

# ms from each measured POST to its answer (the rest of the latency is the page's).
answered: dict[str, float] = {}
# Per webhook over the load's middle third: serve's CPU (ms) and the database's transactions.
sampled: dict[str, float] = {}
LINUX = Path("/proc/self/stat").exists()  # serve's CPU is read from /proc


def gateway_env(
    database_url: str, fake: TwilioFake, *, mode: str = "auto", window_hours: float = 1e-6
) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KENGELE_")}
    values = {
        # Queued, the receipts leave by SMS too: they reach the stand-in beside the pages.
        "inbound_mode": mode,
        "database_url": database_url,
        "demo": "true",  # the data, without the console handset of --demo
        "public_url": PUBLIC_URL,
        "sms_provider": "twilio",
        "twilio_api_base": fake.base_url,
        "twilio_account_sid": fake.account_sid,
        "twilio_auth_token": fake.auth_token,
        "twilio_from": "+243800000000",
        "sms_rate_per_second": 1000,
        "sms_burst": 1000,
        # By default each report its own incident, paged on its own (at 24/s, a 0.36 s window
        # joined most); --window-hours 6 (the gateway's default): the reports of a place join.
        "corroboration_window_hours": window_hours,
        "log_level": "WARNING",
    }
    env.update({f"KENGELE_{k.upper()}": str(v) for k, v in values.items()})
    # The repository first; a PYTHONPATH given to the bench after it (a sitecustomize hook).
    paths = [str(REPO_ROOT), os.environ.get("PYTHONPATH", "")]
    env["PYTHONPATH"] = os.pathsep.join(p for p in paths if p)
    return env


async def reset(database_url: str) -> None:
    engine = create_engine(Settings(database_url=database_url))
    async with engine.begin() as conn:
        await conn.execute(text("DROP SCHEMA public CASCADE"))
        await conn.execute(text("CREATE SCHEMA public"))
    await engine.dispose()


async def load(url: str, fake: TwilioFake, args: argparse.Namespace) -> dict[str, float]:
    """Post for `seconds`; the POST start (monotonic) of each measured MessageSid."""
    measured: dict[str, float] = {}
    statuses: list[int] = []
    answered.clear()
    tasks: set[asyncio.Task[None]] = set()
    async with httpx.AsyncClient(base_url=url, timeout=15) as client:

        async def post(form: dict[str, str], measure: bool) -> None:
            headers = {"X-Twilio-Signature": sign(SMS, form, fake.auth_token, PUBLIC_URL)}
            started = time.monotonic()
            response = await client.post(SMS, data=form, headers=headers)
            statuses.append(response.status_code)
            if measure:
                measured[form["MessageSid"]] = started
                answered[form["MessageSid"]] = (time.monotonic() - started) * 1000

        n = 0
        start = time.monotonic()
        sampler = asyncio.create_task(sample_middle_third(args, start))
        while time.monotonic() - start < args.seconds:
            n += 1
            task = asyncio.create_task(post(critical_sms(), n % args.every == 0))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
            await asyncio.sleep(max(start + n / args.rate - time.monotonic(), 0))
        await asyncio.gather(*tasks)
        await sampler
    bad = [s for s in statuses if s != 200]
    if bad:
        raise SystemExit(f"{len(bad)} webhooks not answered 200: {sorted(set(bad))}")
    return measured


async def transactions(database_url: str) -> int:
    """Transactions committed or rolled back in the bench's database so far."""
    import asyncpg  # type: ignore[import-untyped]

    conn = await asyncpg.connect(asyncpg_dsn(database_url))
    try:
        return int(
            await conn.fetchval(
                "SELECT xact_commit + xact_rollback FROM pg_stat_database "
                "WHERE datname = current_database()"
            )
        )
    finally:
        await conn.close()


async def sample_middle_third(args: argparse.Namespace, start: float) -> None:
    """serve's CPU and the database's transactions per webhook over the load's middle third
    (steady: past the start, before the last webhooks), kept in `sampled`."""
    marks = []
    for at in (args.seconds / 3, 2 * args.seconds / 3):
        await asyncio.sleep(max(start + at - time.monotonic(), 0))
        cpu = cpu_seconds(args.serve_pid) if LINUX else None
        marks.append((time.monotonic(), cpu, await transactions(args.database_url)))
    (t0, cpu0, x0), (t1, cpu1, x1) = marks
    webhooks = (t1 - t0) * args.rate
    if cpu0 is not None and cpu1 is not None:
        sampled["cpu_ms"] = (cpu1 - cpu0) * 1000 / webhooks
    sampled["transactions"] = (x1 - x0) / webhooks


async def latencies(
    database_url: str, fake: TwilioFake, measured: dict[str, float]
) -> dict[str, float]:
    """ms from each measured POST to its alert's first page at the stand-in (waits for them)."""
    engine = create_engine(Settings(database_url=database_url))
    maker = create_sessionmaker(engine)
    deadline = time.monotonic() + 60
    while True:
        arrived = {r.sid: r.monotonic for r in fake.requests if r.sid}
        async with maker() as session:
            alert_of = dict(
                (
                    await session.execute(
                        select(InboundMessage.provider_sid, InboundMessage.alert_id).where(
                            InboundMessage.provider_sid.in_(list(measured))
                        )
                    )
                ).all()
            )
            pages = (
                await session.execute(
                    select(Delivery.alert_id, Delivery.provider_id).where(
                        Delivery.purpose == "page", Delivery.alert_id.in_(set(alert_of.values()))
                    )
                )
            ).all()
        first: dict[int, float] = {}
        for alert_id, provider_id in pages:
            if provider_id in arrived:
                first[alert_id] = min(first.get(alert_id, 1e18), arrived[provider_id])
        out = {
            sid: (first[alert_of[sid]] - started) * 1000
            for sid, started in measured.items()
            if alert_of.get(sid) in first
        }
        if len(out) == len(measured) or time.monotonic() > deadline:
            break
        await asyncio.sleep(0.5)
    await engine.dispose()
    if len(out) < len(measured):
        print(f"warning: {len(measured) - len(out)} measured alerts had no page in 60 s")
    return out


def wait_ready(url: str, proc: subprocess.Popen[bytes], log: Path, workers: int) -> None:
    """Until /readyz answers 200 ten times in a row (any process), then a few seconds more
    for every process to finish starting (listeners connected, first passes done)."""
    deadline = time.monotonic() + 180
    ok = 0
    while ok < 10:
        if proc.poll() is not None or time.monotonic() > deadline:
            raise SystemExit(f"serve did not start:\n{log.read_text()[-3000:]}")
        try:
            ok = ok + 1 if httpx.get(url + "/readyz", timeout=2).status_code == 200 else 0
        except httpx.HTTPError:
            ok = 0
        time.sleep(0.2)
    time.sleep(3.0 * workers)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--rate", type=float, default=24.0, help="webhooks per second in all")
    parser.add_argument("--every", type=int, default=6, help="measure one webhook in N")
    parser.add_argument("--workers", type=int, default=1, help="kengele serve --workers")
    parser.add_argument("--port", type=int, default=8451)
    parser.add_argument("--log", help="keep the gateway's log in this file")
    parser.add_argument(
        "--no-worker",
        action="store_true",
        help="serve --no-worker: the request path alone (no page is sent, none is timed)",
    )
    parser.add_argument(
        "--mode",
        choices=("inline", "queued", "auto"),
        default="auto",
        help="KENGELE_INBOUND_MODE (auto, the gateway's default: inline until a surge)",
    )
    parser.add_argument(
        "--queued",
        action="store_true",
        help="the same as --mode queued: webhooks store and answer, the loop processes",
    )
    parser.add_argument(
        "--window-hours",
        type=float,
        default=1e-6,
        help="KENGELE_CORROBORATION_WINDOW_HOURS (default 1e-6: each report its own incident; "
        "6, the gateway's own default: a place's reports join one incident, few have pages of "
        "their own, so use it with --no-worker to time the answers)",
    )
    parser.add_argument(
        "--settle",
        type=float,
        default=2.0,
        metavar="S",
        help="also print the latencies of the webhooks posted after the load's first S seconds",
    )
    parser.add_argument(
        "--slow",
        type=float,
        metavar="MS",
        help="list the measured webhooks answered or paged later than this, with when they "
        "were posted (a slow start shows as the first seconds)",
    )
    args = parser.parse_args()
    if args.queued:
        args.mode = "queued"
    asyncio.run(reset(args.database_url))
    with TwilioFake() as fake, tempfile.TemporaryDirectory(prefix="bench-page-") as tmp:
        log = Path(args.log) if args.log else Path(tmp) / "serve.log"
        cmd = [sys.executable, "-m", "app.cli", "serve", "--port", str(args.port)]
        if args.no_worker:
            cmd.append("--no-worker")
        with log.open("wb") as out:
            proc = subprocess.Popen(
                [*cmd, "--workers", str(args.workers)],
                env=gateway_env(
                    args.database_url, fake, mode=args.mode, window_hours=args.window_hours
                ),
                cwd=REPO_ROOT,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        url = f"http://127.0.0.1:{args.port}"
        args.serve_pid = proc.pid
        try:
            wait_ready(url, proc, log, args.workers)
            measured = asyncio.run(load(url, fake, args))
            page = (
                {} if args.no_worker else asyncio.run(latencies(args.database_url, fake, measured))
            )
        finally:
            proc.terminate()
            proc.wait(timeout=30)
    print(
        f"serve --workers {args.workers}, {args.rate:.0f} webhooks/s for {args.seconds:.0f} s, "
        f"{len(measured)} measured, {len(fake.requests)} SMS at the stand-in, "
        f"{os.cpu_count()} CPUs"
    )
    if "cpu_ms" in sampled:
        print(f"serve's CPU per webhook (middle third of the load): {sampled['cpu_ms']:.1f} ms")
    print(f"database transactions per webhook (the same third): {sampled['transactions']:.2f}")
    after = {sid: ms - answered[sid] for sid, ms in page.items()}
    start = min(measured.values())  # the first measured webhook's POST
    if args.slow is not None:
        for sid, ms in sorted(page.items(), key=lambda item: measured[item[0]]):
            if max(ms, answered[sid]) > args.slow:
                print(
                    f"slow: {measured[sid] - start:5.1f} s into the load, answered in "
                    f"{answered[sid]:.1f} ms, first page in {ms:.1f} ms"
                )
    summary(answered, page, after)
    # A process just started compiles each SQL statement on its first use, opens its pool's
    # connections and its HTTP client's: the load's first second pays for that once.
    settled = {sid for sid, at in measured.items() if at - start >= args.settle}
    if settled and len(settled) < len(measured):
        print(f"from {args.settle:g} s into the load on ({len(settled)} measured):")
        summary(
            *({sid: v for sid, v in d.items() if sid in settled} for d in (answered, page, after))
        )


def summary(answered: dict[str, float], page: dict[str, float], after: dict[str, float]) -> None:
    """p50, p90, p99 and max of each latency (ms)."""
    for what, values in (
        ("webhook answered", answered),
        ("first page", page),
        ("page after answer", after),
    ):
        ms = sorted(values.values())
        if not ms:
            continue
        print(
            f"{what:>17}: p50 {statistics.median(ms):7.1f} ms  p90 {ms[int(len(ms) * 0.9)]:7.1f} ms"
            f"  p99 {ms[min(len(ms) - 1, int(len(ms) * 0.99))]:7.1f} ms  max {ms[-1]:7.1f} ms"
        )


if __name__ == "__main__":
    main()
