"""In-process harness: CPU and SQL statements per signed inbound-SMS webhook.

    createdb -h 127.0.0.1 -U postgres kengele_bench_cpu
    python bench/inbound_cpu.py --database-url postgresql://postgres@127.0.0.1/kengele_bench_cpu
    python bench/inbound_cpu.py                       # a temporary SQLite file

The gateway app runs in this process (its lifespan, demo data, no background worker), driven
through httpx's ASGI transport one request at a time, with forms signed in advance. Prints the
process CPU per webhook (time.process_time, the client's share included), the same figure for
a bare FastAPI route parsing the same form and answering the same TwiML (the harness's own
cost), their difference (the gateway's), and SQL statements per webhook by kind, counted with
an SQLAlchemy event listener, and on PostgreSQL the CPU of the database's server processes
per webhook (from /proc: a server on this machine). `--profile` prints the top of a cProfile
of the gateway's run. `--history N` (PostgreSQL) first writes N alerts of the last 80 days by
the demo's focal points, a tenth of them confirmed and one in 33 a false alarm, in closed
incidents with three events each: what a database that has served for a while holds.
`--instructions` runs the same again under valgrind's callgrind and prints the instructions
per request of the bare route and of the gateway (bench/callgrind.py): a figure that repeats
to within a fraction of a percent on a busy machine, for before/after comparisons.
`--queued` runs the gateway with KENGELE_INBOUND_MODE=queued, as `kengele serve` does with
its loops: each webhook stores and answers (the figures above are then the answer's), and the
messages are then processed as the background loop processes them (Pipeline.reprocess_due),
measured apart: CPU and statements per message of the processing, and of the whole.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import cProfile
import os
import pstats
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI, Request
from fastapi.responses import Response
from sqlalchemy import event, text
from twilio.request_validator import RequestValidator

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.kit.config import Settings, normalise_database_url
from app.kit.db import create_engine
from app.kit.migrate import upgrade
from app.main import create_app
from app.models import Base
from app.providers.twilio import message_twiml
from bench.callgrind import LIBRARY, Marks, rerun

BODIES = [
    "Attaque en cours a {place}, les ADF ont tue 3 personnes",
    "Watu wenye silaha wameonekana karibu na {place}",
    "Bcp de coups de feu entendus vers {place} maintenant",
    "wamechoma nyumba kumi huko {place}",
    "Pillage des boutiques a {place} hier soir",
    "Bonjour, test",
]
CRITICAL = "Attaque en cours a {place}, les ADF ont tue des gens"
PLACES = ["Mavivi", "Oicha", "Eringeti", "Mbau", "Kamango", "Kasindi", "Beni", "Rutshuru"]
REPORTERS = [f"+2438100001{n:02d}" for n in range(1, 21)] + ["+243899990001", "+243899990002"]
TOKEN = "bench-token-0123456789abcdef"
PUBLIC_URL = "http://127.0.0.1:8000"
PATH = "/webhooks/twilio/sms"


def postgres_cpu_seconds() -> float:
    """utime + stime of the PostgreSQL server processes on this machine (its backends, WAL
    writer, checkpointer...), and of those that ended (the postmaster's reaped children: a
    connection closed during a run took its CPU with it): the database's share of a run."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if (entry / "comm").read_text().strip() not in ("postgres", "postmaster"):
                continue
            fields = Path(f"/proc/{entry.name}/stat").read_text().rsplit(")", 1)[1].split()
        except (FileNotFoundError, ProcessLookupError):
            continue
        total += sum(int(f) for f in fields[11:15])  # utime, stime, cutime, cstime
    return total / tick


HISTORY = """
INSERT INTO incidents (category, severity, severity_rank, status, lat, lon, first_at, last_at,
    report_count, reporter_count, created_at, updated_at)
SELECT 'ATTACK', 'high', 2, 'closed', 0.5, 29.4, t, t, 20, 5, t, t
FROM (SELECT now() - (1 + random() * 79) * interval '1 day' AS t
      FROM generate_series(1, greatest(:n / 20, 1))) AS s;
INSERT INTO alerts (ref, kind, status, reporter_id, from_phone, from_phone_hash, body, language,
    category, severity, severity_rank, score, cap_urgency, cap_severity, cap_certainty, reasons,
    location_source, location_confidence, incident_id, message_count, received_at,
    last_message_at, created_at, updated_at, verified_result)
SELECT 'OLD-' || g, 'sms', CASE WHEN g % 33 = 1 THEN 'false_alarm' ELSE 'closed' END,
    r.ids[1 + g % cardinality(r.ids)], 'x', md5(g::text), 'x', 'fr', 'ATTACK', 'high', 2, 50,
    'Immediate', 'Severe', 'Likely', '[]', 'gazetteer', 0.9,
    i.first + g % greatest(:n / 20, 1), 1, t, t, t, t,
    CASE WHEN g % 10 = 0 THEN 'confirmed' END
FROM (SELECT g, now() - (1 + random() * 79) * interval '1 day' AS t
      FROM generate_series(1, :n) AS g) AS s,
    (SELECT array_agg(id ORDER BY id) AS ids FROM reporters) AS r,
    (SELECT min(id) AS first FROM incidents) AS i;
INSERT INTO alert_events (alert_id, at, actor, action, detail, prev_hash, hash)
SELECT a.id, a.received_at, 'system', 'old', '{}', 'x', md5(a.id::text || k)
FROM alerts AS a, generate_series(1, 3) AS k WHERE a.ref LIKE 'OLD-%' ORDER BY random();
"""


