"""The background loops survive a failing database: the pager never goes silent for good."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from app.config import Settings
from app.outbox import repository as outbox_repo
from tests.escalation.support import CLA_BENI, FOCAL_MAVIVI, gateway

pytestmark = pytest.mark.usefixtures("engine")  # tables emptied first


async def test_a_database_error_between_passes_does_not_end_the_worker(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The connection reset that killed the worker for good (issue #9, defect 1) comes where it
    sleeps: looking up when the next row falls due. The next page still goes out."""
    failures = 0
    real = outbox_repo.next_due_at

    async def broken_once(session: AsyncSession) -> object:
        nonlocal failures
        if failures == 0:
            failures += 1
            raise ConnectionResetError("connection reset by peer")
        return await real(session)

    async with gateway(settings, worker_poll_seconds=0.2) as gw:
        monkeypatch.setattr(outbox_repo, "next_due_at", broken_once)
        await gw.wait_for(lambda: failures == 1)

        await gw.sms(FOCAL_MAVIVI, "Attaque en cours a Mavivi, les ADF ont tue 3 personnes")

        await gw.wait_for(lambda: bool(gw.sent_to(CLA_BENI)), within=5)
        runtime = gw.app.state.runtime
        assert not runtime.supervisor.stale()


async def test_listeners_listen_again_after_their_connection_is_killed(
    settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    """A LISTEN connection killed by the server (a restart, a cut) is opened again: wake-ups
    from other processes come back without a restart of this one."""
    if settings.is_sqlite:
        pytest.skip("LISTEN/NOTIFY is PostgreSQL's")
    import asyncpg  # type: ignore[import-untyped]

    from app.outbox.wakeup import CHANNEL, asyncpg_dsn

    async with gateway(settings, worker_poll_seconds=30.0) as gw:
        runtime = gw.app.state.runtime
        listeners = [runtime.listener, runtime.changes_listener]
        assert all(listener.listening for listener in listeners)
        pids = [listener._conn.get_server_pid() for listener in listeners]
        admin = await asyncpg.connect(asyncpg_dsn(settings.database_url))
        try:
            for pid in pids:
                await admin.fetchval("SELECT pg_terminate_backend($1)", pid)
            await gw.wait_for(
                lambda: all(
                    listener.listening and listener._conn.get_server_pid() not in pids
                    for listener in listeners
                ),
                within=10,
            )
            assert (
                sum("again after its connection was lost" in r.getMessage() for r in caplog.records)
                == 2
            )

            # A NOTIFY from another process (here: a plain connection) wakes the worker at once.
            woken = asyncio.ensure_future(runtime.wakeup.wait(5.0))
            await asyncio.sleep(0.05)
            await admin.execute(f"NOTIFY {CHANNEL}")
            assert await asyncio.wait_for(woken, 5.0)
        finally:
            await admin.close()
        assert not runtime.supervisor.stale()
