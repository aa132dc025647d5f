"""Inbound messages in hand, by sender: a sender's one after the other, in the order they
came (a resend must find the alert its first copy made), different senders side by side."""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any


class Lanes:
    """One task per sender with messages in hand, each working through its queue.

    `process` is awaited for one message at a time per sender, for at most `at_once`
    messages in all; while `surge()` says webhooks are storing messages, one at a time (the
    providers waiting for an answer come first)."""

    def __init__(
        self,
        process: Callable[[int], Awaitable[object]],
        at_once: int,
        surge: Callable[[], bool],
    ) -> None:
        self._process = process
        self._at_once = asyncio.Semaphore(at_once)
        self._one_at_a_time = asyncio.Lock()
        self._surge = surge
        self._queues: dict[str | int, deque[int]] = {}
        self._tasks: dict[str | int, asyncio.Task[None]] = {}

    def held(self) -> set[int]:
        """The messages in hand: waiting in a queue or being processed."""
        return {message_id for queue in self._queues.values() for message_id in queue}

    def add(self, message_id: int, sender: str | None) -> None:
        """Queue a message behind its sender's (a message with no sender is alone)."""
        key: str | int = sender or message_id
        self._queues.setdefault(key, deque()).append(message_id)
        running = self._tasks.get(key)
        if running is None or running.done():
            if running is not None:
                running.result()  # its end, seen before a new task takes the sender over
            self._tasks[key] = asyncio.create_task(self._lane(key), name="inbound-lane")

    def sweep(self) -> bool:
        """Forget the lanes that finished (raising what one raised); whether any runs."""
        for key in [k for k, task in self._tasks.items() if task.done()]:
            self._tasks.pop(key).result()
        return bool(self._tasks)

    async def one_finished(self, or_else: asyncio.Future[bool] | None = None) -> None:
        """Wait until a lane finishes, or `or_else` does (cancelled if it has not)."""
        waiting: set[asyncio.Future[Any]] = set(self._tasks.values())
        if or_else is not None:
            waiting.add(or_else)
        try:
            await asyncio.wait(waiting, return_when=asyncio.FIRST_COMPLETED)
        finally:
            if or_else is not None and not or_else.done():
                or_else.cancel()

    async def all_finished(self) -> None:
        """Wait until every lane has worked through its queue (none added meanwhile)."""
        while self.sweep():
            await self.one_finished()

    async def cancel(self) -> None:
        """Stop every lane (a message cut short stays `received`, for the next pass)."""
        for task in self._tasks.values():
            task.cancel()
        await asyncio.gather(*self._tasks.values(), return_exceptions=True)
        self._tasks.clear()

    async def _lane(self, key: str | int) -> None:
        queue = self._queues[key]
        while queue:
            async with self._at_once:
                if self._surge():
                    async with self._one_at_a_time:
                        await self._process(queue[0])
                else:
                    await self._process(queue[0])
            queue.popleft()
        del self._queues[key]
