"""A sending number's queue: what a claim takes, in which order, and what comes back to it."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.kit.clock import utcnow
from app.kit.config import Settings
from app.kit.db import unit_of_work
from app.outbox import repository as repo
from app.outbox import service as outbox
from app.outbox.models import Delivery

pytestmark = pytest.mark.usefixtures("engine")  # tables emptied first
TO = "+243810000101"
Maker = async_sessionmaker[AsyncSession]


async def _enqueue(sessionmaker: Maker, settings: Settings, *bodies: str) -> list[Delivery]:
    async with unit_of_work(sessionmaker) as session:
        rows = [
            await outbox.enqueue_sms(
                session,
                settings,
                to=TO,
                body=body,
                purpose="reply" if body.startswith("receipt") else "page",
            )
            for body in bodies
        ]
    return rows


async def _claim(sessionmaker: Maker, sender: str, limit: int, worker: str) -> list[str]:
    """Bodies a worker's claim takes now (expired leases put back first, as the worker
    does)."""
    now = utcnow()
    async with unit_of_work(sessionmaker) as session:
        await repo.release_expired(session, now)
        rows = await repo.claim(
            session,
            now=now,
            lease_until=now + timedelta(seconds=60),
            worker=worker,
            limit=limit,
            channel="sms",
            sender=sender,
        )
        return [r.body for r in rows]


async def _expire_leases(sessionmaker: Maker) -> None:
    """Play a worker that died holding its rows: their leases ran out a second ago."""
    async with unit_of_work(sessionmaker) as session:
        await session.execute(
            update(Delivery)
            .where(Delivery.status == "sending")
            .values(lease_until=utcnow() - timedelta(seconds=1))
        )


async def test_receipts_wait_behind_the_numbers_other_sms_and_each_claim_takes_the_head(
    sessionmaker: Maker, settings: Settings
) -> None:
    (first, *_) = await _enqueue(
        sessionmaker, settings, "receipt 1", "page 1", "receipt 2", "page 2"
    )
    sender = first.sender
    assert await _claim(sessionmaker, sender, 1, "w1") == ["page 1"]
    assert await _claim(sessionmaker, sender, 2, "w1") == ["page 2", "receipt 1"]
    assert await _claim(sessionmaker, sender, 5, "w1") == ["receipt 2"]
    assert await _claim(sessionmaker, sender, 5, "w1") == []


async def test_a_row_whose_worker_died_goes_back_to_the_head_of_its_queue(
    sessionmaker: Maker, settings: Settings
) -> None:
    (first,) = await _enqueue(sessionmaker, settings, "page 1")
    assert await _claim(sessionmaker, first.sender, 1, "dies") == ["page 1"]
    await _enqueue(sessionmaker, settings, "page 2", "page 3")
    # While the lease runs, the row is nobody else's.
    assert await _claim(sessionmaker, first.sender, 1, "w2") == ["page 2"]
    await _expire_leases(sessionmaker)
    # Its lease ran out (and page 2's with it): both go back, in their places.
    assert await _claim(sessionmaker, first.sender, 2, "w3") == ["page 1", "page 2"]
    async with sessionmaker() as session:
        again = await session.get(Delivery, first.id)
    assert again is not None
    assert (again.status, again.leased_by, again.attempts) == ("sending", "w3", 2)


async def test_a_row_out_of_attempts_is_not_put_back_but_buried(
    sessionmaker: Maker, settings: Settings
) -> None:
    (row,) = await _enqueue(sessionmaker, settings, "page 1")
    async with unit_of_work(sessionmaker) as session:
        stored = await session.get(Delivery, row.id)
        assert stored is not None
        stored.max_attempts = 1
    assert await _claim(sessionmaker, row.sender, 1, "dies") == ["page 1"]
    await _expire_leases(sessionmaker)
    assert await _claim(sessionmaker, row.sender, 1, "w2") == []
    async with unit_of_work(sessionmaker) as session:
        assert [d.id for d in await repo.bury_crashed(session, utcnow())] == [row.id]
    async with sessionmaker() as session:
        buried = await session.get(Delivery, row.id)
    assert buried is not None and buried.status == "dead"
