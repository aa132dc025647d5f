"""Background loops: back-off, one log line per streak, staleness, restarts by the supervisor."""

from __future__ import annotations

import asyncio
import logging

import pytest

from app.kit import loops
from app.kit.loops import Backoff, Loop, Supervisor
from tests.support import wait_until


def sample(name: str, loop: str) -> float:
    """The current value of a loop metric of this process."""
    from prometheus_client import REGISTRY

    value = REGISTRY.get_sample_value(name, {"loop": loop})
    return value or 0.0


async def test_a_failing_pass_is_logged_once_per_streak_and_retried(
    caplog: pytest.LogCaptureFixture,
) -> None:
    calls = 0

    async def step() -> float:
        nonlocal calls
        calls += 1
        if calls <= 5:
            raise ConnectionResetError("connection reset by peer")
        return 10.0

    stop = asyncio.Event()
    loop = Loop("test-streak", step, stale_after=30, backoff=Backoff(base=0.01, cap=0.02))
    before = sample("kengele_loop_failures_total", "test-streak")
    caplog.set_level(logging.DEBUG, logger="kengele.loops")
    task = asyncio.create_task(loop.run(stop))
    await wait_until(lambda: calls == 6, within=5)
    stop.set()
    await asyncio.wait_for(task, 5)

    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1 and "test-streak" in errors[0].getMessage()
    assert errors[0].exc_info is not None, "the first failure of a streak carries its traceback"
    recovered = [r for r in caplog.records if "working again" in r.getMessage()]
    assert len(recovered) == 1 and "5 failed passes" in recovered[0].getMessage()
    assert sample("kengele_loop_failures_total", "test-streak") - before == 5
    assert loop.staleness() is None


def test_backoff_doubles_up_to_its_cap_and_starts_again_after_a_success() -> None:
    backoff = Backoff(base=1.0, cap=5.0)
    delays = [backoff.next() for _ in range(6)]
    assert 0.75 <= delays[0] <= 1.0 and 1.5 <= delays[1] <= 2.0
    assert all(3.75 <= d <= 5.0 for d in delays[3:]), delays
    backoff.reset()
    assert backoff.next() <= 1.0


async def test_a_loop_stuck_in_its_pass_becomes_stale_and_says_since_when() -> None:
    release = asyncio.Event()
    passes = 0

    async def step() -> float:
        nonlocal passes
        passes += 1
        if passes > 1:
            await release.wait()  # a pass hung on a stalled database
        return 0.0

    stop = asyncio.Event()
    supervisor = Supervisor(stop)
    supervisor.start(Loop("test-stuck", step, stale_after=0.3))
    await wait_until(lambda: passes == 2)
    assert supervisor.stale() == []
    stale = await wait_until(supervisor.stale, within=3)
    assert [s.loop for s in stale] == ["test-stuck"]  # type: ignore[union-attr]
    assert sample("kengele_loop_stale", "test-stuck") == 1
    assert sample("kengele_loop_seconds_since_pass", "test-stuck") >= 0.3
    release.set()
    await wait_until(lambda: not supervisor.stale(), within=3)
    await supervisor.close(grace=2)


async def test_the_supervisor_restarts_a_task_that_died_and_counts_it() -> None:
    passes = 0

    async def step() -> float:
        nonlocal passes
        passes += 1
        return 0.05

    stop = asyncio.Event()
    supervisor = Supervisor(stop, restart_delay=0.05)
    before = sample("kengele_loop_restarts_total", "test-restart")
    supervisor.start(Loop("test-restart", step, stale_after=5))
    await wait_until(lambda: passes >= 1)
    # Whatever ends the task (a cancel from elsewhere, an error the loop could not catch).
    supervisor._tasks["test-restart"].cancel()
    await wait_until(lambda: sample("kengele_loop_restarts_total", "test-restart") > before)
    counted = passes
    await wait_until(lambda: passes > counted + 1, what="passes after the restart")
    await supervisor.close(grace=2)
    assert sample("kengele_loop_restarts_total", "test-restart") - before == 1
    assert supervisor._tasks["test-restart"].done()


async def test_close_never_raises_and_cancels_a_loop_that_does_not_stop() -> None:
    async def hung() -> float:
        await asyncio.sleep(3600)
        return 0.0

    stop = asyncio.Event()
    supervisor = Supervisor(stop)
    supervisor.start(Loop("test-hung", hung, stale_after=5))
    await asyncio.sleep(0.05)
    await asyncio.wait_for(supervisor.close(grace=0.1), 2)
    assert supervisor._tasks["test-hung"].cancelled()
    assert supervisor not in loops._SUPERVISORS, "a closed process's loops leave the metrics"
