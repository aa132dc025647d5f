"""KENGELE_INBOUND_MODE=queued: a webhook stores its message and answers; the background loop
processes it at once, and the receipt leaves by SMS. Nothing is lost on the way."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.alerts import repository as alerts_repo
from app.alerts.models import Alert
from app.alerts.service import sender_key
from app.flows.inbound import Pipeline
from app.inbound.models import InboundMessage
from app.kit.config import Settings
from app.main import create_app
from app.outbox.models import Delivery
from tests.channels.support import add_beni_handset
from tests.harness.gateway import running
from tests.inbound.conftest import Outage
from tests.support import all_processed, post_twilio, sms_form, wait_until

SMS = "/webhooks/twilio/sms"
FOCAL_MAVIVI = "+243810000101"


@pytest.fixture
def queued(settings: Settings) -> Settings:
    """Queued, with a safety net that would not look again for an hour on its own: what
    gets processed in these tests was woken, not polled."""
    return settings.model_copy(
        update={"inbound_mode": "queued", "reprocess_interval_seconds": 3600}
    )


async def _alerts(sessionmaker: async_sessionmaker[AsyncSession]) -> int:
    async with sessionmaker() as s:
        return int(await s.scalar(select(func.count()).select_from(Alert)) or 0)


async def _receipt(sessionmaker: async_sessionmaker[AsyncSession]) -> tuple[Alert, Delivery]:
    async with sessionmaker() as s:
        alert = await s.scalar(select(Alert))
        receipt = await s.scalar(select(Delivery).where(Delivery.purpose == "reply"))
    assert alert is not None and receipt is not None
    return alert, receipt


async def test_the_webhook_answers_at_once_and_the_loop_files_the_alert_and_texts_the_receipt(
    queued: Settings,
    engine: object,
    demo: None,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    async with running(create_app(queued)) as client:
        response = await post_twilio(
            client, SMS, sms_form(FOCAL_MAVIVI, "Attaque en cours a Mavivi, 3 morts")
        )
        assert response.status_code == 200
        assert "<Message" not in response.text, "the TwiML carries no receipt: the SMS does"
        await wait_until(lambda: _alerts(sessionmaker), what="the queued message processed")

    alert, receipt = await _receipt(sessionmaker)
    assert (alert.category, alert.severity, alert.place_id) == ("ATTACK", "critical", "mavivi")
    assert receipt.recipient == FOCAL_MAVIVI and alert.ref in receipt.body
    async with sessionmaker() as s:
        message = await s.scalar(select(InboundMessage))
    assert message is not None and (message.status, message.alert_id) == ("processed", alert.id)
    # A page for the liaison of the zone was written with the alert, as inline.
    async with sessionmaker() as s:
        pages = await s.scalar(
            select(func.count()).select_from(Delivery).where(Delivery.purpose != "reply")
        )
    assert pages


async def test_a_failing_pipeline_loses_nothing_and_the_answer_does_not_wait_for_it(
    queued: Settings,
    engine: object,
    demo: None,
    sessionmaker: async_sessionmaker[AsyncSession],
    outage: Outage,
) -> None:
    retried = queued.model_copy(update={"reprocess_interval_seconds": 0.2})
    form = sms_form(FOCAL_MAVIVI, "Attaque a Mavivi")
    async with running(create_app(retried)) as client:
        response = await post_twilio(client, SMS, form)
        assert response.status_code == 200

        async def failed() -> InboundMessage | None:
            async with sessionmaker() as s:
                message = await s.scalar(select(InboundMessage))
            return message if message is not None and message.last_error else None

        message = await wait_until(failed, what="the loop's first try, failed and noted")
        assert isinstance(message, InboundMessage) and message.status == "received"
        assert "simulated outage" in (message.last_error or "")

        outage.over = True
        await wait_until(lambda: _alerts(sessionmaker), within=10, what="the retry")
        # Twilio retrying the same MessageSid: nothing twice, no receipt in the TwiML.
        again = await post_twilio(client, SMS, form)
        assert again.status_code == 200 and "<Message" not in again.text
    assert await _alerts(sessionmaker) == 1
    async with sessionmaker() as s:
        replies = (await s.scalars(select(Delivery).where(Delivery.purpose == "reply"))).all()
    assert len(replies) == 1


async def test_a_handset_webhook_answers_stored_and_the_loop_processes_its_message(
    queued: Settings,
    engine: object,
    demo: None,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    app = create_app(queued)
    async with running(app) as client:
        fake = await add_beni_handset(app.state.sessionmaker, queued)
        body, headers = fake.webhook(
            "sms:received", {"phoneNumber": FOCAL_MAVIVI, "message": "Attaque a Mavivi"}
        )
        response = await client.post("/webhooks/smsgate/beni-a", content=body, headers=headers)
        assert response.status_code == 200 and response.json()["status"] == "stored"
        await wait_until(lambda: _alerts(sessionmaker), what="the queued message processed")
        _, receipt = await _receipt(sessionmaker)
    assert (receipt.recipient, receipt.via) == (FOCAL_MAVIVI, "beni-a")


@pytest.mark.postgresql  # LISTEN/NOTIFY is PostgreSQL's
async def test_a_process_without_loops_wakes_another_process_s_loop(
    queued: Settings,
    engine: object,
    demo: None,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    """`serve --no-worker` beside a `kengele worker`: the webhook's process runs no loops, so
    it tells the others by NOTIFY; the worker's safety net (polling hourly) takes it at once."""
    front = create_app(queued.model_copy(update={"run_worker": False}))
    async with running(create_app(queued)), running(front) as client:
        response = await post_twilio(client, SMS, sms_form(FOCAL_MAVIVI, "Attaque a Mavivi"))
        assert response.status_code == 200
        await wait_until(lambda: _alerts(sessionmaker), what="the other process's loop")


