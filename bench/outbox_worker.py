"""Outbox worker throughput: SMS/s of one and of two `kengele worker` processes, side by side.

Each round starts W worker processes (the real `kengele worker` command), waits until they
listen, writes N due SMS in one transaction (as an escalation would, with NOTIFY) and times
how long until every row has left pending/sending. The SMS go to the Twilio stand-in
(tests/fakes/twilio_api.py) served by a process of its own, unthrottled (no latency), through
the real `twilio` client; or, with `--channel console`, to a console channel (no HTTP at all).
The worker CPU per delivery is read from /proc (user + system time of the worker processes
during the round, startup excluded).

`--standin nginx` answers the Twilio API with nginx (Debian's package `nginx-light`, one
worker process) instead: a fixed message resource, a new SID per request (its request id).
The Python stand-in costs about a quarter of a core at 1,000 SMS/s on the same two cores as
the workers and PostgreSQL; nginx costs a tenth of that, so that two workers' figure says
how the workers scale rather than how the stand-in shares the machine.

    createdb -h 127.0.0.1 -U postgres kengele_bench_outbox
    .venv/bin/python bench/outbox_worker.py \
        --database-url postgresql://postgres@127.0.0.1/kengele_bench_outbox --n 3000

The database is migrated and its deliveries are deleted before each round.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from sqlalchemy import delete, func, select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from app.channels.models import Channel  # noqa: E402
from app.escalation.service import seed_default_policies  # noqa: E402
from app.kit.clock import utcnow  # noqa: E402
from app.kit.config import Settings  # noqa: E402
from app.kit.db import create_engine, create_sessionmaker, unit_of_work  # noqa: E402
from app.kit.migrate import upgrade  # noqa: E402
from app.outbox.models import (  # noqa: E402
    CHANNEL_SMS,
    PENDING,
    SENDING,
    Delivery,
    DeliveryAttempt,
    SenderRate,
)
from app.outbox.wakeup import mark_work  # noqa: E402

FAKE = (
    "import sys, time\n"
    "from tests.fakes.twilio_api import TwilioFake\n"
    "fake = TwilioFake().start()\n"
    "print(fake.base_url, fake.account_sid, fake.auth_token, flush=True)\n"
    "sys.stdin.read()\n"
)
TICKS = os.sysconf("SC_CLK_TCK")
ACCOUNT_SID = "AC" + "0" * 32
# A message resource as Twilio answers a send (only what the library and the gateway read).
NGINX_CONF = """
worker_processes 1;
pid {dir}/nginx.pid;
error_log {dir}/error.log warn;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    client_body_temp_path {dir};
    proxy_temp_path {dir};
    fastcgi_temp_path {dir};
    uwsgi_temp_path {dir};
    scgi_temp_path {dir};
    keepalive_requests 1000000;
    server {{
        listen 127.0.0.1:{port};
        location ~ /Messages\\.json$ {{
            default_type application/json;
            return 201 '{{"sid": "SM$request_id", "status": "queued", "account_sid": "{sid}",
                "direction": "outbound-api", "error_code": null, "error_message": null}}';
        }}
    }}
}}
"""


def _processes() -> Iterator[tuple[str, list[str]]]:
    """Every process now: its command name and the fields of /proc/<pid>/stat after it."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            head, tail = (entry / "stat").read_text().rsplit(")", 1)
        except (FileNotFoundError, ProcessLookupError):
            continue
        yield head.split("(", 1)[1], tail.split()


def _cpu(fields: list[str]) -> float:
    return (int(fields[11]) + int(fields[12])) / TICKS


def postgres_cpu_seconds() -> float:
    """User + system CPU so far of the PostgreSQL server processes on this machine."""
    return sum(_cpu(f) for name, f in _processes() if name in ("postgres", "postmaster"))


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a process so far."""
    return _cpu(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split())


def family_cpu_seconds(pid: int) -> float:
    """User + system CPU so far of a process and of its children (nginx's workers)."""
    return cpu_seconds(pid) + sum(_cpu(f) for _, f in _processes() if int(f[1]) == pid)


def start_standin(kind: str, tmp: Path) -> tuple[subprocess.Popen[bytes], list[str]]:
    """The Twilio stand-in's process, and its base URL, account SID and auth token."""
    if kind == "nginx":
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        conf = tmp / "nginx.conf"
        conf.write_text(NGINX_CONF.format(dir=tmp, port=port, sid=ACCOUNT_SID))
        proc = subprocess.Popen(
            ["nginx", "-p", str(tmp), "-c", str(conf), "-g", "daemon off;"],
            stdin=subprocess.DEVNULL,
        )
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.1).close()
                break
            except OSError:
                time.sleep(0.05)
        return proc, [f"http://127.0.0.1:{port}", ACCOUNT_SID, "bench-token"]
    proc = subprocess.Popen(
        [sys.executable, "-c", FAKE],
        cwd=REPO_ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": str(REPO_ROOT)},
    )
    assert proc.stdout is not None
    return proc, proc.stdout.readline().decode().split()


