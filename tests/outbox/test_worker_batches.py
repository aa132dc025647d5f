"""The worker claims and records in batches: each row of a batch still ends as if alone
(sent once, one attempt), and a row whose lease another worker took meanwhile is left to it."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import select, update

from app.kit.config import Settings
from app.kit.db import unit_of_work
from app.outbox import service as outbox
from app.outbox.models import Delivery, DeliveryAttempt
from tests.escalation.support import gateway

pytestmark = pytest.mark.usefixtures("engine")  # tables emptied first
TO = "+243810000101"


async def test_a_batch_is_sent_once_each_and_a_stolen_lease_is_left_alone(
    settings: Settings,
) -> None:
    async with gateway(settings, sms_rate_per_second=1000.0, sms_burst=1000) as gw:
        worker = gw.app.state.runtime.worker
        gate = asyncio.Event()
        stolen: list[int] = []

        async def before_send(delivery: Delivery) -> None:
            await gate.wait()  # every row of the batch is claimed before any is sent
            if not stolen:
                # Another worker took this row (its lease ran out, say) while we sent it.
                stolen.append(delivery.id)
                async with unit_of_work(gw.sessionmaker) as session:
                    await session.execute(
                        update(Delivery)
                        .where(Delivery.id == delivery.id)
                        .values(leased_by="another-worker")
                    )

        worker.before_send = before_send
        async with unit_of_work(gw.sessionmaker) as session:
            for i in range(6):
                await outbox.enqueue_sms(session, gw.settings, to=TO, body=f"b{i}", purpose="test")
        await gw.wait_for(lambda: len(worker.sending) == 6)
        gate.set()
        await gw.wait_for(lambda: len(gw.fake.requests) == 6 and not worker.sending)

        assert sorted(r.body or "" for r in gw.fake.requests) == [f"b{i}" for i in range(6)]
        async with gw.sessionmaker() as session:
            rows = {d.id: d for d in (await session.scalars(select(Delivery))).all()}
            attempts = (await session.scalars(select(DeliveryAttempt))).all()
        (taken,) = stolen
        assert rows[taken].status == "sending" and rows[taken].leased_by == "another-worker"
        assert {d.status for i, d in rows.items() if i != taken} == {"queued"}
        assert all(d.lease_until is None for i, d in rows.items() if i != taken)
        assert sorted((a.delivery_id, a.status) for a in attempts) == sorted(
            (i, "lease_lost" if i == taken else "ok") for i in rows
        )


async def test_one_row_that_cannot_be_recorded_does_not_hold_back_its_batch(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A statement failing for one row (not the database away) fails the batch's
    transaction: the other rows are then recorded one by one, so they are not left leased
    (and sent again when their leases run out)."""
    async with gateway(settings, sms_rate_per_second=1000.0, sms_burst=1000) as gw:
        worker = gw.app.state.runtime.worker
        gate = asyncio.Event()
        bad: list[int] = []
        real_apply = outbox.apply_result

        async def apply_result(session, settings, row, result, **kw):  # type: ignore[no-untyped-def]
            if row.body == "b2":
                bad.append(row.id)
                raise ValueError("a row nobody expected")
            return await real_apply(session, settings, row, result, **kw)

        monkeypatch.setattr(outbox, "apply_result", apply_result)

        async def before_send(delivery: Delivery) -> None:
            await gate.wait()  # the five rows are claimed and recorded as one batch

        worker.before_send = before_send
        async with unit_of_work(gw.sessionmaker) as session:
            for i in range(5):
                await outbox.enqueue_sms(session, gw.settings, to=TO, body=f"b{i}", purpose="test")
        await gw.wait_for(lambda: len(worker.sending) == 5)
        gate.set()

        async def recorded() -> bool:
            async with gw.sessionmaker() as session:
                rows = (await session.scalars(select(Delivery))).all()
            return sum(d.status == "queued" for d in rows) == 4

        deadline = asyncio.get_running_loop().time() + 10
        while not await recorded():
            assert asyncio.get_running_loop().time() < deadline, "the good rows stay unrecorded"
            await asyncio.sleep(0.05)

        assert len(gw.fake.requests) == 5  # each sent once
        async with gw.sessionmaker() as session:
            rows = (await session.scalars(select(Delivery))).all()
        assert {d.body for d in rows if d.status == "queued"} == {"b0", "b1", "b3", "b4"}
        assert all(d.lease_until is None for d in rows if d.body != "b2")
        assert set(bad) == {d.id for d in rows if d.body == "b2"}
        # Once the fault is gone, the retry records the last one too (it was not sent again).
        monkeypatch.setattr(outbox, "apply_result", real_apply)
        deadline = asyncio.get_running_loop().time() + 10
        while True:
            async with gw.sessionmaker() as session:
                statuses = [d.status for d in (await session.scalars(select(Delivery))).all()]
            if statuses.count("queued") == 5:
                break
            assert asyncio.get_running_loop().time() < deadline, statuses
            await asyncio.sleep(0.05)
        assert len(gw.fake.requests) == 5


@pytest.mark.parametrize(
    ("batch", "rows", "claims"),
    [
        (32, 2, [2]),  # all that was due in one claim: the pass ends, no second, empty claim
        (2, 3, [2, 1]),  # a full batch: more may wait, so the next claim comes at once
    ],
)
async def test_the_worker_claims_again_at_once_only_after_a_full_batch(
    settings: Settings, batch: int, rows: int, claims: list[int]
) -> None:
    async with gateway(
        settings, run_worker=False, worker_batch=batch, sms_rate_per_second=1000.0, sms_burst=1000
    ) as gw:
        worker = gw.app.state.runtime.worker
        taken: list[int] = []
        claim = worker._claim

        async def counted(limit: int) -> tuple[list[Delivery], dict[str, object]]:
            found = await claim(limit)
            taken.append(len(found[0]))
            return found  # type: ignore[return-value]

        worker._claim = counted  # type: ignore[method-assign]
        async with unit_of_work(gw.sessionmaker) as session:
            for i in range(rows):
                await outbox.enqueue_sms(session, gw.settings, to=TO, body=f"p{i}", purpose="test")
        waits = [await worker.step()]
        while waits[-1] == 0.0:
            waits.append(await worker.step())
        await gw.wait_for(lambda: len(gw.fake.requests) == rows and not worker.sending)

        assert taken == claims
        assert waits[-1] > 0  # then it sleeps until woken or the next row is due
        assert sorted(r.body or "" for r in gw.fake.requests) == [f"p{i}" for i in range(rows)]