async def test_by_default_a_report_with_nothing_in_hand_is_answered_with_its_receipt(
    client: httpx.AsyncClient, demo: None, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    """The default (auto) processes a report inline when its process's webhooks have fewer
    than KENGELE_INLINE_AT_ONCE in hand: the TwiML answer carries the receipt."""
    response = await post_twilio(client, SMS, sms_form(FOCAL_MAVIVI, "Attaque a Mavivi"))
    async with sessionmaker() as s:
        alert = await s.scalar(select(Alert))
    assert alert is not None and f"ref {alert.ref}" in response.text


@pytest.mark.postgresql  # processed several at once there (one at a time on SQLite)
async def test_a_sender_s_queued_messages_are_processed_in_order_others_beside_them(
    queued: Settings,
    engine: object,
    demo: None,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    """A panic resend queued behind its first copy finds the alert the first made (one
    alert, its repeat counted), while other senders' messages go through meanwhile."""
    others = [f"+2438100001{n:02d}" for n in range(2, 8)]
    # Stored by a process without loops, so that the next one's first pass takes them all.
    async with running(create_app(queued.model_copy(update={"run_worker": False}))) as client:
        for sid in ("SMfirst", "SMagain", "SMthird"):
            form = sms_form(FOCAL_MAVIVI, "Attaque a Mavivi maintenant", sid=sid)
            assert (await post_twilio(client, SMS, form)).status_code == 200
        for n, phone in enumerate(others):
            form = sms_form(phone, f"Coups de feu a Oicha {n}", sid=f"SMother{n}")
            assert (await post_twilio(client, SMS, form)).status_code == 200

    async with running(create_app(queued)):
        await wait_until(
            lambda: all_processed(sessionmaker), within=15, what="every queued message processed"
        )
    async with sessionmaker() as s:
        alerts = (await s.scalars(select(Alert))).all()
    mine = [a for a in alerts if a.body == "Attaque a Mavivi maintenant"]
    assert [a.message_count for a in mine] == [3], "one alert, its two resends folded"
    assert len(alerts) == 1 + len(others)


@pytest.mark.postgresql  # processed several at once there (one at a time on SQLite)
async def test_messages_taken_as_they_come_keep_each_sender_s_order(
    queued: Settings,
    engine: object,
    demo: None,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    """The loop's way when queued (Pipeline.process_as_they_come): the same guarantee as a
    pass, one alert for a report and its two resends, the other senders beside them."""
    app = create_app(queued.model_copy(update={"run_worker": False}))
    async with running(app) as client:
        for sid in ("SMfirst", "SMagain", "SMthird"):
            form = sms_form(FOCAL_MAVIVI, "Attaque a Mavivi maintenant", sid=sid)
            assert (await post_twilio(client, SMS, form)).status_code == 200
        for n in range(6):
            form = sms_form(f"+2438100001{n + 2:02d}", f"Coups de feu a Oicha {n}", sid=f"SMo{n}")
            assert (await post_twilio(client, SMS, form)).status_code == 200
        more = await app.state.pipeline.process_as_they_come(50, seconds=30)
    assert more is False, "it ended because nothing was left, not at its time"
    async with sessionmaker() as s:
        alerts = (await s.scalars(select(Alert))).all()
    mine = [a for a in alerts if a.body == "Attaque a Mavivi maintenant"]
    assert [a.message_count for a in mine] == [3], "one alert, its two resends folded"
    assert len(alerts) == 1 + 6


@pytest.mark.postgresql  # processed several at once there (one at a time on SQLite)
async def test_a_slow_report_does_not_hold_up_another_village_s(
    queued: Settings,
    engine: object,
    demo: None,
    sessionmaker: async_sessionmaker[AsyncSession],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A report that arrives while another is being processed (slowly: its incident locked,
    say) starts at once, not when the other is done."""
    real = Pipeline.process
    slow_started = asyncio.Event()

    async def slow_for_mavivi(
        self: Pipeline, message_id: int, *, reply_by_sms: bool = False, **more: bool
    ) -> object:
        async with self.sessionmaker() as s:
            message = await s.get(InboundMessage, message_id)
        if message is not None and "Mavivi" in message.body:
            slow_started.set()
            await asyncio.sleep(4)
        return await real(self, message_id, reply_by_sms=reply_by_sms, **more)

    monkeypatch.setattr(Pipeline, "process", slow_for_mavivi)

    async def filed(place: str) -> bool:
        async with sessionmaker() as s:
            return await s.scalar(select(Alert).where(Alert.place_id == place)) is not None

    async with running(create_app(queued)) as client:
        form = sms_form(FOCAL_MAVIVI, "Attaque a Mavivi maintenant")
        assert (await post_twilio(client, SMS, form)).status_code == 200
        await asyncio.wait_for(slow_started.wait(), timeout=10)
        form = sms_form("+243810000102", "Coups de feu a Oicha maintenant")
        assert (await post_twilio(client, SMS, form)).status_code == 200
        await wait_until(lambda: filed("oicha"), within=3, what="the second report filed")
        assert not await filed("mavivi"), "the first was still being processed"
        await wait_until(lambda: filed("mavivi"), within=10, what="the slow report filed")


async def test_a_report_the_database_holds_is_cut_short_and_the_next_ones_go_on(
    queued: Settings,
    engine: object,
    demo: None,
    sessionmaker: async_sessionmaker[AsyncSession],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A pass ends when every message it took is done. A report the database holds (on
    PostgreSQL, another transaction keeps its sender's lock; on SQLite, whose writers take
    turns anyway, the same wait stood in for) is cut short after `process_timeout_seconds`
    and retried later: a report from another village that comes after is filed meanwhile,
    and the held one once the database lets go."""
    settings = queued.model_copy(
        update={"process_timeout_seconds": 1.0, "reprocess_interval_seconds": 1.0}
    )
    released = asyncio.Event()
    waited = asyncio.Event()
    async with sessionmaker() as holder:
        on_postgresql = holder.get_bind().dialect.name == "postgresql"
        if on_postgresql:
            await alerts_repo.hold_sender(holder, sender_key(FOCAL_MAVIVI))
        else:
            real_hold = alerts_repo.hold_sender

            async def held_until_released(session: AsyncSession, key: int) -> None:
                if key == sender_key(FOCAL_MAVIVI):
                    waited.set()
                    await released.wait()
                await real_hold(session, key)

            monkeypatch.setattr(alerts_repo, "hold_sender", held_until_released)

        async def filed(place: str) -> bool:
            async with sessionmaker() as s:
                return await s.scalar(select(Alert).where(Alert.place_id == place)) is not None

        async def cut_short() -> InboundMessage | None:
            async with sessionmaker() as s:
                message = await s.scalar(
                    select(InboundMessage).where(InboundMessage.last_error.is_not(None))
                )
            return message if message is not None and message.last_error else None

        async with running(create_app(settings)) as client:
            form = sms_form(FOCAL_MAVIVI, "Attaque a Mavivi maintenant")
            assert (await post_twilio(client, SMS, form)).status_code == 200
            await asyncio.sleep(1.5)  # past the pass's 1 s of taking what comes
            form = sms_form("+243810000102", "Coups de feu a Oicha maintenant")
            assert (await post_twilio(client, SMS, form)).status_code == 200
            await wait_until(lambda: filed("oicha"), within=5, what="the next report filed")
            assert not await filed("mavivi"), "the held report is still held"
            message = await wait_until(cut_short, what="the held report noted for a retry")
            assert isinstance(message, InboundMessage) and message.status == "received"
            assert "processing took over 1 s" in (message.last_error or "")

            released.set()
            await holder.rollback()  # the other transaction ends: the sender's lock is free
            await wait_until(lambda: filed("mavivi"), within=10, what="the held report filed")
    assert on_postgresql or waited.is_set(), "the stand-in wait was the one that held it"
