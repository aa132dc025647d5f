"""Engine, session factory, and the session dependency that is the unit of work."""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any, TypeVar

from fastapi import Request
from sqlalchemy import event
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import Session

from app.kit import crypto, hooks
from app.kit.config import Settings
from app.kit.errors import conflicted

log = logging.getLogger(__name__)
T = TypeVar("T")

IMMEDIATE = "kengele_sqlite_immediate"
# A pooled connection idle for longer than this is pinged before use (see _ping_when_idle).
IDLE_PING_SECONDS = 1.0
_IDLE_SINCE = "kengele_idle_since"


def configure_keys(settings: Settings) -> None:
    """Install the keys of `settings` as the process's keyring (encrypted columns use it)."""
    crypto.configure(
        crypto.keyring_from(
            settings.data_key.get_secret_value(),
            settings.data_key_file,
            settings.lookup_key.get_secret_value(),
            settings.lookup_key_file,
            settings.data_dir,
        )
    )


def _lower(value: object) -> object:
    """lower() of SQLite as PostgreSQL's: every letter folded, not ASCII ones only."""
    return value.lower() if isinstance(value, str) else value


def create_engine(settings: Settings) -> AsyncEngine:
    """An async engine; SQLite gets WAL, foreign keys, a busy timeout and a lower() that
    folds every letter, as PostgreSQL's does (not ASCII ones only).

    Also installs the keys of the encrypted columns (app/kit/crypto.py)."""
    configure_keys(settings)
    url = settings.database_url
    # An error's text would carry the statement's values (an SMS body, a raw form, a
    # number) into logs: SQLAlchemy leaves them out with hide_parameters.
    if url.startswith("sqlite"):
        engine = create_async_engine(url, connect_args={"timeout": 30}, hide_parameters=True)

        @event.listens_for(engine.sync_engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
            # Let SQLAlchemy, not the driver, open transactions (see _begin_immediate).
            dbapi_conn.isolation_level = None
            cursor = dbapi_conn.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()
            # SQLite's own lower() folds ASCII letters only ("ÉQUATEUR" gives "Équateur"), so
            # a place filter written "équateur" missed it; PostgreSQL's folds every letter.
            dbapi_conn.create_function("lower", 1, _lower, deterministic=True)

        @event.listens_for(engine.sync_engine, "begin")
        def _begin(conn: Any) -> None:
            # A unit of work takes the write lock at its start: one that reads, then writes,
            # would otherwise fail with "database is locked" when another wrote in between.
            # Plain read sessions begin deferred and never hold up writers.
            immediate = conn.get_execution_options().get(IMMEDIATE, False)
            conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

        return engine
    engine = create_async_engine(url, pool_size=10, max_overflow=20, hide_parameters=True)
    _ping_when_idle(engine)
    return engine


def _ping_when_idle(engine: AsyncEngine) -> None:
    """Check a pooled connection before use only when it sat idle for a while.

    pool_pre_ping would cost a round trip at every checkout, that is on every transaction. A
    connection given back less than IDLE_PING_SECONDS ago was working then; one idle for longer
    may have been cut (a database restart, a network outage while the gateway was quiet): it is
    pinged, and a dead one is replaced before use (the pool retries the checkout). A connection
    that dies during busy use fails its statement, SQLAlchemy then invalidates the pool, the
    request answers 503 and the message (stored or not) is retried (safety net, provider).
    """

    @event.listens_for(engine.sync_engine, "checkin")
    def _checkin(_dbapi_conn: Any, record: Any) -> None:
        record.info[_IDLE_SINCE] = time.monotonic()

    @event.listens_for(engine.sync_engine, "checkout")
    def _checkout(dbapi_conn: Any, record: Any, _proxy: Any) -> None:
        since = record.info.get(_IDLE_SINCE)
        if since is None or time.monotonic() - since < IDLE_PING_SECONDS:
            return
        try:
            engine.dialect.do_ping(dbapi_conn)
        except Exception as exc:
            raise DisconnectionError("a pooled connection was found dead") from exc


def create_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions that keep loaded objects usable after commit, and run the commit hooks
    (app/kit/hooks.py: what each transaction asks for, and the one standing step, change
    numbers).

    Each factory has its own Session class, so that commit hooks (waking the outbox worker)
    belong to one application and not to every session of the process.
    """

    class _Session(Session):
        pass

    hooks.install(_Session)
    return async_sessionmaker(engine, expire_on_commit=False, sync_session_class=_Session)


@asynccontextmanager
async def unit_of_work(factory: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncSession]:
    """One transaction: commit on success, roll back on error (services only flush)."""
    async with factory() as session:
        try:
            await session.connection(execution_options={IMMEDIATE: True})
            yield session
            await session.commit()
        except BaseException:
            await session.rollback()
            raise


# A transaction the database aborted for a conflict with another (two that locked rows in
# opposite orders: a deadlock) is tried again at once, this many times more, after a short
# random pause (times the try) that lets the other finish.
CONFLICT_RETRIES = 3


async def retry_conflicts(
    work: Callable[[], Awaitable[T]], *, what: str, counted: Callable[[], None] | None = None
) -> T:
    """Run `work`, one whole transaction, and again when the database aborted it for a
    conflict (`conflicted`), up to CONFLICT_RETRIES times more: nothing was wrong with it,
    and what it records (a report, a page's failure) would otherwise wait for a safety net,
    or be lost. Any other error, or the last conflict, is raised. `counted` at each retry."""
    retries = 0
    while True:
        try:
            return await work()
        except Exception as exc:
            if not conflicted(exc) or retries >= CONFLICT_RETRIES:
                raise
            retries += 1
            if counted is not None:
                counted()
            log.info("%s: aborted for a conflict, tried again", what)
            await asyncio.sleep(random.uniform(0.005, 0.05) * retries)


@asynccontextmanager
async def one_statement(factory: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncSession]:
    """A session for one write that needs no transaction around it (a webhook's first
    insert): on PostgreSQL the statement commits on its own (autocommit), which spares the
    BEGIN and COMMIT round trips; elsewhere, a unit of work."""
    if factory.kw["bind"].dialect.name != "postgresql":
        async with unit_of_work(factory) as session:
            yield session
        return
    async with factory() as session:
        await session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})
        yield session


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    """FastAPI dependency: the request's unit of work."""
    factory: async_sessionmaker[AsyncSession] = request.app.state.sessionmaker
    async with unit_of_work(factory) as session:
        yield session
