"""Wakes live-stream readers when changes commit, in this process or (PostgreSQL) any other."""

from __future__ import annotations

import asyncio

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.kit import changes, hooks
from app.kit.signals import LoopSignal, run_in_loop


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
    hooks.add_signal(sessionmaker, changes.SIGNAL, feed.set)
