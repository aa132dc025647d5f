"""Test fixtures: one migrated database per test process (SQLite by default, PostgreSQL when
KENGELE_TEST_DATABASE_URL names one), emptied before each test.

Under `pytest -n auto` each xdist worker is a process with its database of its own: a SQLite
file in its temporary directory, or on PostgreSQL the database `<base>_<worker>` (e.g.
kengele_ci_gw0), made afresh next to the base database at its start and dropped at its end. A
run without xdist uses the base database itself. Each process also has a data directory of its
own (XDG_DATA_HOME), so that no gateway keeps key files or serve.json in the user's.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import tempfile
import warnings
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import make_url, text
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from app.geo.service import GazetteerCache
from app.kit.config import Settings, normalise_database_url
from app.kit.db import create_engine, create_sessionmaker
from app.kit.migrate import upgrade
from app.models import Base
from tests.fakes.twilio_api import TwilioFake, twilio_fake
from tests.harness import workers
from tests.harness.gateway import running
from tests.harness.processes import Procs, kill_worker
from tests.support import PUBLIC_URL, TWILIO_TOKEN, make_key

# The xdist worker this process is ("gw0", "gw1", ...), or "main" without xdist.
WORKER = os.environ.get("PYTEST_XDIST_WORKER", "main")
BASE_DATABASE_URL = os.environ.get("KENGELE_TEST_DATABASE_URL", "")
ON_POSTGRESQL = BASE_DATABASE_URL.startswith(("postgresql", "postgres:"))


def pytest_configure(config: pytest.Config) -> None:
    """A data directory of this process's own (gateways started in it or by it inherit it)."""
    private = tempfile.mkdtemp(prefix=f"kengele-test-{WORKER}-")
    os.environ["XDG_DATA_HOME"] = private
    config.add_cleanup(lambda: shutil.rmtree(private, ignore_errors=True))


# --- what runs, and what a skip means ---------------------------------------------------------


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """On SQLite, the tests marked `postgresql` (what only PostgreSQL has: row locks, LISTEN/
    NOTIFY, a database connection to cut, several serving processes) are deselected, not
    skipped: a skip means that something the test needs is missing."""
    if ON_POSTGRESQL:
        return
    needs = [item for item in items if item.get_closest_marker("postgresql")]
    if needs:
        config.hook.pytest_deselected(items=needs)
        items[:] = [item for item in items if not item.get_closest_marker("postgresql")]


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_auto_num_workers(config: pytest.Config) -> int | None:
    """`-n auto` on PostgreSQL: one process per CPU, as many as the server's free connections
    allow (tests/harness/workers.py); on SQLite, xdist's own count (None)."""
    if not ON_POSTGRESQL:
        return None
    free = workers.free_connections(BASE_DATABASE_URL)
    if free is None:
        return None
    cpus = workers.cpus()
    count = workers.processes_for(cpus, free)
    if count < cpus:
        config.stash[_CAPPED] = (
            f"-n auto: {count} test process{'es' if count > 1 else ''}, not one per CPU "
            f"({cpus}): the server has {free} connections free, "
            f"{workers.CONNECTIONS_PER_PROCESS} per process"
        )
    return count


_CAPPED = pytest.StashKey[str]()


def pytest_report_header(config: pytest.Config) -> str | list[str]:
    if ON_POSTGRESQL:
        header = "database: PostgreSQL (KENGELE_TEST_DATABASE_URL), one per xdist worker"
        capped = config.stash.get(_CAPPED, None)
        return [header, capped] if capped else header
    return (
        "database: SQLite, a file per xdist worker; the tests marked postgresql are deselected "
        "(set KENGELE_TEST_DATABASE_URL to run them)"
    )


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    if not ON_POSTGRESQL and not hasattr(config, "workerinput"):
        terminalreporter.write_line(
            "SQLite run: the tests marked postgresql were deselected "
            "(they run with KENGELE_TEST_DATABASE_URL)"
        )


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    """In CI (CI=true) a skipped test fails: the data is in the repository and .ci/run installs
    the browser, so a skip there means something is missing that must not be."""
    report = yield
    if report.skipped and not hasattr(report, "wasxfail") and _in_ci():
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else report.longrepr
        report.outcome = "failed"
        report.longrepr = f"skipped in CI, where nothing may be missing: {reason}"
    return report


def _in_ci() -> bool:
    return os.environ.get("CI", "").lower() == "true"


# --- the database -----------------------------------------------------------------------------


async def _admin(url: str, *statements: str) -> None:
    """Run statements outside a transaction (CREATE and DROP DATABASE) on the database `url`."""
    engine = create_async_engine(url, isolation_level="AUTOCOMMIT")
    async with engine.connect() as conn:
        for statement in statements:
            await conn.execute(text(statement))
    await engine.dispose()


