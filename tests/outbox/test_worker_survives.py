"""The background loops survive a failing database: the pager never goes silent for good."""

from __future__ import annotations

import asyncio
import time

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from app.kit.config import Settings
from app.outbox import repository as outbox_repo
from tests.escalation.support import CLA_BENI, FOCAL_MAVIVI, gateway
from tests.fakes.twilio_api import Reply

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


@pytest.mark.postgresql  # LISTEN/NOTIFY is PostgreSQL's
async def test_listeners_listen_again_after_their_connection_is_killed(
    settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    """A LISTEN connection killed by the server (a restart, a cut) is opened again: wake-ups
    from other processes come back without a restart of this one."""
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


async def test_a_delivery_stuck_10_s_at_the_provider_delays_no_other_page(
    settings: Settings,
) -> None:
    """One hung Twilio request holds its own row only: every other page of this alert and of
    the next one reaches Twilio within seconds of the webhook's answer, not after the hung
    one's 10 s (3 s of margin: a slow 2-core machine running the suite on both cores once
    took 1.5 s)."""
    async with gateway(settings, sms_timeout_seconds=15.0) as gw:
        gw.fake.script(Reply(201, latency=10.0))  # the next message hangs 10 s, then is taken
        answered = {}
        for place in ("Mavivi", "Oicha"):
            await gw.sms(FOCAL_MAVIVI, f"Attaque en cours a {place}, les ADF ont tue 3 personnes")
            answered[place] = time.monotonic()
            await asyncio.sleep(0.5)
        await gw.wait_for(lambda: len(gw.fake.requests) == 4, within=3)
        stuck, *others = sorted(gw.fake.requests, key=lambda r: r.monotonic)
        assert stuck.response_status == 0, "the first request is still at the provider"
        for request in others:
            place = "Mavivi" if "Mavivi" in (request.body or "") else "Oicha"
            late = request.monotonic - answered[place]
            assert late < 3.0, f"a page reached Twilio {late:.2f} s after its webhook answered"
        assert all(r.response_status == 201 for r in others)

        # The stuck one goes through in the end, once.
        async def recorded() -> bool:
            return all(p.provider_id for p in await gw.outbox(purpose="page"))

        await gw.wait_for(recorded, within=15)
        pages = await gw.outbox(purpose="page")
        assert len(pages) == 4 and len(gw.fake.requests) == 4
        assert {(p.provider_id, p.attempts) for p in pages} == {
            (r.sid, 1) for r in gw.fake.requests
        }