def worker_env(args: argparse.Namespace, fake: list[str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KENGELE_")}
    values = {
        "database_url": args.database_url,
        "auto_migrate": "false",
        "sms_provider": "twilio" if args.channel == "twilio" else "console",
        "twilio_api_base": fake[0] if fake else "",
        "twilio_account_sid": fake[1] if fake else "",
        "twilio_auth_token": fake[2] if fake else "",
        "twilio_from": "+243800000000",
        "sms_rate_per_second": 100_000,
        "sms_burst": 100_000,
        "log_level": "WARNING",
    }
    env.update({f"KENGELE_{k.upper()}": str(v) for k, v in values.items()})
    env["PYTHONPATH"] = str(REPO_ROOT)
    return env


async def prepare(settings: Settings, channel: str) -> None:
    engine = create_engine(settings)
    await upgrade(engine)
    maker = create_sessionmaker(engine)
    async with unit_of_work(maker) as session:
        await seed_default_policies(session)
        await session.execute(delete(DeliveryAttempt))
        await session.execute(delete(Delivery))
        await session.execute(delete(SenderRate))
        if channel == "console":
            await session.execute(delete(Channel).where(Channel.name == "bench-console"))
            session.add(
                Channel(
                    name="bench-console", kind="console", rate_per_second=100_000, burst=100_000
                )
            )
    await engine.dispose()


# Transactions committed in the database per SMS, per round (this script's polls included).
per_sms: list[float] = []


async def commits(maker: async_sessionmaker[AsyncSession]) -> int:
    """Transactions committed in this database so far (PostgreSQL's statistics)."""
    async with maker() as session:
        stmt = text("SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()")
        return int(await session.scalar(stmt) or 0)


async def insert_and_wait(settings: Settings, n: int, via: str | None) -> float:
    """Write `n` due SMS in one transaction; seconds until none is pending or sending."""
    engine = create_engine(settings)
    maker = create_sessionmaker(engine)
    now = utcnow()
    sender = via or settings.twilio_from
    async with unit_of_work(maker) as session:
        session.add_all(
            Delivery(
                channel=CHANNEL_SMS,
                purpose="bench",
                status=PENDING,
                recipient=f"+2438100{i:05d}",
                sender=sender,
                route=[via] if via else [],
                via=via,
                body=f"bench {i}",
                due_at=now,
                max_attempts=8,
            )
            for i in range(n)
        )
        await session.flush()
        await mark_work(session)
    started = time.perf_counter()
    commits_before = await commits(maker)
    while True:
        async with maker() as session:
            # Whether any is left, through the index on (status, due_at): a count would read
            # every row, and its CPU would be taken from the workers it measures.
            left = await session.scalar(
                select(Delivery.id).where(Delivery.status.in_((PENDING, SENDING))).limit(1)
            )
        if not left:
            break
        await asyncio.sleep(0.02)
    took = time.perf_counter() - started
    per_sms.append((await commits(maker) - commits_before) / n)
    async with maker() as session:
        sent = await session.scalar(
            select(func.count()).where(Delivery.sent_at.is_not(None), Delivery.purpose == "bench")
        )
        attempts = await session.scalar(select(func.count()).select_from(DeliveryAttempt))
    await engine.dispose()
    if sent != n or attempts != n:
        raise SystemExit(f"expected {n} sent once each, got {sent} sent and {attempts} attempts")
    return took


def start_workers(count: int, env: dict[str, str], logdir: Path) -> list[subprocess.Popen[bytes]]:
    procs = []
    for i in range(count):
        with (logdir / f"worker-{count}-{i}.log").open("wb") as log:
            procs.append(
                subprocess.Popen(
                    [sys.executable, "-m", "app.cli", "worker"],
                    env=env,
                    cwd=REPO_ROOT,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                )
            )
    return procs


def stop(procs: list[subprocess.Popen[bytes]]) -> None:
    for proc in procs:
        proc.terminate()
    for proc in procs:
        proc.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--n", type=int, default=3000, help="SMS per round")
    parser.add_argument(
        "--workers",
        default="1,2",
        help="worker counts, one round each (1,2,1,2,1,2: three pairs, each two-worker round "
        "set beside the one-worker round before it)",
    )
    parser.add_argument("--channel", choices=("twilio", "console"), default="twilio")
    parser.add_argument("--settle", type=float, default=3.0, help="seconds to let workers start")
    parser.add_argument(
        "--standin", choices=("python", "nginx"), default="python", help="the Twilio stand-in"
    )
    args = parser.parse_args()
    settings = Settings(database_url=args.database_url)
    via = "bench-console" if args.channel == "console" else "twilio"
    fake_proc = None
    fake: list[str] = []
    standin_dir = tempfile.TemporaryDirectory(prefix="bench-standin-")
    if args.channel == "twilio":
        fake_proc, fake = start_standin(args.standin, Path(standin_dir.name))
    env = worker_env(args, fake)
    results: list[tuple[int, float, float, float, float]] = []
    try:
        with tempfile.TemporaryDirectory(prefix="bench-outbox-") as tmp:
            for count in [int(c) for c in args.workers.split(",")]:
                asyncio.run(prepare(settings, args.channel))
                procs = start_workers(count, env, Path(tmp))
                time.sleep(args.settle)
                before = sum(cpu_seconds(p.pid) for p in procs)
                others = _others(fake_proc)
                took = asyncio.run(insert_and_wait(settings, args.n, via))
                cpu = sum(cpu_seconds(p.pid) for p in procs) - before
                standin, database = (b - a for a, b in zip(others, _others(fake_proc), strict=True))
                stop(procs)
                per = 1000 / args.n
                results.append((count, args.n / took, cpu * per, standin * per, database * per))
    finally:
        if fake_proc is not None:
            fake_proc.terminate()
            fake_proc.wait(timeout=10)
        standin_dir.cleanup()
    which = f", {args.standin} stand-in" if args.channel == "twilio" else ""
    print(f"channel {args.channel}{which}, {args.n} SMS per round, {os.cpu_count()} CPUs")
    print(
        "workers   SMS/s   worker CPU ms/SMS   commits/SMS   vs one"
        "   stand-in ms/SMS   PostgreSQL ms/SMS   cores busy"
    )
    rates = [(count, rate) for count, rate, *_ in results]
    for i, ((count, rate, cpu_ms, standin, database), commits_per) in enumerate(
        zip(results, per_sms, strict=True)
    ):
        busy = rate * (cpu_ms + standin + database) / 1000
        base = one_worker_beside(rates, i)
        versus = f"{rate / base:>8.2f}x" if base else f"{'-':>9}"
        print(
            f"{count:>7} {rate:>7.0f} {cpu_ms:>19.2f} {commits_per:>13.2f} {versus}"
            f" {standin:>17.2f} {database:>19.2f} {busy:>12.2f}"
        )
    pairs = sorted(
        rate / base
        for i, (count, rate) in enumerate(rates)
        if count == 2 and (base := one_worker_beside(rates, i))
    )
    if pairs:
        print(
            f"two workers / one, each round next to the one-worker round before it (or after "
            f"it): {', '.join(f'{r:.2f}x' for r in pairs)}; median {statistics.median(pairs):.2f}x"
        )


def one_worker_beside(rates: list[tuple[int, float]], i: int) -> float:
    """The rate a round is set beside: a one-worker round's own; for another, that of the
    one-worker round just before it (or just after it, for a first round). The machine's
    speed drifts over minutes, so each round is set beside its neighbour, not the first."""
    if rates[i][0] == 1:
        return rates[i][1]
    for j in (i - 1, i + 1):
        if 0 <= j < len(rates) and rates[j][0] == 1:
            return rates[j][1]
    return 0.0


def _others(fake: subprocess.Popen[bytes] | None) -> tuple[float, float]:
    """CPU seconds so far of the Twilio stand-in's process and of PostgreSQL's processes."""
    return (family_cpu_seconds(fake.pid) if fake is not None else 0.0), postgres_cpu_seconds()


if __name__ == "__main__":
    main()
