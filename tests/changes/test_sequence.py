"""The change sequence follows commit order: a transaction that commits later never carries a
smaller number, so a poller asking for "after N" cannot skip a change."""

from __future__ import annotations

import asyncio

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from app.alerts.models import Alert
from app.kit.changes import next_numbers
from app.kit.db import unit_of_work
from tests.support import post_twilio, sms_form


async def test_a_later_commit_never_gets_a_smaller_number(
    client: httpx.AsyncClient,
    demo: None,
    engine: AsyncEngine,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    form = sms_form("+243810000101", "Attaque en cours a Mavivi")
    assert (await post_twilio(client, "/webhooks/twilio/sms", form)).status_code == 200
    async with sessionmaker() as s:
        alert_id = (await s.scalars(select(Alert.id))).one()

    # T1 has taken its number and not committed yet (as between before_commit and COMMIT).
    t1 = await engine.connect()
    transaction = await t1.begin()
    first = await t1.run_sync(lambda conn: next_numbers(conn, 1))

    async def t2() -> int:
        async with unit_of_work(sessionmaker) as session:
            alert = await session.get(Alert, alert_id)
            assert alert is not None
            alert.assignee = "Cpt. Amani"
        async with sessionmaker() as session:
            seq = await session.scalar(select(Alert.change_seq).where(Alert.id == alert_id))
        return int(seq or 0)

    later = asyncio.create_task(t2())
    await asyncio.sleep(0.5)
    # T2 cannot commit while T1, numbered before it, is still open.
    assert not later.done()
    await transaction.commit()
    await t1.close()
    second = await asyncio.wait_for(later, 30)
    assert second > first
