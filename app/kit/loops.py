"""Background loops that survive any failure, the supervisor that watches them, and a deadline
for work a request must not wait on for ever (`within`).

A `Loop` runs one pass after another until stopped. A pass that raises is logged once per
streak of failures (not once per retry), then retried after a capped, jittered back-off;
the first pass that goes through again says so. Each loop knows by when its next pass
should have completed: past that (plus `stale_after`), it is *stale*: /readyz answers 503
naming it, and `kengele_loop_stale` / `kengele_loop_seconds_since_pass` let an alert rule
see it. The `Supervisor` starts the loops of a process, restarts a task that died anyway
(counted in `kengele_loop_restarts_total`), and stops them all without raising.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
import weakref
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from prometheus_client import REGISTRY, Counter
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from app.kit.clock import utcnow

log = logging.getLogger("kengele.loops")
T = TypeVar("T")

# One pass; returns how long to wait before the next one (0: at once).
Step = Callable[[], Awaitable[float]]
# Waits up to `seconds` for a reason to run the next pass early (new work, a lost connection).
Wake = Callable[[float], Awaitable[object]]

FAILURES = Counter(
    "kengele_loop_failures_total", "Passes of a background loop that raised", ["loop"]
)
RESTARTS = Counter(
    "kengele_loop_restarts_total",
    "Background tasks that died and were restarted by the supervisor",
    ["loop"],
)


class Backoff:
    """Capped exponential delays with jitter: base, 2·base, 4·base … up to `cap`."""

    def __init__(self, base: float = 0.5, cap: float = 2.0) -> None:
        self.base = base
        self.cap = cap
        self.failures = 0

    def next(self) -> float:
        """The delay before the next try after one more failure."""
        self.failures += 1
        delay: float = min(self.base * 2.0 ** (self.failures - 1), self.cap)
        return delay * random.uniform(0.75, 1.0)

    def reset(self) -> None:
        """A try went through: start again from `base`."""
        self.failures = 0


async def pause(stop: asyncio.Event, seconds: float, wake: Wake | None = None) -> None:
    """Sleep `seconds`, or less when `stop` is set or `wake` returns."""
    if seconds <= 0 or stop.is_set():
        await asyncio.sleep(0)  # a pass that never awaited must still let others run
        return
    waiters: set[asyncio.Future[object]] = {asyncio.ensure_future(stop.wait())}
    if wake is not None:
        waiters.add(asyncio.ensure_future(wake(seconds)))
    try:
        await asyncio.wait(waiters, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiter in waiters:
            waiter.cancel()


@dataclass(frozen=True)
class Staleness:
    """A loop that has not completed a pass in time: its name and its last pass (or start)."""

    loop: str
    since: datetime


class Loop:
    """Runs `step` until stopped, surviving any exception it raises."""

    def __init__(
        self,
        name: str,
        step: Step,
        *,
        stale_after: float,
        wake: Wake | None = None,
        backoff: Backoff | None = None,
    ) -> None:
        self.name = name
        self.step = step
        self.wake = wake
        self.stale_after = stale_after
        self.backoff = backoff or Backoff()
        self.last_pass = utcnow()  # the start counts as a pass until the first one completes
        self._last_pass_mono = time.monotonic()
        self._deadline = self._last_pass_mono + stale_after
        self._failing_since: float | None = None

    async def run(self, stop: asyncio.Event) -> None:
        """Pass after pass until `stop` is set; waits between passes as each pass asks."""
        while not stop.is_set():
            try:
                wait = await self.step()
            except Exception as exc:
                wait = self._failed(exc)
            else:
                self._passed(wait)
            # Woken early after a failure too: a commit or a LISTEN back means the database is.
            await pause(stop, wait, self.wake)

    def _passed(self, wait: float) -> None:
        now = time.monotonic()
        if self._failing_since is not None:
            log.warning(
                "%s: working again after %d failed passes in %.1f s",
                self.name,
                self.backoff.failures,
                now - self._failing_since,
            )
            self._failing_since = None
        self.backoff.reset()
        self.last_pass = utcnow()
        self._last_pass_mono = now
        self._deadline = now + max(wait, 0.0) + self.stale_after

    def _failed(self, exc: Exception) -> float:
        FAILURES.labels(self.name).inc()
        delay = self.backoff.next()
        if self._failing_since is None:
            self._failing_since = time.monotonic()
            # Once per streak: a database outage must not write a traceback per retry.
            log.error(
                "%s: pass failed (%s); retrying with back-off until it goes through",
                self.name,
                type(exc).__name__,
                exc_info=exc,
            )
        else:
            log.debug("%s: pass failed again (%s)", self.name, type(exc).__name__)
        return delay

    def staleness(self) -> Staleness | None:
        """Set when the loop has not completed a pass by when it should have."""
        if time.monotonic() <= self._deadline:
            return None
        return Staleness(self.name, self.last_pass)

    def seconds_since_pass(self) -> float:
        """Seconds since the last completed pass (or the start)."""
        return time.monotonic() - self._last_pass_mono


class Supervisor:
    """Runs the loops of a process, restarts one whose task dies, stops them all."""

    def __init__(self, stop: asyncio.Event, *, restart_delay: float = 1.0) -> None:
        self.stop = stop
        self.restart_delay = restart_delay
        self.loops: dict[str, Loop] = {}
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._restarts: set[asyncio.TimerHandle] = set()
        _SUPERVISORS.add(self)

    def start(self, loop: Loop) -> None:
        """Run `loop` in a task of its own, restarted if it ever ends before `stop`."""
        self.loops[loop.name] = loop
        self._spawn(loop)

    def _spawn(self, loop: Loop) -> None:
        if self.stop.is_set():
            return
        task = asyncio.create_task(loop.run(self.stop), name=loop.name)
        self._tasks[loop.name] = task
        task.add_done_callback(lambda t: self._ended(loop, t))

    def _ended(self, loop: Loop, task: asyncio.Task[None]) -> None:
        if self.stop.is_set():
            return
        error = None if task.cancelled() else task.exception()
        log.error(
            "%s: task ended (%s); restarting it in %.1f s",
            loop.name,
            "cancelled" if task.cancelled() else type(error).__name__ if error else "returned",
            self.restart_delay,
            exc_info=error,
        )
        RESTARTS.labels(loop.name).inc()
        handle = asyncio.get_running_loop().call_later(self.restart_delay, self._spawn, loop)
        self._restarts.add(handle)

    def stale(self) -> list[Staleness]:
        """The loops that have not completed a pass in time."""
        return [s for loop in self.loops.values() if (s := loop.staleness()) is not None]

    async def close(self, grace: float = 15.0) -> None:
        """Set `stop`, let the loops finish their pass (cancelled after `grace` s); never raises."""
        self.stop.set()
        for handle in self._restarts:
            handle.cancel()
        tasks = list(self._tasks.values())
        if tasks:
            _, late = await asyncio.wait(tasks, timeout=grace)
            for task in late:
                log.warning("%s: did not stop within %.0f s; cancelled", task.get_name(), grace)
                task.cancel()
            with contextlib.suppress(Exception):
                await asyncio.gather(*late, return_exceptions=True)
        for task in tasks:
            if not task.cancelled() and task.exception() is not None:
                log.warning("%s: had ended with %s", task.get_name(), type(task.exception()))
        _SUPERVISORS.discard(self)


_SUPERVISORS: weakref.WeakSet[Supervisor] = weakref.WeakSet()


class _LoopCollector(Collector):
    """Liveness of the loops of this process, read at each scrape."""

    def collect(self) -> Iterator[Metric]:
        since = GaugeMetricFamily(
            "kengele_loop_seconds_since_pass",
            "Seconds since a background loop of this process last completed a pass",
            labels=["loop"],
        )
        stale = GaugeMetricFamily(
            "kengele_loop_stale",
            "1 when a background loop has not completed a pass by when it should have",
            labels=["loop"],
        )
        worst: dict[str, tuple[float, bool]] = {}
        for supervisor in list(_SUPERVISORS):
            for name, loop in supervisor.loops.items():
                seconds, was_stale = worst.get(name, (0.0, False))
                worst[name] = (
                    max(seconds, loop.seconds_since_pass()),
                    was_stale or loop.staleness() is not None,
                )
        for name, (seconds, is_stale) in sorted(worst.items()):
            since.add_metric([name], seconds)
            stale.add_metric([name], 1 if is_stale else 0)
        yield since
        yield stale


REGISTRY.register(_LoopCollector())


_LATE: set[asyncio.Task[Any]] = set()


async def within(work: Awaitable[T], seconds: float, *, cancel_late: bool) -> T:
    """`work`'s result if it finishes within `seconds`, else TimeoutError at once.

    Work that is late is cancelled (`cancel_late`) or left to finish on its own, and never
    waited for: a request must answer on time even when the database holds the work (and
    its rollback) for longer.
    """
    task = asyncio.ensure_future(work)
    done, _ = await asyncio.wait({task}, timeout=max(seconds, 0.0))
    if done:
        return task.result()
    if cancel_late:
        task.cancel()
    _LATE.add(task)
    task.add_done_callback(_forget_late)
    raise TimeoutError


def _forget_late(task: asyncio.Task[Any]) -> None:
    _LATE.discard(task)
    if not task.cancelled() and task.exception() is not None:
        log.debug("late work ended with %s", type(task.exception()).__name__)
