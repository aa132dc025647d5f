"""The roster a page is sent to is read without flushing the new alert's rows, yet it shows a
change made to a liaison earlier in the same transaction (taken off duty, added, removed)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.alerts.models import Alert
from app.people import service as people
from app.people.models import Liaison


async def test_the_roster_shows_liaison_changes_not_yet_flushed(
    demo: None, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    async with sessionmaker() as session, session.begin():
        before = {x.id for x in await people.on_duty(session, "liaison")}
        first, second = sorted(before)[:2]
        (await session.get(Liaison, first)).on_duty = False  # type: ignore[union-attr]
        assert first not in {x.id for x in await people.on_duty(session, "liaison")}

        await session.delete(await session.get(Liaison, second))
        assert second not in {x.id for x in await people.on_duty(session, "liaison")}

        newcomer = Liaison(
            name="Nouvelle", phone="+243810009999", tier="liaison", zones=["Beni"], language="fr"
        )
        session.add(newcomer)
        roster = await people.on_duty(session, "liaison")
        assert newcomer in roster
        assert {x.id for x in roster} == (before - {first, second}) | {newcomer.id}


async def test_reading_the_roster_leaves_a_new_alert_unflushed(
    demo: None, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    async with sessionmaker() as session:  # rolled back at the end: the alert is a sketch
        alert = Alert(ref="K-2345", kind="sms", from_phone="+243810000101", body="test")
        session.add(alert)
        assert await people.on_duty(session, "liaison")
        assert alert in session.new  # still pending: it goes in with the last flush
