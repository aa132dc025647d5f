"""What a worker records, and when: a result belongs to the lease it was sent under, a
provider's word never reads as a lease, a provider's long id is stored, a sending number's
token bucket never winds its clock back, and a status kept for an id nobody sent is not kept
for ever."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select, update

from app.alerts.models import Alert
from app.escalation import paging
from app.flows import provider_reports
from app.flows.provider_reports import apply_early
from app.kit.clock import utcnow
from app.kit.config import Settings
from app.kit.db import unit_of_work
from app.outbox import repository as repo
from app.outbox import service as outbox
from app.outbox import worker as worker_module
from app.outbox.models import Delivery, DeliveryAttempt, EarlyStatus, SenderRate
from app.outbox.wakeup import Wakeup
from app.outbox.worker import Worker
from app.providers.types import SendResult
from tests.escalation.support import gateway

pytestmark = pytest.mark.usefixtures("engine")  # tables emptied first
TO = "+243810000101"


async def test_a_result_of_an_older_lease_does_not_move_the_row_its_worker_took_again(
    settings: Settings,
) -> None:
    """A send outlived its lease; the same worker put the row back and claimed it again (a
    second attempt, sent anew). The first send's result, coming back late, is kept as a
    trace: applied to the new lease, a failure would queue the row for a third send while
    the second is still under way."""
    async with gateway(settings) as gw:
        worker = gw.app.state.runtime.worker

        async def lease_runs_out_and_is_taken_again(delivery: Delivery) -> None:
            worker.before_send = None
            async with unit_of_work(gw.sessionmaker) as session:
                await session.execute(
                    update(Delivery)
                    .where(Delivery.id == delivery.id)
                    .values(attempts=Delivery.attempts + 1)
                )

        worker.before_send = lease_runs_out_and_is_taken_again
        async with unit_of_work(gw.sessionmaker) as session:
            sms = await outbox.enqueue_sms(session, gw.settings, to=TO, body="x", purpose="test")
        await gw.wait_for(lambda: len(gw.fake.requests) == 1 and not worker.sending)

        row = await gw.delivery(sms.id)
        assert (row.status, row.leased_by, row.attempts) == ("sending", worker.name, 2)
        async with gw.sessionmaker() as session:
            tried = (await session.scalars(select(DeliveryAttempt))).all()
        assert [a.status for a in tried] == ["lease_lost"]


async def _sent(sessionmaker: Any, settings: Settings, result: SendResult) -> Delivery:
    """An SMS claimed by worker `w`, its send's `result` recorded."""
    async with unit_of_work(sessionmaker) as session:
        sms = await outbox.enqueue_sms(session, settings, to=TO, body="x", purpose="test")
    now = utcnow()
    async with unit_of_work(sessionmaker) as session:
        (claimed,) = await repo.claim(
            session,
            now=now,
            lease_until=now + timedelta(seconds=60),
            worker="w",
            limit=1,
            channel="sms",
            sender=sms.sender,
        )
        (row,) = (await repo.lock_leased_many(session, [claimed.id], "w")).values()
        await outbox.apply_result(session, settings, row, result, worker="w", duration_ms=1.0)
    async with sessionmaker() as session:
        stored = await session.get(Delivery, sms.id)
    assert stored is not None
    return stored


async def _after_callback(
    sessionmaker: Any, provider_id: str, status: str, error_code: int | None = None
) -> tuple[Delivery, bool]:
    """A status callback applied: the row as it is then, and whether it became a failure."""
    async with unit_of_work(sessionmaker) as session:
        found, became = await outbox.apply_status(session, provider_id, status, error_code)
    assert found is not None, f"no delivery known as {provider_id}"
    async with sessionmaker() as session:
        row = await session.get(Delivery, found.id)
    assert row is not None
    return row, became == "failed"


async def test_twilio_s_sending_is_not_read_as_a_lease(
    sessionmaker: Any, settings: Settings
) -> None:
    accepted = SendResult(ok=True, provider_id="SM1", provider_status="sending")
    row = await _sent(sessionmaker, settings, accepted)
    assert (row.status, row.provider_status, row.leased_by) == ("queued", "sending", None)

    row, failed = await _after_callback(sessionmaker, "SM1", "failed", 30008)
    assert failed, "a failure is news: the next liaison is paged"
    assert row is not None and row.status == "failed"


