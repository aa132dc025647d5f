"""Waking a background loop from anywhere: an asyncio event that commit hooks and LISTEN
callbacks (which may run in another thread) can set."""

from __future__ import annotations

import asyncio
from collections.abc import Callable


def run_in_loop(loop: asyncio.AbstractEventLoop | None, callback: Callable[[], None]) -> None:
    """Run `callback` in `loop`: at once from inside it, through call_soon_threadsafe from
    another thread (commit hooks and LISTEN callbacks may run elsewhere)."""
    try:
        running: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
    except RuntimeError:
        running = None
    if loop is not None and running is not loop:
        loop.call_soon_threadsafe(callback)
    else:
        callback()


async def wait_for(signal: asyncio.Event, seconds: float) -> bool:
    """Wait for `signal` or `seconds`; True when signalled."""
    try:
        await asyncio.wait_for(signal.wait(), timeout=max(seconds, 0.0))
    except TimeoutError:
        return False
    return True


class LoopSignal:
    """An asyncio event that commit hooks and LISTEN callbacks may set from any thread."""

    def __init__(self) -> None:
        self._event = asyncio.Event()
        self._loop: asyncio.AbstractEventLoop | None = None

    def bind(self) -> None:
        """Remember the running loop (notifications may come from other threads)."""
        self._loop = asyncio.get_running_loop()


async def wait_and_clear(signal: asyncio.Event, seconds: float) -> bool:
    """Wait for `signal` or `seconds`, then clear it; True when signalled."""
    woken = await wait_for(signal, seconds)
    signal.clear()
    return woken


class Signal(LoopSignal):
    """A loop's wake-up: `set` from anywhere, `wait` in the loop (cleared when it returns)."""

    def set(self) -> None:
        """Wake the waiting loop."""
        run_in_loop(self._loop, self._event.set)

    async def wait(self, seconds: float) -> bool:
        """Wait for a wake-up or `seconds`; True when woken."""
        return await wait_and_clear(self._event, seconds)
