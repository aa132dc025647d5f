"""Wakes live-stream readers when changes commit, in this process or (PostgreSQL) any other."""

from __future__ import annotations

import asyncio

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import Session

from app.changes.tracker import wrote_changes
from app.outbox.wakeup import LoopSignal, run_in_loop


class ChangeFeed(LoopSignal):
    """A broadcast signal: every waiter wakes on the next `set()`."""

    def set(self) -> None:
        """Wake every waiter."""
        run_in_loop(self._loop, self._fire)

    def _fire(self) -> None:
        current, self._event = self._event, asyncio.Event()
        current.set()

    def next(self) -> asyncio.Event:
        """The signal of the next change: take it BEFORE looking, then wait on it, so that a
        change committed between the look and the wait is not slept through."""
        return self._event


def install(sessionmaker: async_sessionmaker[AsyncSession], feed: ChangeFeed) -> None:
    """Signal `feed` after every commit of this factory's sessions that numbered changes."""
    session_class = sessionmaker.kw.get("sync_session_class", Session)

    def after_commit(session: Session) -> None:
        if wrote_changes(session):
            feed.set()

    event.listen(session_class, "after_commit", after_commit)