async def test_a_row_left_sending_without_a_lease_moves_on_at_the_next_callback(
    sessionmaker: Any, settings: Settings
) -> None:
    """Rows that took Twilio's "sending" for their status before it was told apart."""
    row = await _sent(sessionmaker, settings, SendResult(ok=True, provider_id="SM2"))
    async with unit_of_work(sessionmaker) as session:
        await session.execute(
            update(Delivery)
            .where(Delivery.id == row.id)
            .values(status="sending", provider_status="sending")
        )
    row, _ = await _after_callback(sessionmaker, "SM2", "delivered")
    assert row is not None and row.status == "delivered"


async def test_a_provider_id_longer_than_the_column_is_stored_cut_as_callbacks_look_it_up(
    sessionmaker: Any, settings: Settings
) -> None:
    """An aggregator's id of 74 characters: storing the result failed on PostgreSQL, so the
    row was sent again at every lease until it was buried."""
    long_id = "msg-" + "7" * 70
    row = await _sent(sessionmaker, settings, SendResult(ok=True, provider_id=long_id))
    assert row.status == "queued" and row.provider_id == long_id[:64]
    found, _ = await _after_callback(sessionmaker, long_id[:64], "delivered")
    assert found is not None and found.id == row.id


async def test_a_claim_with_an_earlier_clock_does_not_wind_the_bucket_back(
    sessionmaker: Any, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Worker A reads its clock, then waits for the bucket that worker B's later claim holds.
    Winding the bucket back to A's clock would credit the seconds between twice: the number
    would send faster than its rate."""
    settings = settings.model_copy(update={"sms_rate_per_second": 1.0, "sms_burst": 3})
    async with unit_of_work(sessionmaker) as session:
        for i in range(5):
            sms = await outbox.enqueue_sms(session, settings, to=TO, body=f"{i}", purpose="t")
    start = utcnow()
    async with unit_of_work(sessionmaker) as session:
        # B claimed at start + 2 s and took every token.
        b_claimed = start + timedelta(seconds=2)
        session.add(SenderRate(sender=sms.sender, tokens=0.0, updated_at=b_claimed))
    worker = Worker(settings, sessionmaker, Wakeup(), None, None, None)  # type: ignore[arg-type]

    async def claim_at(seconds: float) -> int:
        monkeypatch.setattr(worker_module, "utcnow", lambda: start + timedelta(seconds=seconds))
        claimed, _ = await worker._claim(10)
        return len(claimed)

    assert await claim_at(1.0) == 0, "A, whose clock reads 1 s, finds no token"
    assert await claim_at(3.0) == 1, "one second after B's claim: one token, not three"


async def test_a_status_kept_for_an_id_nobody_sent_is_forgotten_after_a_day(
    settings: Settings, sessionmaker: Any
) -> None:
    """A callback for a message id no delivery ever gets (another application's message on
    the same account) is kept for a day, in case its send is recorded late, then forgotten:
    the table does not grow with them."""
    async with unit_of_work(sessionmaker) as session:
        outbox.keep_early_status(session, "SM-not-ours-old", "delivered", None)
        outbox.keep_early_status(session, "SM-not-ours-new", "delivered", None)
    async with unit_of_work(sessionmaker) as session:
        await session.execute(
            update(EarlyStatus)
            .where(EarlyStatus.provider_id == "SM-not-ours-old")
            .values(received_at=utcnow() - outbox.EARLY_STATUS_KEPT - timedelta(minutes=1))
        )
    await apply_early(sessionmaker, settings)
    async with sessionmaker() as session:
        kept = (await session.scalars(select(EarlyStatus.provider_id))).all()
    assert list(kept) == ["SM-not-ours-new"]


async def _claimed_and_recorded(
    sessionmaker: Any, settings: Settings, delivery_id: int, sender: str, provider_id: str
) -> None:
    """The pending SMS `delivery_id` claimed by worker `w` and sent, its provider's id
    recorded."""
    now = utcnow()
    async with unit_of_work(sessionmaker) as session:
        (claimed,) = await repo.claim(
            session,
            now=now,
            lease_until=now + timedelta(seconds=60),
            worker="w",
            limit=1,
            channel="sms",
            sender=sender,
        )
        assert claimed.id == delivery_id
    async with unit_of_work(sessionmaker) as session:
        (row,) = (await repo.lock_leased_many(session, [delivery_id], "w")).values()
        result = SendResult(ok=True, provider_id=provider_id, provider_status="accepted")
        await outbox.apply_result(session, settings, row, result, worker="w", duration_ms=1.0)


async def _goes_by(sessionmaker: Any, delivery_id: int, via: str) -> None:
    """The SMS moved to channel `via` and waits there (as a failover leaves it)."""
    async with unit_of_work(sessionmaker) as session:
        await session.execute(
            update(Delivery)
            .where(Delivery.id == delivery_id)
            .values(via=via, status="pending", provider_id=None, provider_status=None)
        )


@pytest.mark.parametrize("stale", ["failed", "delivered"])
async def test_a_status_kept_from_a_handset_s_earlier_send_does_not_move_its_next_send(
    settings: Settings, sessionmaker: Any, monkeypatch: pytest.MonkeyPatch, stale: str
) -> None:
    """A provider knows two sends of a page by one id (as the handsets did before each send
    had its own, `kengele-<delivery id>-<attempt>`). Handset A sent it; the page went on to
    handset B; A's late report of its send comes then, finds no
    delivery of A's with that id, and is kept. B failed too, and the page came back to A,
    which sent it again. The kept report is of A's first send: applied to the second, a
    `failed` would fail a send that went through (someone else paged for nothing), and a
    `delivered` would mark delivered a send that never arrived (nobody else paged)."""
    monkeypatch.setattr(provider_reports, "UNKNOWN_SID_PAUSES", (0.0,))
    async with unit_of_work(sessionmaker) as session:
        sms = await outbox.enqueue_sms(session, settings, to=TO, body="x", purpose="page")
    await _goes_by(sessionmaker, sms.id, "beni-a")
    handset_id = f"kengele-{sms.id}"
    await _claimed_and_recorded(sessionmaker, settings, sms.id, sms.sender, handset_id)

    await _goes_by(sessionmaker, sms.id, "beni-b")
    kept = await provider_reports.record_status(
        sessionmaker, settings, handset_id, stale, None, "beni-a"
    )
    assert not kept, "no delivery of beni-a's has the id now: kept"

    await _goes_by(sessionmaker, sms.id, "beni-a")
    await _claimed_and_recorded(sessionmaker, settings, sms.id, sms.sender, handset_id)
    await apply_early(sessionmaker, settings)

    async with sessionmaker() as session:
        row = await session.get(Delivery, sms.id)
        left = (await session.scalars(select(EarlyStatus))).all()
    assert row is not None and (row.status, row.provider_status) == ("accepted", "accepted")
    assert list(left) == [], "a status older than the send it would match is forgotten"


async def test_a_status_that_came_while_its_send_was_being_recorded_is_applied(
    settings: Settings, sessionmaker: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The handset's `failed` comes while the worker has not recorded the send yet: kept,
    then applied once the send is recorded."""
    monkeypatch.setattr(provider_reports, "UNKNOWN_SID_PAUSES", (0.0,))
    async with unit_of_work(sessionmaker) as session:
        sms = await outbox.enqueue_sms(session, settings, to=TO, body="x", purpose="page")
    await _goes_by(sessionmaker, sms.id, "beni-a")
    handset_id = f"kengele-{sms.id}"
    now = utcnow()
    async with unit_of_work(sessionmaker) as session:
        (_claimed,) = await repo.claim(
            session,
            now=now,
            lease_until=now + timedelta(seconds=60),
            worker="w",
            limit=1,
            channel="sms",
            sender=sms.sender,
        )
    kept = await provider_reports.record_status(
        sessionmaker, settings, handset_id, "failed", None, "beni-a"
    )
    assert not kept
    async with unit_of_work(sessionmaker) as session:
        (row,) = (await repo.lock_leased_many(session, [sms.id], "w")).values()
        result = SendResult(ok=True, provider_id=handset_id, provider_status="accepted")
        await outbox.apply_result(session, settings, row, result, worker="w", duration_ms=1.0)
    await apply_early(sessionmaker, settings)

    async with sessionmaker() as session:
        stored = await session.get(Delivery, sms.id)
        left = (await session.scalars(select(EarlyStatus))).all()
    assert stored is not None and stored.status == "failed"
    assert list(left) == []


async def test_a_late_callback_of_a_send_before_an_operator_s_retry_does_not_fail_the_retry(
    settings: Settings, sessionmaker: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A page failed (Twilio's `failed` for SM-old); an operator sends it again. While the
    new send is under way, Twilio posts SM-old's `failed` once more. The row still had the
    old send's id: the late callback moved it (a failure passed on to the next liaison, a
    row the worker held failed over), and the new send, accepted, was recorded `failed`."""
    monkeypatch.setattr(provider_reports, "UNKNOWN_SID_PAUSES", (0.0,))
    old = await _sent(sessionmaker, settings, SendResult(ok=True, provider_id="SM-old"))
    row, failed = await _after_callback(sessionmaker, "SM-old", "failed", 30003)
    assert failed and row.status == "failed"
    async with unit_of_work(sessionmaker) as session:
        await outbox.retry(session, old.id, settings)
    now = utcnow()
    async with unit_of_work(sessionmaker) as session:
        (_claimed,) = await repo.claim(
            session,
            now=now,
            lease_until=now + timedelta(seconds=60),
            worker="w",
            limit=1,
            channel="sms",
            sender=old.sender,
        )

    await provider_reports.record_status(sessionmaker, settings, "SM-old", "failed", 30003)
    async with unit_of_work(sessionmaker) as session:
        (held,) = (await repo.lock_leased_many(session, [old.id], "w")).values()
        accepted = SendResult(ok=True, provider_id="SM-new", provider_status="queued")
        await outbox.apply_result(session, settings, held, accepted, worker="w", duration_ms=1.0)
    await apply_early(sessionmaker, settings)

    async with sessionmaker() as session:
        stored = await session.get(Delivery, old.id)
    assert stored is not None
    assert (stored.status, stored.provider_status, stored.provider_id) == (
        "queued",
        "queued",
        "SM-new",
    )


async def test_a_page_whose_passing_on_fails_does_not_stop_the_claims(
    settings: Settings, sessionmaker: Any, caplog: pytest.LogCaptureFixture
) -> None:
    """A page whose worker died at its last attempt is buried by the next claim, and passed
    on to the next liaison in that transaction. If passing it on raises (a bug, data nobody
    expected), the claim must still lease the rest of the queue: failing the whole claim,
    at every pass, stopped every SMS of the gateway behind one page. The buried page is
    passed on at a later pass."""
    async with unit_of_work(sessionmaker) as session:
        crashed = await outbox.enqueue_sms(session, settings, to=TO, body="x", purpose="page")
        waiting = await outbox.enqueue_sms(session, settings, to=TO, body="y", purpose="page")
    async with unit_of_work(sessionmaker) as session:
        await session.execute(
            update(Delivery)
            .where(Delivery.id == crashed.id)
            .values(
                status="sending",
                leased_by="gone",
                attempts=Delivery.max_attempts,
                lease_until=utcnow() - timedelta(seconds=1),
            )
        )
    passed_on: list[int] = []
    broken = True

    async def gave_up(_session: Any, delivery: Delivery) -> None:
        if broken:
            raise RuntimeError("a bug in passing the page on")
        passed_on.append(delivery.id)

    worker = Worker(settings, sessionmaker, Wakeup(), None, None, None, "w", gave_up)  # type: ignore[arg-type]
    claimed, _ = await worker._claim(10)
    assert [d.id for d in claimed] == [waiting.id]
    assert "a bug in passing the page on" in caplog.text

    broken = False
    worker._bury_after = utcnow()  # the next try, once its wait is over
    await worker._claim(10)
    assert passed_on == [crashed.id]
    async with sessionmaker() as session:
        row = await session.get(Delivery, crashed.id)
    assert row is not None and row.status == "dead"


@pytest.mark.postgresql  # two writers at once (SQLite has one at a time)
async def test_an_ok_does_not_mark_cancelled_a_page_a_worker_is_claiming(
    settings: Settings, sessionmaker: Any
) -> None:
    """A worker claims a page (not committed yet) as the alert is taken: the page is being
    sent, so it stays `sending` and its result is recorded, instead of reading `cancelled`
    for an SMS that went out."""
    async with unit_of_work(sessionmaker) as session:
        alert = Alert(ref="K-2345", kind="sms", from_phone=TO, body="Attaque", category="ATTACK")
        alert.severity, alert.severity_rank = "critical", 3
        alert.cap_urgency, alert.cap_severity, alert.cap_certainty = (
            "Immediate",
            "Extreme",
            "Likely",
        )
        session.add(alert)
        await session.flush()
        page = await outbox.enqueue_sms(
            session, settings, to=TO, body="x", purpose="page", alert_id=alert.id
        )
    claiming = sessionmaker()
    await claiming.execute(
        update(Delivery).where(Delivery.id == page.id).values(status="sending", leased_by="w")
    )

    async def taken() -> None:
        async with unit_of_work(sessionmaker) as session:
            taken_alert = await session.get(Alert, alert.id)
            assert taken_alert is not None
            await paging.stop(session, taken_alert, "acknowledged", None)

    cancelling = asyncio.ensure_future(taken())
    await asyncio.sleep(0.3)  # the cancel waits for the claim's row lock
    await claiming.commit()
    await claiming.close()
    await cancelling
    async with sessionmaker() as session:
        row = await session.get(Delivery, page.id)
    assert row is not None and (row.status, row.last_error) == ("sending", None)