async def wal_position(engine: Any) -> int:
    """PostgreSQL's write-ahead log position, in bytes (0 on SQLite): what the database wrote
    for the run, rows and their indexes, a figure that repeats where CPU seconds do not."""
    if engine.dialect.name != "postgresql":
        return 0
    async with engine.connect() as conn:
        lsn = await conn.scalar(text("SELECT pg_current_wal_insert_lsn() - '0/0'::pg_lsn"))
    return int(lsn)


async def write_history(engine: Any, n: int) -> None:
    """N old alerts (HISTORY), then the statistics a server that ran for a while has."""
    async with engine.begin() as conn:
        for statement in HISTORY.split(";"):
            if statement.strip():
                await conn.execute(text(statement.replace(":n", str(int(n)))))
    async with engine.connect() as conn:
        conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
        await conn.execute(text("VACUUM ANALYZE"))


def signed_requests(
    n: int, run_id: str, start: int = 0, *, critical: bool = False
) -> list[tuple[dict[str, str], str]]:
    """n distinct SMS forms (new MessageSid, unique body) and their signatures; `critical`:
    each an attack with deaths (paged at once)."""
    validator = RequestValidator(TOKEN)
    out = []
    for i in range(start, start + n):
        body = CRITICAL if critical else BODIES[i % len(BODIES)]
        form = {
            "MessageSid": f"SM{run_id}{i:024x}",
            "AccountSid": "AC" + "0" * 32,
            "From": REPORTERS[i % len(REPORTERS)],
            "To": "+243800000000",
            "Body": body.format(place=PLACES[i % len(PLACES)]) + f" #{i}",
        }
        out.append((form, validator.compute_signature(PUBLIC_URL + PATH, form)))
    return out


def bare_app() -> FastAPI:
    """A bare route: the same form parsing and TwiML answer, nothing else."""
    app = FastAPI()

    @app.post(PATH)
    async def sms(request: Request) -> Response:
        form = await request.form()
        params = {k: v for k, v in form.multi_items() if isinstance(v, str)}
        return Response(
            message_twiml(f"received {params.get('MessageSid')}"), media_type="application/xml"
        )

    return app


async def drive(
    client: httpx.AsyncClient, requests: list[tuple[dict[str, str], str]]
) -> tuple[float, float]:
    """(CPU seconds, wall seconds) of posting these, one at a time; every answer must be 200."""
    cpu, wall = time.process_time(), time.perf_counter()
    for form, signature in requests:
        response = await client.post(PATH, data=form, headers={"X-Twilio-Signature": signature})
        if response.status_code != 200:
            raise SystemExit(f"webhook answered {response.status_code}: {response.text[:200]}")
    return time.process_time() - cpu, time.perf_counter() - wall


async def empty(url: str) -> None:
    engine = create_engine(Settings(database_url=url))
    await upgrade(engine)
    async with engine.begin() as conn:
        names = [t.name for t in reversed(Base.metadata.sorted_tables)]
        if conn.dialect.name == "postgresql":
            await conn.execute(text(f"TRUNCATE {', '.join(names)} RESTART IDENTITY CASCADE"))
        else:
            for name in names:
                await conn.execute(text(f"DELETE FROM {name}"))
    await engine.dispose()


def bench_settings(url: str, window_hours: float | None, *, queued: bool = False) -> Settings:
    """The gateway as the bench runs it: demo data, console SMS, no background worker;
    `window_hours`: the corroboration window, when given."""
    settings = Settings(
        database_url=url,
        public_url=PUBLIC_URL,
        twilio_auth_token=TOKEN,  # type: ignore[arg-type]
        sms_provider="console",
        demo=True,
        run_worker=False,
        inbound_mode="queued" if queued else "inline",
    )
    if window_hours is None:
        return settings
    return settings.model_copy(update={"corroboration_window_hours": window_hours})


