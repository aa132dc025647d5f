"""The floor of a rewrite against the driver: what a webhook would cost with no ORM at all.

    createdb -h 127.0.0.1 -U postgres kengele_bench_floor
    python bench/driver_floor.py --database-url postgresql://postgres@127.0.0.1/kengele_bench_floor

Issue 12 asks for at most 3 ms of gateway CPU per webhook. Before anyone rewrites the
pipeline against asyncpg to get there, this measures what such a rewrite could reach at
best, side by side in one process and one run:

1. The gateway, in process, as `bench/inbound_cpu.py` runs it (its lifespan, demo data,
   signed forms through httpx's ASGI transport), with every statement it sends recorded as
   the driver received it: the SQL, its parameters already encoded (encrypted, JSON), and
   whether it ran in autocommit or inside the webhook's transaction.
2. The same statements replayed through asyncpg alone (its prepared-statement cache, one
   transaction per webhook as the gateway had, BEGIN and COMMIT included), into a copy of
   the database taken before step 1: the same rows are found, locked and written. A rewrite
   needs at least these round trips' client work (or fewer statements, which this does not
   guess at).
3. The work a rewrite keeps whatever it is written in, recorded during step 1 and run again
   with the same arguments: the Twilio signature check, triage, the encryption and lookup
   hashes of numbers and texts, and the audit chain's digests.

It prints the gateway's CPU per webhook, the replay's, the kept work's, and their floor:
the bare route (harness and FastAPI), plus the replay, plus the kept work. With
`--instructions` the same under callgrind (bench/callgrind.py): instructions instead of
seconds, which repeat on a busy machine. PostgreSQL only (the copy is `CREATE DATABASE ...
TEMPLATE`); the database named is emptied first, and the copy is dropped at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import re
import sys
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeVar

import asyncpg
import httpx
from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.engine.interfaces import ExecuteStyle

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import app.alerts.chain as chain_module
import app.api.inbound as inbound_route
import app.flows.inbound as pipeline_module
from app.kit.config import normalise_database_url
from app.kit.crypto import Keyring
from app.main import create_app
from bench.callgrind import LIBRARY, Marks, rerun
from bench.inbound_cpu import (
    PATH,
    PUBLIC_URL,
    bare_app,
    bench_settings,
    drive,
    empty,
    postgres_cpu_seconds,
    signed_requests,
    workload_arguments,
)

T = TypeVar("T")


@dataclass
class Statement:
    sql: str
    parameters: Any
    many: bool
    autocommit: bool


@dataclass
class Recorder:
    """The statements of each webhook, and the kept work's calls, while `on`."""

    on: bool = False
    webhooks: list[list[Statement]] = field(default_factory=list)
    calls: list[tuple[Callable[..., Any], tuple[Any, ...], dict[str, Any]]] = field(
        default_factory=list
    )

    def statement(
        self, conn: Any, _cursor: Any, sql: str, parameters: Any, context: Any, many: bool
    ) -> None:
        if not self.on:
            return
        # Rows inserted together ("insertmanyvalues") come here as one statement with all
        # their parameters, flagged as many: the driver runs them as one.
        many = many and context.execute_style is ExecuteStyle.EXECUTEMANY
        autocommit = conn.get_execution_options().get("isolation_level") == "AUTOCOMMIT"
        self.webhooks[-1].append(Statement(sql, parameters, many, autocommit))

    def keep(self, owner: Any, name: str) -> None:
        """Record the calls of owner.name (a function or method the pipeline calls)."""
        function = getattr(owner, name)
        recorder = self

        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if recorder.on:
                recorder.calls.append((function, args, kwargs))
            return function(*args, **kwargs)

        setattr(owner, name, wrapped)


async def post_each(
    client: httpx.AsyncClient, requests: list[tuple[dict[str, str], str]], recorder: Recorder
) -> float:
    """CPU seconds of posting these one at a time, a new statement list for each."""
    cpu = time.process_time()
    for form, signature in requests:
        recorder.webhooks.append([])
        response = await client.post(PATH, data=form, headers={"X-Twilio-Signature": signature})
        if response.status_code != 200:
            raise SystemExit(f"webhook answered {response.status_code}: {response.text[:200]}")
    return time.process_time() - cpu


async def timed_replay(
    dsn: str,
    items: Sequence[T],
    run_one: Callable[[asyncpg.Connection, T], Awaitable[int]],
    marks: Marks,
    label: str,
) -> tuple[float, float, int, int]:
    """(CPU seconds, PostgreSQL's CPU seconds, round trips, failed items) of `run_one` over
    `items` on one connection, marked `label` for callgrind. PostgreSQL's share is read
    before the connection closes: its backend's CPU leaves /proc with it. A statement cache
    warms on the first items, as a gateway's pool does (a first pass would write twice)."""
    conn = await asyncpg.connect(dsn)
    failed = trips = 0
    try:
        database = postgres_cpu_seconds()
        marks.start()
        cpu = time.process_time()
        for item in items:
            try:
                trips += await run_one(conn, item)
            except asyncpg.PostgresError as exc:
                failed += 1
                if conn.is_in_transaction():
                    await conn.execute("ROLLBACK")
                if failed <= 3:
                    print(f"{label}: a webhook failed to replay: {type(exc).__name__}: {exc}")
        cpu = time.process_time() - cpu
        marks.stop(label)
        return cpu, postgres_cpu_seconds() - database, trips, failed
    finally:
        await conn.close()