@pytest.fixture(scope="session")
def database_url() -> Iterator[str]:
    """The database of this test process, migrated to head once."""
    tmp: tempfile.TemporaryDirectory[str] | None = None
    own: str | None = None
    if ON_POSTGRESQL:
        url = normalise_database_url(BASE_DATABASE_URL)
        if WORKER != "main":
            base = make_url(url)
            own = f"{base.database}_{WORKER}"
            drop = f'DROP DATABASE IF EXISTS "{own}" WITH (FORCE)'
            asyncio.run(_admin(url, drop, f'CREATE DATABASE "{own}"'))
            url = base.set(database=own).render_as_string(hide_password=False)
    else:
        tmp = tempfile.TemporaryDirectory(prefix=f"kengele-test-{WORKER}-")
        url = f"sqlite+aiosqlite:///{tmp.name}/test.db"

    async def _migrate() -> None:
        engine = create_engine(Settings(database_url=url))
        await upgrade(engine)
        await engine.dispose()

    asyncio.run(_migrate())
    yield url
    if own is not None:
        asyncio.run(_admin(normalise_database_url(BASE_DATABASE_URL), drop))
    if tmp is not None:
        tmp.cleanup()


@pytest.fixture
def settings(database_url: str) -> Settings:
    """Settings of a test gateway: known Twilio token, console provider, receipts on."""
    return Settings(
        database_url=database_url,
        public_url=PUBLIC_URL,
        twilio_auth_token=TWILIO_TOKEN,  # type: ignore[arg-type]
        sms_provider="console",
        reprocess_interval_seconds=0.2,
        # A message its request is still handling is not the safety net's (it would send the
        # receipt by SMS, the request as TwiML): the same grace as in production, shorter.
        reprocess_grace_seconds=5.0,
    )


# Connections of this test process's database that an earlier test left inside a transaction
# (a task of its app stopped mid-query when its event loop went away): they hold their locks
# for as long as the process lives, and the TRUNCATE below would wait for them forever.
_LEFT_IN_A_TRANSACTION = text(
    "SELECT pid, left(query, 200) FROM pg_stat_activity WHERE datname = current_database()"
    " AND pid <> pg_backend_pid() AND state LIKE 'idle in transaction%'"
)


async def _empty_tables(engine: AsyncEngine) -> None:
    tables = [t.name for t in reversed(Base.metadata.sorted_tables)]
    async with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            for pid, query in (await conn.execute(_LEFT_IN_A_TRANSACTION)).all():
                # Ended, and said: a leak in the gateway shows, without hanging the suite.
                warnings.warn(
                    f"an earlier test left a transaction open, ended: {query}", stacklevel=2
                )
                await conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
            await conn.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
        else:
            for name in tables:
                await conn.execute(text(f"DELETE FROM {name}"))


@pytest.fixture
async def engine(settings: Settings) -> AsyncIterator[AsyncEngine]:
    """An engine on the emptied test database."""
    eng = create_engine(settings)
    await _empty_tables(eng)
    yield eng
    await eng.dispose()


@pytest.fixture
def sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Session factory on the test database."""
    return create_sessionmaker(engine)


@pytest.fixture
async def session(sessionmaker: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncSession]:
    """A session for arranging and inspecting data (commit explicitly)."""
    async with sessionmaker() as s:
        yield s


# --- the application -------------------------------------------------------------------------


@pytest.fixture
async def app(settings: Settings, engine: AsyncEngine) -> FastAPI:
    """A gateway on the emptied test database (not started)."""
    from app.main import create_app

    return create_app(settings)


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """A client of the started gateway."""
    async with running(app) as c:
        yield c


@pytest.fixture
def fake() -> Iterator[TwilioFake]:
    """The Twilio stand-in; callbacks stay queued (tests deliver them, or nobody does)."""
    with twilio_fake(callbacks="manual") as f:
        yield f


@pytest.fixture
def procs() -> Iterator[Procs]:
    """Processes a test starts (workers, gateways), always killed at its end."""
    started: Procs = []
    yield started
    for proc in started:
        kill_worker(proc)


_started_gazetteers: list[GazetteerCache] = []


@pytest.fixture(autouse=True)
def _track_gazetteers(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Note the place indexes that gateways of this test load at their start."""
    load = GazetteerCache.load

    async def tracked(self: GazetteerCache, sessionmaker: Any) -> None:
        _started_gazetteers.append(self)
        await load(self, sessionmaker)

    monkeypatch.setattr(GazetteerCache, "load", tracked)
    yield
    _started_gazetteers.clear()


@pytest.fixture
async def demo(sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    """The bundled demo gazetteer, focal points and liaisons."""
    from app.demo import load_demo_data

    await load_demo_data(sessionmaker)
    # Loaded as by another process: a gateway already started sees it at its next periodic
    # check of the places (a few seconds); here at once.
    for cache in _started_gazetteers:
        await cache.check()


@pytest.fixture
async def admin_headers(sessionmaker: async_sessionmaker[AsyncSession]) -> dict[str, str]:
    """Authorization of an admin key."""
    return {"Authorization": f"Bearer {await make_key(sessionmaker, 'admin')}"}


@pytest.fixture
async def viewer_headers(sessionmaker: async_sessionmaker[AsyncSession]) -> dict[str, str]:
    """Authorization of a viewer key."""
    return {"Authorization": f"Bearer {await make_key(sessionmaker, 'viewer')}"}
