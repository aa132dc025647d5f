"""Test fixtures: one migrated database per run (SQLite by default, PostgreSQL when
KENGELE_TEST_DATABASE_URL names one), emptied before each test."""

from __future__ import annotations

import asyncio
import os
import tempfile
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from app.geo.service import GazetteerCache
from app.kit.config import Settings, normalise_database_url
from app.kit.db import create_engine, create_sessionmaker
from app.kit.migrate import upgrade
from app.models import Base
from tests.fakes.twilio_api import TwilioFake, twilio_fake
from tests.outbox.worker_support import Procs, kill_worker
from tests.support import PUBLIC_URL, TWILIO_TOKEN, make_key, running


@pytest.fixture(scope="session")
def database_url() -> Iterator[str]:
    """The database of this test run, migrated to head once."""
    url = os.environ.get("KENGELE_TEST_DATABASE_URL")
    tmp: tempfile.TemporaryDirectory[str] | None = None
    if not url:
        tmp = tempfile.TemporaryDirectory(prefix="kengele-test-")
        url = f"sqlite+aiosqlite:///{tmp.name}/test.db"
    url = normalise_database_url(url)

    async def _migrate() -> None:
        engine = create_engine(Settings(database_url=url))
        await upgrade(engine)
        await engine.dispose()

    asyncio.run(_migrate())
    yield url
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


async def _empty_tables(engine: AsyncEngine) -> None:
    tables = [t.name for t in reversed(Base.metadata.sorted_tables)]
    async with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
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