def workload_arguments(parser: argparse.ArgumentParser, n: int) -> None:
    """The database, how many webhooks, and which reports (shared with driver_floor.py)."""
    parser.add_argument("--database-url", default=os.environ.get("KENGELE_DATABASE_URL"))
    parser.add_argument("--n", type=int, default=n, help="measured webhooks")
    parser.add_argument("--warmup", type=int, default=100)
    parser.add_argument(
        "--critical", action="store_true", help="every report an attack with deaths, paged"
    )
    parser.add_argument(
        "--window-hours",
        type=float,
        help="corroboration window (1e-6: every report its own incident, paged on its own)",
    )


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    workload_arguments(parser, 500)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument(
        "--queued", action="store_true", help="KENGELE_INBOUND_MODE=queued (see above)"
    )
    parser.add_argument("--trace", action="store_true", help="print the SQL of one more webhook")
    parser.add_argument(
        "--history", type=int, default=0, help="PostgreSQL: old alerts written before the run"
    )
    parser.add_argument(
        "--instructions",
        action="store_true",
        help="run again under callgrind: instructions per request (slow: about 15x)",
    )
    parser.add_argument(
        "--phase",
        help="with --instructions: count only inside this function, e.g. "
        "app.kit.hooks:_run_before_commit or app.flows.inbound:Pipeline.accept",
    )
    parser.add_argument(
        "--loop",
        choices=("uvloop", "asyncio"),
        default="uvloop",
        help="the event loop: uvloop, the one `kengele serve` runs on (uvicorn takes it when "
        "it is installed, as uvicorn[standard] does), or asyncio's own",
    )
    args = parser.parse_args()
    if args.phase and not args.instructions and not os.environ.get(LIBRARY):
        parser.error("--phase counts instructions: give --instructions too")
    return args


