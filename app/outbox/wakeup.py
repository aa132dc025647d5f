"""Waking workers at once on new work: an in-process event, and PostgreSQL LISTEN/NOTIFY."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from functools import partial
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.kit import hooks
from app.kit.signals import Signal, run_in_loop, wait_and_clear, wait_for

log = logging.getLogger(__name__)

CHANNEL = "kengele_outbox"
# How long a process leaves the work of a commit to the process that made it, when that one
# woke its own worker and escalation steps (app.kit.hooks.serves_own_work): they claim it at
# once; were it to die first, this process looks for itself after this, however many such
# commits it heard meanwhile (one pass, not one per commit).
HANDOFF_SECONDS = 1.0
_DIRTY = "outbox.dirty"
SIGNAL = "outbox"


class Wakeup(Signal):
    """Set when a transaction that wrote outbox work commits; the worker waits on it, and so
    does each loop that took a `waiter()` (the escalation steps), on a wake-up of its own."""

    def __init__(self) -> None:
        super().__init__()
        self._others: list[asyncio.Event] = []

    def set(self) -> None:
        """Wake the waiting loops."""
        run_in_loop(self._loop, self._set_all)

    def _set_all(self) -> None:
        for signal in (self._event, *self._others):
            signal.set()

    def waiter(self) -> Callable[[float], Awaitable[bool]]:
        """A `wait` for another loop: woken by the same commits, but not cleared by the
        worker's wait (nor the worker's by its)."""
        signal = asyncio.Event()
        self._others.append(signal)
        return partial(wait_and_clear, signal)


async def mark_work(session: AsyncSession) -> None:
    """Note that this transaction wrote outbox work: workers are woken when it commits."""
    state = hooks.transaction(session)
    if state.get(_DIRTY):
        return
    state[_DIRTY] = True
    hooks.signal_on_commit(session, SIGNAL)
    if session.bind is not None and session.bind.dialect.name == "postgresql":
        # Transactional: delivered to listeners only if and when the transaction commits.
        hooks.notify_on_commit(session, CHANNEL)


def install(sessionmaker: async_sessionmaker[AsyncSession], wakeup: Wakeup) -> None:
    """Wake `wakeup` after every commit of this factory's sessions that wrote outbox work."""
    hooks.add_signal(sessionmaker, SIGNAL, wakeup.set)


class PgListener:
    """LISTEN on PostgreSQL so that work written by any process wakes this one.

    Run `step` in a background loop: it connects and LISTENs, then checks every
    `check_seconds` that the connection still answers; a connection lost (the server's
    restart, a network cut) or hung (a stall) is dropped and opened again, and the listener
    says so. Notifications sent while it was away are lost, so it wakes its waiters once
    it is back: they look for themselves.
    """

    def __init__(
        self,
        dsn: str,
        wakeup: Any,
        channel: str = CHANNEL,
        *,
        check_seconds: float = 5.0,
        timeout: float = 5.0,
        ignore: str = "",
        handoff_seconds: float = 0.0,
    ) -> None:
        self.dsn = dsn
        # The payload of this process's own NOTIFYs (app.kit.hooks.origin): its loops were
        # woken at the commit already, and a second wake-up would cost each a second pass.
        self.ignore = ignore
        # With handoff_seconds, a NOTIFY whose sender serves its own work wakes this process
        # that much later, once for all heard meanwhile (0: at once, as any other).
        self.handoff_seconds = handoff_seconds
        self._handoff: asyncio.TimerHandle | None = None
        # Anything with a thread-safe set(): a Wakeup, or the change feed.
        self.wakeup = wakeup
        self.channel = channel
        self.check_seconds = check_seconds
        self.timeout = timeout
        self._conn: Any = None
        self._lost = asyncio.Event()
        self._listened = False

    @property
    def listening(self) -> bool:
        """Whether the LISTEN connection is open."""
        return self._conn is not None and not self._conn.is_closed()

    async def start(self) -> None:
        """Try to listen at once (a failure is logged; the loop keeps trying)."""
        try:
            await self.step()
        except Exception as exc:
            log.warning("LISTEN %s failed (%s); trying again", self.channel, type(exc).__name__)

    async def step(self) -> float:
        """Connect and LISTEN when not connected, else check the connection answers."""
        if not self.listening:
            await self._connect()
            return self.check_seconds
        try:
            await asyncio.wait_for(self._conn.fetchval("SELECT 1"), self.timeout)
        except BaseException:
            self._drop()
            raise
        return self.check_seconds

    async def wait_lost(self, seconds: float) -> bool:
        """Wait up to `seconds` for the connection to be lost; True when it was."""
        lost = await wait_for(self._lost, seconds)
        self._lost.clear()
        return lost

    async def _connect(self) -> None:
        import asyncpg  # type: ignore[import-untyped]

        self._drop()
        self._lost.clear()
        conn = await asyncpg.connect(self.dsn, timeout=self.timeout)
        try:
            await asyncio.wait_for(conn.add_listener(self.channel, self._on_notify), self.timeout)
        except BaseException:
            conn.terminate()
            raise
        conn.add_termination_listener(self._on_lost)
        self._conn = conn
        if self._listened:
            log.warning("LISTEN %s again after its connection was lost", self.channel)
        self._listened = True
        self.wakeup.set()

    def _on_notify(self, _conn: object, _pid: int, _channel: str, payload: str) -> None:
        if self.ignore and hooks.sender_of(payload) == self.ignore:
            return
        if self.handoff_seconds > 0 and hooks.served_by_sender(payload):
            if self._handoff is None:
                loop = asyncio.get_running_loop()
                self._handoff = loop.call_later(self.handoff_seconds, self._after_handoff)
            return
        self.wakeup.set()

    def _after_handoff(self) -> None:
        self._handoff = None
        self.wakeup.set()

    def _on_lost(self, *_: object) -> None:
        log.warning("LISTEN %s: connection lost; reconnecting", self.channel)
        self._lost.set()

    def _drop(self) -> None:
        if self._handoff is not None:
            # A wake-up is due: give it now (the reconnection wakes the waiters anyway).
            self._handoff.cancel()
            self._after_handoff()
        if self._conn is not None:
            conn, self._conn = self._conn, None
            with contextlib.suppress(Exception):
                conn.remove_termination_listener(self._on_lost)
                conn.terminate()

    async def stop(self) -> None:
        """Close the connection (never raises: it may be long gone)."""
        self._drop()


def asyncpg_dsn(database_url: str) -> str:
    """The plain postgresql:// DSN asyncpg takes."""
    return database_url.replace("postgresql+asyncpg://", "postgresql://", 1)
