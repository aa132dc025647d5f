"""An alert's first page is measured once (kengele_alert_first_page_seconds): the receipt time
is given for the alerts none of whose pages was sent, and recorders of one alert's pages
take turns, so that exactly one of them sees none sent."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.alerts.models import Alert
from app.kit.clock import utcnow
from app.kit.config import Settings
from app.kit.db import unit_of_work
from app.outbox import repository as repo
from app.outbox.models import Delivery
from tests.escalation.support import FOCAL_MAVIVI, Gateway, gateway

pytestmark = pytest.mark.usefixtures("engine")  # tables emptied first


@asynccontextmanager
async def _two_alerts_paged_not_sent(
    settings: Settings,
) -> AsyncIterator[tuple[Gateway, int, int]]:
    """A gateway and two alerts whose pages are claimed and held before their send (let go
    at the end, so that the gateway stops without waiting for them)."""
    gate = asyncio.Event()

    async def held(_delivery: Delivery) -> None:
        await gate.wait()

    async with gateway(settings) as gw:
        gw.app.state.runtime.worker.before_send = held
        try:
            for place in ("Mavivi", "Oicha"):
                await gw.sms(
                    FOCAL_MAVIVI, f"Attaque en cours a {place}, les ADF ont tue 3 personnes"
                )
            async with gw.sessionmaker() as session:
                first, second = (await session.scalars(select(Alert.id).order_by(Alert.id))).all()
            yield gw, first, second
        finally:
            gate.set()


async def _mark_a_page_sent(session: AsyncSession, alert_id: int) -> None:
    await session.execute(
        update(Delivery)
        .where(Delivery.alert_id == alert_id, Delivery.purpose == "page")
        .values(sent_at=utcnow())
    )


async def test_the_receipt_time_is_given_for_the_alerts_with_no_page_sent(
    settings: Settings,
) -> None:
    async with _two_alerts_paged_not_sent(settings) as (gw, first, second):
        async with unit_of_work(gw.sessionmaker) as session:
            await _mark_a_page_sent(session, first)
        async with unit_of_work(gw.sessionmaker) as session:
            received = await repo.received_if_unpaged(session, [second, first, second])
            alert = await session.get(Alert, second)
        assert alert is not None
        assert received == {second: alert.received_at}


@pytest.mark.postgresql  # SQLite has one writer at a time: no two recorders ever overlap
async def test_a_second_recorder_of_an_alert_waits_and_then_sees_its_page_sent(
    settings: Settings,
) -> None:
    async with _two_alerts_paged_not_sent(settings) as (gw, first, second):
        async with unit_of_work(gw.sessionmaker) as one:
            assert set(await repo.received_if_unpaged(one, [first, second])) == {first, second}
            await _mark_a_page_sent(one, first)

            async def other_recorder() -> dict[int, object]:
                async with unit_of_work(gw.sessionmaker) as session:
                    return dict(await repo.received_if_unpaged(session, [first]))

            waiting = asyncio.create_task(other_recorder())
            await asyncio.sleep(0.3)
            assert not waiting.done()  # it takes its turn after this transaction
        assert await asyncio.wait_for(waiting, 5) == {}