async def main(args: argparse.Namespace) -> None:
    if args.instructions:
        argv = [a for a in sys.argv if a != "--instructions"]
        counted = rerun(argv)
        if args.phase:
            inside = counted.get("pipeline", 0) / args.n / 1e6
            print(f"instructions (callgrind) inside {args.phase}: {inside:.3f} M/webhook")
            return
        print(f"instructions (callgrind), {args.n} requests:")
        for label, count in counted.items():
            print(f"  {label:8s} {count / args.n / 1e6:8.3f} M/request")
        if {"bare", "pipeline"} <= counted.keys():
            gateway = (counted["pipeline"] - counted["bare"]) / args.n / 1e6
            print(f"  gateway  {gateway:8.3f} M/webhook (pipeline - bare)")
        return
    marks = Marks(args.phase)
    tmp = None
    url = args.database_url
    if not url:
        tmp = tempfile.TemporaryDirectory(prefix="kengele-bench-")
        url = f"sqlite+aiosqlite:///{tmp.name}/bench.db"
    url = normalise_database_url(url)
    await empty(url)
    settings = bench_settings(url, args.window_hours, queued=args.queued)
    import logging

    logging.disable(logging.WARNING)
    requests = signed_requests(args.warmup + args.n, os.urandom(4).hex(), critical=args.critical)
    warm, measured = requests[: args.warmup], requests[args.warmup :]

    bare = bare_app()
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=bare), base_url=PUBLIC_URL
    ) as client:
        await drive(client, warm)
        marks.start()
        bare_cpu, _ = await drive(client, measured)
        marks.stop("bare")

    app = create_app(settings)
    app.state.serving = True  # as `kengele serve` runs it (objects of the start frozen)
    async with app.router.lifespan_context(app):
        counts: collections.Counter[str] = collections.Counter()
        processing: collections.Counter[str] = collections.Counter()
        pipeline = app.state.runtime.pipeline
        # As in `serve`, whose loops run in the process: a webhook wakes them, no NOTIFY.
        pipeline.processes_here = True

        async def process_all() -> tuple[float, float]:
            """(CPU seconds, wall seconds) of processing every waiting message, as the loop."""
            cpu, wall = time.process_time(), time.perf_counter()
            while await pipeline.reprocess_due(settings.worker_batch):
                pass
            return time.process_time() - cpu, time.perf_counter() - wall

        def count(_conn: Any, _cur: Any, statement: str, *_: Any) -> None:
            counts[statement.lstrip().split(None, 1)[0].upper()] += 1

        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url=PUBLIC_URL
        ) as client:
            if args.history:
                await write_history(app.state.engine, args.history)
            await drive(client, warm)
            if args.queued:
                await process_all()  # the warm-up's messages, and the processing warmed too
            event.listen(app.state.engine.sync_engine, "before_cursor_execute", count)
            database_cpu = postgres_cpu_seconds()
            wal = await wal_position(app.state.engine)
            profiler = cProfile.Profile() if args.profile else None
            if profiler:
                profiler.enable()
            marks.start()
            cpu, wall = await drive(client, measured)
            marks.stop("pipeline")
            database_cpu = postgres_cpu_seconds() - database_cpu
            wal = await wal_position(app.state.engine) - wal
            if profiler:
                profiler.disable()
            event.remove(app.state.engine.sync_engine, "before_cursor_execute", count)
            if args.queued:

                def count_processing(_conn: Any, _cur: Any, statement: str, *_: Any) -> None:
                    processing[statement.lstrip().split(None, 1)[0].upper()] += 1

                sync_engine = app.state.engine.sync_engine
                event.listen(sync_engine, "before_cursor_execute", count_processing)
                process_db = postgres_cpu_seconds()
                process_cpu, process_wall = await process_all()
                process_db = postgres_cpu_seconds() - process_db
                event.remove(sync_engine, "before_cursor_execute", count_processing)
            if args.trace:
                # The statements of the webhook with the most of them among 30 new ones.
                traced: list[list[str]] = []

                def trace(_conn: Any, _cur: Any, statement: str, *_: Any) -> None:
                    line = " ".join(statement.split())[:150]
                    if line.startswith("INSERT INTO inbound_messages"):
                        traced.append([])
                    traced[-1].append(line)

                event.listen(app.state.engine.sync_engine, "before_cursor_execute", trace)
                await drive(
                    client,
                    signed_requests(
                        30, os.urandom(4).hex(), args.warmup + args.n, critical=args.critical
                    ),
                )
                event.remove(app.state.engine.sync_engine, "before_cursor_execute", trace)
                paging = [
                    t for t in traced if any(s.startswith("INSERT INTO escalations") for s in t)
                ]
                longest = max(paging or traced, key=len)
                print("\n".join(f"{i:3d} {line}" for i, line in enumerate(longest, 1)))
    n = args.n
    dialect = url.split(":", 1)[0]
    print(f"database {dialect}, {n} webhooks one at a time after {args.warmup} to warm up")
    print(f"bare route          CPU {bare_cpu / n * 1000:6.2f} ms/request (harness + FastAPI)")
    print(
        f"pipeline            CPU {cpu / n * 1000:6.2f} ms/webhook, wall {wall / n * 1000:6.2f} ms"
    )
    print(f"gateway (difference) CPU {(cpu - bare_cpu) / n * 1000:6.2f} ms/webhook")
    total = sum(counts.values())
    kinds = ", ".join(f"{k} {v / n:.1f}" for k, v in counts.most_common())
    print(f"SQL statements      {total / n:.1f}/webhook ({kinds})")
    if args.queued:
        print("queued: the figures above are the webhook's answer; then, as the loop runs it:")
        print(
            f"processing          CPU {process_cpu / n * 1000:6.2f} ms/message, "
            f"wall {process_wall / n * 1000:6.2f} ms"
        )
        whole = (cpu - bare_cpu + process_cpu) / n * 1000
        print(f"gateway, whole      CPU {whole:6.2f} ms/message (answer + processing)")
        total = sum(processing.values())
        kinds = ", ".join(f"{k} {v / n:.1f}" for k, v in processing.most_common())
        print(f"SQL, processing     {total / n:.1f}/message ({kinds})")
        if dialect.startswith("postgresql"):
            print(f"PostgreSQL server   CPU {process_db / n * 1000:6.2f} ms/message, processing")
    if dialect.startswith("postgresql"):
        print(f"PostgreSQL server   CPU {database_cpu / n * 1000:6.2f} ms/webhook")
        print(f"PostgreSQL WAL      {wal / n / 1024:6.2f} kB/webhook (rows and their indexes)")
    if profiler:
        # BENCH_SORT: a pstats order (cumulative, tottime...); BENCH_TOP: how many lines.
        order = os.environ.get("BENCH_SORT", "cumulative")
        pstats.Stats(profiler).sort_stats(order).print_stats(int(os.environ.get("BENCH_TOP", 45)))
    if tmp is not None:
        tmp.cleanup()


if __name__ == "__main__":
    options = arguments()
    if options.loop == "uvloop":
        import uvloop

        uvloop.run(main(options))
    else:
        asyncio.run(main(options))
