"""Pages given up on (dead) are passed on to the next liaison in the transaction that says
so, which takes the alert's escalation lock: every transaction that takes the locks of
several alerts takes them in alert order, so that none waits on another in a cycle."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.alerts.models import Alert
from app.escalation import service as escalation
from app.flows.provider_reports import page_dead
from app.kit.clock import utcnow
from app.kit.config import Settings
from app.kit.db import unit_of_work
from app.outbox import repository as repo
from app.outbox import service as outbox
from app.outbox.models import Delivery, WebhookSubscription
from app.outbox.wakeup import Wakeup
from app.outbox.worker import Worker
from app.providers.types import SendResult
from tests.escalation.support import FOCAL_ERINGETI, FOCAL_MAVIVI, gateway

# The `engine` fixture empties the tables first. SQLite has one writer at a time: no two
# transactions ever wait on each other there.
pytestmark = [pytest.mark.usefixtures("engine"), pytest.mark.postgresql]


async def test_a_claim_passes_on_the_pages_it_buries_in_alert_order(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A claim buries a page of alert Y and one of alert X (X < Y; their workers died at
    their last attempt), in the order the database returns them: here Y's first. A recorder
    passing on dead pages of X and Y takes their escalations in alert order: X's, then Y's.
    Passed on in Y, X order, the claim held Y's and waited for X's while the recorder held
    X's and waited for Y's: PostgreSQL broke the cycle after a second by failing one of them
    (the claim's whole batch, or the recorder's results, tried again later)."""
    gate = asyncio.Event()

    async def held(_delivery: Delivery) -> None:
        await gate.wait()

    async with gateway(settings) as gw:
        gw.app.state.runtime.worker.before_send = held
        try:
            await gw.sms(FOCAL_MAVIVI, "Attaque en cours a Mavivi, les ADF ont tue 3 personnes")
            await gw.sms(FOCAL_ERINGETI, "Attaque en cours a Eringeti, des hommes armes")
            async with gw.sessionmaker() as session:
                x, y = (await session.scalars(select(Alert.id).order_by(Alert.id))).all()
                pages = {
                    alert_id: await session.scalar(
                        select(Delivery.id)
                        .where(Delivery.alert_id == alert_id, Delivery.purpose == "page")
                        .order_by(Delivery.id)
                        .limit(1)
                    )
                    for alert_id in (x, y)
                }
            await gw.wait_for(lambda: _all_sending(gw, list(pages.values())))
            async with unit_of_work(gw.sessionmaker) as session:
                await session.execute(
                    update(Delivery)
                    .where(Delivery.id.in_(list(pages.values())))
                    .values(
                        attempts=Delivery.max_attempts, lease_until=utcnow() - timedelta(seconds=1)
                    )
                )

            returned = repo.bury_crashed

            async def in_the_order_y_x(session: AsyncSession, now: datetime) -> Sequence[Delivery]:
                rows = list(await returned(session, now))
                return sorted(rows, key=lambda d: -(d.alert_id or 0))

            monkeypatch.setattr(repo, "bury_crashed", in_the_order_y_x)

            async def passed_on(session: AsyncSession, delivery: Delivery) -> None:
                await page_dead(session, gw.settings, delivery)

            other = Worker(
                gw.settings,
                gw.sessionmaker,
                Wakeup(),
                None,
                None,
                None,
                "other",
                passed_on,  # type: ignore[arg-type]
            )
            async with unit_of_work(gw.sessionmaker) as recorder:
                await escalation.lock_of_alert(recorder, x)
                claim = asyncio.create_task(other._claim(0))
                await asyncio.sleep(0.5)  # the claim has passed on Y's page, waits for X's lock
                await escalation.lock_of_alert(recorder, y)
            await asyncio.wait_for(claim, 10)

            async with gw.sessionmaker() as session:
                states = (
                    await session.scalars(
                        select(Delivery.status).where(Delivery.id.in_(list(pages.values())))
                    )
                ).all()
            assert list(states) == ["dead", "dead"]
        finally:
            gate.set()


async def _all_sending(gw: Any, ids: list[int]) -> bool:
    async with gw.sessionmaker() as session:
        states = (await session.scalars(select(Delivery.status).where(Delivery.id.in_(ids)))).all()
    return len(states) == len(ids) and all(s == "sending" for s in states)


async def test_two_recorders_pass_on_dead_pages_of_one_alert_one_after_the_other(
    settings: Settings,
) -> None:
    """Two workers record, at the same moment, a dead page each of one alert (Twilio refused
    both liaisons' numbers), and a subscription wants `delivery.dead`. Each writes the event
    (a row that points at the alert: PostgreSQL takes a KEY SHARE lock on it), then takes the
    alert's escalation to page the next liaison. The first, holding the escalation, appends
    `page_fallback` to the alert's trail; that append locked the alert FOR UPDATE, which
    waits for the second's KEY SHARE, while the second waits for the escalation: a cycle,
    broken after a second by failing one of them."""
    gate = asyncio.Event()

    async def held(_delivery: Delivery) -> None:
        await gate.wait()

    async with gateway(settings) as gw:
        worker = gw.app.state.runtime.worker
        worker.before_send = held
        try:
            async with unit_of_work(gw.sessionmaker) as session:
                session.add(
                    WebhookSubscription(
                        url="https://ops.example.org/hook",
                        event_types=["delivery.dead"],
                        secret="s" * 32,
                    )
                )
            await gw.sms(FOCAL_MAVIVI, "Attaque en cours a Mavivi, les ADF ont tue 3 personnes")
            async with gw.sessionmaker() as session:
                pages = list(
                    (
                        await session.scalars(
                            select(Delivery.id)
                            .where(Delivery.purpose == "page")
                            .order_by(Delivery.id)
                        )
                    ).all()
                )
            assert len(pages) >= 2
            await gw.wait_for(lambda: _all_sending(gw, pages[:2]))
            refused = SendResult(
                ok=False, retryable=False, error="unsubscribed (21610)", error_code=21610
            )

            async def dead(session: AsyncSession, delivery_id: int) -> None:
                (row,) = (await repo.lock_leased_many(session, [delivery_id], worker.name)).values()
                await outbox.apply_result(
                    session, gw.settings, row, refused, worker=worker.name, duration_ms=1.0
                )
                assert row.status == "dead"
                await page_dead(session, gw.settings, row)

            async def second() -> None:
                async with unit_of_work(gw.sessionmaker) as session:
                    await dead(session, pages[1])

            async with unit_of_work(gw.sessionmaker) as first:
                await dead(first, pages[0])
                other = asyncio.create_task(second())
                await asyncio.sleep(0.5)  # it wrote its event and waits for the escalation
            await asyncio.wait_for(other, 10)

            async with gw.sessionmaker() as session:
                states = (
                    await session.scalars(select(Delivery.status).where(Delivery.id.in_(pages[:2])))
                ).all()
            assert list(states) == ["dead", "dead"]
        finally:
            gate.set()