async def replay_webhook(conn: asyncpg.Connection, webhook: list[Statement]) -> int:
    """A webhook's statements as the gateway ran them: those in autocommit alone, the others
    in one transaction (BEGIN and COMMIT included); returns how many statements."""
    for statement in webhook:
        if statement.autocommit:
            await conn.fetch(statement.sql, *statement.parameters)
    async with conn.transaction():
        for statement in webhook:
            if statement.autocommit:
                continue
            if statement.many:
                await conn.executemany(statement.sql, statement.parameters)
            else:
                await conn.fetch(statement.sql, *statement.parameters)
    return len(webhook)


_PLACEHOLDER = re.compile(r"\$(\d+)")


def literal(value: Any) -> str:
    """A parameter as an SQL literal (for `one_trip`: the statements of a transaction sent as
    one simple query)."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int | float | Decimal):
        return str(value)
    if isinstance(value, datetime | date):
        return f"'{value.isoformat()}'"
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    if isinstance(value, list | tuple):
        return "ARRAY[" + ", ".join(literal(v) for v in value) + "]" if value else "'{}'"
    raise TypeError(f"no literal for {type(value).__name__}")


def inlined(statement: Statement) -> list[str]:
    rows = statement.parameters if statement.many else [statement.parameters]
    return [
        _PLACEHOLDER.sub(lambda m, row=row: literal(row[int(m.group(1)) - 1]), statement.sql)
        for row in rows
    ]


Script = tuple[list[Statement], str]


def one_trip_scripts(webhooks: list[list[Statement]]) -> list[Script]:
    """Each webhook as `one_trip` sends it: its autocommit statements, and its
    transaction as one simple query (BEGIN, its statements with their parameters written
    in, COMMIT). Built before the replay is measured."""
    scripts = []
    for webhook in webhooks:
        alone = [s for s in webhook if s.autocommit]
        together = [sql for s in webhook if not s.autocommit for sql in inlined(s)]
        scripts.append((alone, "BEGIN;\n" + ";\n".join(together) + ";\nCOMMIT;"))
    return scripts


async def one_trip(conn: asyncpg.Connection, script: Script) -> int:
    """A webhook's transaction in one round trip, as a server-side function per message
    would take: the client's share of such a design. The server parses and plans each
    statement every time (a function's plans would be cached): its CPU is an upper bound
    here. The autocommit statements (the raw message's INSERT) go as before, one trip each.
    Returns the round trips."""
    alone, transaction = script
    for statement in alone:
        await conn.fetch(statement.sql, *statement.parameters)
    await conn.execute(transaction)
    return len(alone) + 1


def run_kept(calls: list[tuple[Callable[..., Any], tuple[Any, ...], dict[str, Any]]]) -> float:
    cpu = time.process_time()
    for function, args, kwargs in calls:
        function(*args, **kwargs)
    return time.process_time() - cpu


async def admin(url: str, sql: str) -> None:
    """Run a statement on the server's `postgres` database (CREATE or DROP DATABASE)."""
    conn = await asyncpg.connect(
        str(make_url(url).set(drivername="postgresql", database="postgres"))
    )
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    workload_arguments(parser, 300)
    parser.add_argument(
        "--instructions",
        action="store_true",
        help="run again under callgrind: instructions instead of seconds (slow)",
    )
    args = parser.parse_args()
    if not args.database_url or not args.database_url.startswith("postgres"):
        parser.error("give --database-url of a PostgreSQL database (it is emptied)")
    return args


async def main(args: argparse.Namespace) -> None:
    if args.instructions:
        counted = rerun([a for a in sys.argv if a != "--instructions"])
        print(f"instructions (callgrind), M per webhook over {args.n}:")
        figures = {label: count / args.n / 1e6 for label, count in counted.items()}
        for label, value in figures.items():
            print(f"  {label:8s} {value:8.3f}")
        if {"bare", "pipeline", "replay", "kept"} <= figures.keys():
            gateway = figures["pipeline"] - figures["bare"]
            floor = figures["replay"] + figures["kept"]
            print(f"  gateway  {gateway:8.3f} (pipeline - bare)")
            print(f"  floor    {floor:8.3f} (replay + kept), {floor / gateway:.2f} of the gateway")
            if "one-trip" in figures:
                trip = figures["one-trip"] + figures["kept"]
                print(
                    f"  one trip {trip:8.3f} (one-trip + kept), {trip / gateway:.2f} of the gateway"
                )
        return
    marks = Marks()
    url = normalise_database_url(args.database_url)
    base = make_url(url).database
    copies = {"replay": f"{base}_floor", "trip": f"{base}_trip"}
    dsn = {
        k: str(make_url(url).set(drivername="postgresql", database=v)) for k, v in copies.items()
    }
    await empty(url)
    settings = bench_settings(url, args.window_hours)
    logging.disable(logging.WARNING)
    run_id = os.urandom(4).hex()
    requests = signed_requests(args.warmup + args.n, run_id, critical=args.critical)
    warm, measured = requests[: args.warmup], requests[args.warmup :]

    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=bare_app()), base_url=PUBLIC_URL
    ) as client:
        await drive(client, warm)
        marks.start()
        bare_cpu, _ = await drive(client, measured)
        marks.stop("bare")

    recorder = Recorder()
    recorder.keep(inbound_route, "is_valid_signature")
    recorder.keep(pipeline_module, "triage_message")
    recorder.keep(chain_module, "event_digest")
    for method in ("encrypt", "decrypt", "lookup_hash"):
        recorder.keep(Keyring, method)

    # The warm-up in one life of the app, then the copy (no connection may be open to the
    # database it copies), then the measured webhooks in a second life. The second start
    # writes nothing the replay depends on: a replayed webhook that failed would be counted.
    app = create_app(settings)
    app.state.serving = True
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=PUBLIC_URL) as client,
    ):
        await drive(client, warm)
    for name in copies.values():
        await admin(url, f'DROP DATABASE IF EXISTS "{name}"')
        await admin(url, f'CREATE DATABASE "{name}" TEMPLATE "{base}"')

    app = create_app(settings)
    app.state.serving = True
    try:
        async with app.router.lifespan_context(app):
            engine = app.state.engine.sync_engine
            event.listen(engine, "before_cursor_execute", recorder.statement)
            async with httpx.AsyncClient(
                transport=httpx.ASGITransport(app=app), base_url=PUBLIC_URL
            ) as client:
                recorder.on = True
                marks.start()
                gateway_db = postgres_cpu_seconds()
                pipeline_cpu = await post_each(client, measured, recorder)
                gateway_db = postgres_cpu_seconds() - gateway_db
                marks.stop("pipeline")
                recorder.on = False
            event.remove(engine, "before_cursor_execute", recorder.statement)

        replay_cpu, replay_db, statements, failed = await timed_replay(
            dsn["replay"], recorder.webhooks, replay_webhook, marks, "replay"
        )
        scripts = one_trip_scripts(recorder.webhooks)
        trip_cpu, trip_db, trips, trip_failed = await timed_replay(
            dsn["trip"], scripts, one_trip, marks, "one-trip"
        )
        marks.start()
        kept_cpu = run_kept(recorder.calls)
        marks.stop("kept")
    finally:
        for name in copies.values():
            await admin(url, f'DROP DATABASE IF EXISTS "{name}"')

    if os.environ.get(LIBRARY):
        return
    n = args.n
    ms = 1000 / n
    kinds: dict[str, int] = {}
    for function, _, _ in recorder.calls:
        kinds[function.__qualname__] = kinds.get(function.__qualname__, 0) + 1
    gateway = pipeline_cpu - bare_cpu
    floor = bare_cpu + replay_cpu + kept_cpu
    print(f"PostgreSQL, {n} webhooks one at a time after {args.warmup} to warm up")
    print(f"bare route              CPU {bare_cpu * ms:6.2f} ms/request (harness + FastAPI)")
    print(f"gateway (pipeline-bare) CPU {gateway * ms:6.2f} ms/webhook")
    print(
        f"driver replay           CPU {replay_cpu * ms:6.2f} ms/webhook "
        f"({statements / n:.1f} statements; {failed} webhooks failed to replay)"
    )
    print(
        f"one trip per webhook    CPU {trip_cpu * ms:6.2f} ms/webhook "
        f"({trips / n:.1f} round trips; {trip_failed} webhooks failed to replay)"
    )
    print(f"kept work               CPU {kept_cpu * ms:6.2f} ms/webhook")
    for name, count in sorted(kinds.items()):
        print(f"    {name:28s} {count / n:5.2f} calls/webhook")
    print(
        f"floor of a driver rewrite   {(replay_cpu + kept_cpu) * ms:6.2f} ms/webhook "
        f"(replay + kept; {floor * ms:.2f} with the bare route)"
    )
    print(
        f"with one round trip         {(trip_cpu + kept_cpu) * ms:6.2f} ms/webhook "
        f"(one trip + kept; {(bare_cpu + trip_cpu + kept_cpu) * ms:.2f} with the bare route)"
    )
    print(
        f"PostgreSQL server CPU   gateway {gateway_db * ms:5.2f}, "
        f"replay {replay_db * ms:5.2f}, one trip {trip_db * ms:5.2f} ms/webhook"
    )


if __name__ == "__main__":
    arguments_ = arguments()
    try:
        import uvloop  # the loop `kengele serve` runs on
    except ImportError:
        asyncio.run(main(arguments_))
    else:
        uvloop.run(main(arguments_))
