"""Wake-ups: a process's loops are woken once per commit that wrote work, however it heard of
it; a woken escalation loop with no step due only reads when the next one falls due."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

from app.kit import hooks
from app.kit.config import Settings
from app.kit.db import create_sessionmaker, unit_of_work
from app.outbox import service as outbox
from app.outbox.wakeup import mark_work
from tests.escalation.support import CLA_BENI, FOCAL_MAVIVI, gateway

pytestmark = pytest.mark.usefixtures("engine")  # tables emptied first


class _Count:
    """Stands for the listener's wake-up: counts what it is woken by."""

    def __init__(self) -> None:
        self.sets = 0

    def set(self) -> None:
        self.sets += 1


@pytest.mark.postgresql  # LISTEN/NOTIFY is PostgreSQL's
async def test_a_listener_skips_the_notifications_of_its_own_process(
    settings: Settings, engine: AsyncEngine
) -> None:
    """The commit woke this process's loops already: its NOTIFY, heard back a moment later,
    must not wake them a second time. Another process's NOTIFY still wakes them."""
    async with gateway(settings, worker_poll_seconds=30.0) as gw:
        runtime = gw.app.state.runtime
        heard = _Count()
        runtime.listener.wakeup = heard
        other_process = create_sessionmaker(engine)

        async def commit_work(factory: object) -> None:
            async with unit_of_work(factory) as session:  # type: ignore[arg-type]
                await mark_work(session)

        await commit_work(other_process)
        await gw.wait_for(lambda: heard.sets == 1, within=5)
        await commit_work(runtime.sessionmaker)  # this process's own
        # Notifications reach a listener in commit order: once the next one from elsewhere
        # is heard, the own one was heard before it, and skipped.
        await commit_work(other_process)
        await gw.wait_for(lambda: heard.sets >= 2, within=5)
        await asyncio.sleep(0.2)
        assert heard.sets == 2


@pytest.mark.postgresql
async def test_work_another_process_serves_itself_wakes_this_one_once_after_the_handoff(
    settings: Settings, engine: AsyncEngine
) -> None:
    """With `serve --workers 2`, a commit in one process wakes its own worker at once. The
    other process leaves that work to it for the hand-off, then looks once for all the
    commits it heard meanwhile; a commit from a process without loops (an API process, the
    CLI) wakes it at once."""
    async with gateway(settings, worker_poll_seconds=30.0) as gw:
        runtime = gw.app.state.runtime
        heard = _Count()
        runtime.listener.wakeup = heard
        # Long enough for the six commits below on a loaded machine.
        runtime.listener.handoff_seconds = 3.0
        serving = create_sessionmaker(engine)
        hooks.serves_own_work(serving)
        without_loops = create_sessionmaker(engine)

        async def commit_work(factory: object) -> None:
            async with unit_of_work(factory) as session:  # type: ignore[arg-type]
                await mark_work(session)

        for _ in range(5):
            await commit_work(serving)
        await commit_work(without_loops)
        # Heard in commit order: the five before it were heard and left to their sender.
        await gw.wait_for(lambda: heard.sets >= 1, within=5)
        await asyncio.sleep(0.1)
        assert heard.sets == 1
        await gw.wait_for(lambda: heard.sets >= 2, within=10)
        await asyncio.sleep(0.5)
        assert heard.sets == 2  # one pass for the five


@pytest.mark.postgresql
async def test_a_page_left_by_a_process_that_died_before_claiming_it_is_sent_after_the_handoff(
    settings: Settings, engine: AsyncEngine
) -> None:
    """The process that committed the page said it would send it, then died before its
    worker claimed it: another process sends it after the hand-off, not at its poll."""
    async with gateway(settings, worker_poll_seconds=30.0) as gw:
        gw.app.state.runtime.listener.handoff_seconds = 0.3
        died = create_sessionmaker(engine)  # serves its own work, and nothing runs it
        hooks.serves_own_work(died)
        async with unit_of_work(died) as session:
            await outbox.enqueue_sms(
                session, gw.settings, to=CLA_BENI, body="Kengele test page", purpose="page"
            )
        await gw.wait_for(lambda: "Kengele test page" in gw.sent_to(CLA_BENI), within=5)


async def test_a_woken_escalation_loop_with_no_step_due_only_reads_the_next_due_time(
    settings: Settings,
) -> None:
    """Every page written wakes the escalation loop (a new escalation may fall due sooner
    than its sleep); when nothing is due that pass is one read, with no lock taken."""
    async with gateway(settings, worker_poll_seconds=30.0) as gw:
        runtime = gw.app.state.runtime
        await gw.sms(FOCAL_MAVIVI, "Attaque en cours a Mavivi, les ADF ont tue 3 personnes")
        await gw.wait_for(lambda: bool(gw.sent_to(CLA_BENI)))

        statements: list[str] = []

        def record(_conn: object, _cursor: object, sql: str, *_: object) -> None:
            statements.append(sql)

        sync_engine = runtime.engine.sync_engine
        event.listen(sync_engine, "before_cursor_execute", record)
        try:
            wait = await runtime.escalations.step()
        finally:
            event.remove(sync_engine, "before_cursor_execute", record)
        # The next step (the JOC) is minutes away: the loop sleeps the poll interval at most.
        assert 0 < wait <= 30.0
        # (The worker may be recording the pages meanwhile: only the escalations' statements.)
        queries = [s for s in statements if "escalations" in s]
        assert len(queries) == 1, queries
        assert "FOR UPDATE" not in queries[0].upper()
        assert "min(escalations.next_due_at)" in queries[0]
