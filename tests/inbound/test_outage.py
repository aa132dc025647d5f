"""The webhook during a database outage: a quick, small answer Twilio can act on, never a hung
or closed connection; a message stored but not processed in time is finished later."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.exc import OperationalError

from app.alerts.models import Alert
from app.api import channel_webhooks
from app.flows import inbound as pipeline_module
from app.flows.inbound import Inbound, Pipeline
from app.inbound.models import InboundMessage
from app.kit.clock import utcnow
from app.kit.config import Settings
from app.main import create_app
from app.outbox.models import Delivery
from tests.channels.support import add_beni_handset
from tests.harness.gateway import running
from tests.harness.server import live_server
from tests.support import post_twilio, sign, sms_form, wait_until

SMS = "/webhooks/twilio/sms"
pytestmark = pytest.mark.usefixtures("engine")  # tables emptied first


def refused(*_: object, **__: object) -> None:
    raise OperationalError(
        "INSERT INTO inbound_messages (body) VALUES ($1)", ("Attaque a Mavivi",), OSError(111)
    )


async def test_a_database_that_refuses_gets_a_small_503_on_a_connection_kept_open(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = create_app(settings)
    async with live_server(app) as url, httpx.AsyncClient(base_url=url) as client:
        monkeypatch.setattr(Pipeline, "accept", refused)
        form = sms_form("+243810000101", "Attaque a Mavivi")
        headers = {"X-Twilio-Signature": sign(SMS, form)}
        began = time.monotonic()
        response = await client.post(SMS, data=form, headers=headers)
        # At once, not at the webhook's 10 s deadline; the bound leaves room for a machine
        # busy with the other test processes of `pytest -n auto`.
        assert time.monotonic() - began < 3.0
        assert response.status_code == 503
        assert response.json() == {
            "error": "ServiceUnavailable",
            "detail": "database unavailable; retry later",
        }
        assert response.headers["retry-after"] == "5"
        assert "close" not in response.headers.get("connection", "").lower()
        for secret in ("INSERT", "Mavivi", "parameters"):
            assert secret not in response.text
        monkeypatch.undo()
        # The same keep-alive connection answers the next request.
        again = await client.get("/healthz")
        assert again.status_code == 200


async def test_a_stalled_store_answers_503_within_the_deadline(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def stalls(self: Pipeline, inbound: Inbound, queued: bool = False) -> tuple[int, bool]:
        await asyncio.sleep(3600)
        raise AssertionError

    app = create_app(settings.model_copy(update={"webhook_deadline_seconds": 0.5}))
    async with live_server(app) as url, httpx.AsyncClient(base_url=url) as client:
        monkeypatch.setattr(Pipeline, "accept", stalls)
        form = sms_form("+243810000101", "Attaque a Mavivi")
        began = time.monotonic()
        response = await client.post(
            SMS, data=form, headers={"X-Twilio-Signature": sign(SMS, form)}
        )
        # Answered at the 0.5 s deadline, not after the stall (an hour); the upper bound leaves
        # room for a loaded machine.
        assert 0.4 < time.monotonic() - began < 5.0
        assert response.status_code == 503


async def test_a_message_stored_but_processed_late_gets_200_and_is_finished_later(
    settings: Settings, demo: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = Pipeline.process

    async def slow(
        self: Pipeline, message_id: int, *, reply_by_sms: bool = False, **more: bool
    ) -> object:
        if not reply_by_sms:
            await asyncio.sleep(3600)  # the request's own try hangs on the database
        return await real(self, message_id, reply_by_sms=reply_by_sms, **more)

    monkeypatch.setattr(Pipeline, "process", slow)
    app = _late_app(settings)
    async with running(app) as client:
        began = time.monotonic()
        response = await post_twilio(client, SMS, sms_form("+243810000101", "Attaque a Mavivi"))
        assert time.monotonic() - began < 3.0  # the deadline, not the hour processing hangs
        assert response.status_code == 200 and "K-" not in response.text
        receipt = await _finished_with_one_receipt(app)
        assert "K-" in receipt.body, "the receipt goes out by SMS"


def _late_app(settings: Settings) -> FastAPI:
    # 2 s: storing must fit in it even on a loaded machine (0.5 s gave a 503 there).
    return create_app(
        settings.model_copy(
            update={"webhook_deadline_seconds": 2.0, "reprocess_grace_seconds": 0.5}
        )
    )


async def _finished_with_one_receipt(app: FastAPI) -> Delivery:
    """Once the safety net has processed the message: its receipt, the only one."""

    async def processed() -> bool:
        async with app.state.sessionmaker() as s:
            message = await s.scalar(select(InboundMessage))
        return message is not None and message.status == "processed"

    await wait_until(processed, within=5, what="the safety net to finish the message")
    async with app.state.sessionmaker() as s:
        replies = (await s.scalars(select(Delivery).where(Delivery.purpose == "reply"))).all()
    assert len(replies) == 1, replies
    return replies[0]


async def _post_from_handset(app: FastAPI, settings: Settings, client: httpx.AsyncClient) -> float:
    """A report through the handset channel beni-a; seconds its answer took ("stored")."""
    handset = await add_beni_handset(app.state.sessionmaker, settings)
    body, headers = handset.webhook(
        "sms:received", {"phoneNumber": "+243810000101", "message": "Attaque a Mavivi"}
    )
    began = time.monotonic()
    response = await client.post("/webhooks/smsgate/beni-a", content=body, headers=headers)
    took = time.monotonic() - began
    assert response.status_code == 200 and response.json()["status"] == "stored"
    return took


async def _finished_with_a_receipt_through_the_handset(app: FastAPI) -> None:
    receipt = await _finished_with_one_receipt(app)
    assert (receipt.via, "K-" in receipt.body) == ("beni-a", True)


async def test_a_handset_message_processed_late_is_answered_in_time_and_finished_later(
    settings: Settings, demo: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The gateway app on a liaison's handset waits for the answer as Twilio does: a request
    # held by the database must end at the deadline, not when the database lets go.
    real = Pipeline.process
    tries: list[int] = []

    async def hangs_first(
        self: Pipeline, message_id: int, *, reply_by_sms: bool = False, **more: bool
    ) -> object:
        tries.append(message_id)
        if len(tries) == 1:
            await asyncio.sleep(3600)  # the request's own try hangs on the database
        return await real(self, message_id, reply_by_sms=reply_by_sms, **more)

    monkeypatch.setattr(Pipeline, "process", hangs_first)
    app = _late_app(settings)
    async with running(app) as client:
        # The 2 s deadline, not the hour; the bound leaves room for a loaded machine.
        assert await _post_from_handset(app, settings, client) < 5.0
        await _finished_with_a_receipt_through_the_handset(app)


async def test_a_handset_whose_word_cannot_be_recorded_is_answered_in_time(
    settings: Settings, demo: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Recording that the channel spoke is a transaction of its own, between storing the
    # message and processing it: held by the database, it must not hold the answer either.
    async def hangs(*_: object, **__: object) -> None:
        await asyncio.sleep(3600)

    app = _late_app(settings)
    async with running(app) as client:
        monkeypatch.setattr(channel_webhooks, "channel_heard", hangs)
        # The 2 s deadline, not the hour; the bound leaves room for a loaded machine.
        assert await _post_from_handset(app, settings, client) < 5.0
        monkeypatch.undo()
        await _finished_with_a_receipt_through_the_handset(app)


async def _hangs(*_: object, **__: object) -> None:
    await asyncio.sleep(3600)


async def test_a_handset_webhook_whose_channel_cannot_be_read_answers_503_in_time(
    settings: Settings, demo: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Reading the channel (its signing key) comes before the message is stored: held by the
    database, it must end at the deadline too, with an answer the app sends again on."""
    app = _late_app(settings)
    async with running(app) as client:
        handset = await add_beni_handset(app.state.sessionmaker, settings)
        body, headers = handset.webhook(
            "sms:received", {"phoneNumber": "+243810000101", "message": "Attaque a Mavivi"}
        )
        monkeypatch.setattr(channel_webhooks, "_channel", _hangs)
        began = time.monotonic()
        post = client.post("/webhooks/smsgate/beni-a", content=body, headers=headers)
        response = await asyncio.wait_for(post, 30)
        # The 2 s deadline, not the hour; the bound leaves room for a loaded machine.
        assert time.monotonic() - began < 5.0
        assert response.status_code == 503 and response.json()["error"] == "ServiceUnavailable"
        monkeypatch.undo()
        again = await client.post("/webhooks/smsgate/beni-a", content=body, headers=headers)
        assert again.json()["status"] == "stored", "sent again, it is stored"


async def test_a_handset_delivery_report_held_by_the_database_answers_503_in_time(
    settings: Settings, demo: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = _late_app(settings)
    async with running(app) as client:
        handset = await add_beni_handset(app.state.sessionmaker, settings)
        body, headers = handset.webhook("sms:delivered", {"messageId": "kengele-1"})
        monkeypatch.setattr(channel_webhooks, "record_status", _hangs)
        began = time.monotonic()
        post = client.post("/webhooks/smsgate/beni-a", content=body, headers=headers)
        response = await asyncio.wait_for(post, 30)
        assert time.monotonic() - began < 5.0
        assert response.status_code == 503


def _commit_answered_late(monkeypatch: pytest.MonkeyPatch, seconds: float) -> list[int]:
    """The first processing's COMMIT goes through, but its answer comes `seconds` late (a slow
    network, a loaded server): past the deadline, the wait for it is cancelled while the
    message and its alert are committed. Returns a list that counts the commits so delayed."""
    real = pipeline_module.unit_of_work
    late: list[int] = []

    @asynccontextmanager
    async def answered_late(factory: Any) -> AsyncIterator[Any]:
        async with real(factory) as session:
            yield session
        if not late:
            late.append(1)
            await asyncio.sleep(seconds)

    monkeypatch.setattr(pipeline_module, "unit_of_work", answered_late)
    return late


async def test_a_message_whose_commit_is_answered_after_the_deadline_gets_its_receipt(
    settings: Settings, demo: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The webhook answered without the receipt (it was late), yet the alert was filed: the
    receipt goes by SMS, once, and nothing is filed twice."""
    late = _commit_answered_late(monkeypatch, 3.0)
    app = _late_app(settings)
    async with running(app) as client:
        response = await post_twilio(client, SMS, sms_form("+243810000101", "Attaque a Mavivi"))
        assert late, "the processing's commit was the late one"
        assert response.status_code == 200 and "K-" not in response.text

        async def replied() -> bool:
            async with app.state.sessionmaker() as s:
                return (
                    await s.scalar(select(Delivery).where(Delivery.purpose == "reply")) is not None
                )

        await wait_until(replied, within=5, what="the receipt by SMS")
        receipt = await _finished_with_one_receipt(app)
        assert "K-" in receipt.body, "the receipt goes out by SMS"
        async with app.state.sessionmaker() as s:
            alerts = (await s.scalars(select(Alert))).all()
            message = await s.scalar(select(InboundMessage))
        assert len(alerts) == 1 and alerts[0].ref in receipt.body
        assert message is not None and "K-" not in (message.reply or ""), (
            "a replay of the webhook gets no second receipt"
        )


async def test_a_queued_message_whose_commit_is_answered_late_is_filed_and_receipted_once(
    settings: Settings, demo: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The loops' deadline (KENGELE_PROCESS_TIMEOUT_SECONDS) cancels the wait for a commit
    that went through: the failure noted then changes nothing, and no retry files it again."""
    queued = settings.model_copy(
        update={
            "inbound_mode": "queued",
            "run_worker": False,
            "process_timeout_seconds": 1.0,
            "reprocess_interval_seconds": 0.2,
        }
    )
    late = _commit_answered_late(monkeypatch, 2.0)
    app = create_app(queued)
    async with running(app) as client:
        await post_twilio(client, SMS, sms_form("+243810000101", "Attaque a Mavivi"))
        await app.state.pipeline.reprocess_due()
        assert late, "the processing's commit was the late one"
        await asyncio.sleep(2.5)  # the late answer has come
        await app.state.pipeline.reprocess_due(left_before=utcnow())
        receipt = await _finished_with_one_receipt(app)
        async with app.state.sessionmaker() as s:
            alerts = (await s.scalars(select(Alert))).all()
            message = await s.scalar(select(InboundMessage))
    assert len(alerts) == 1 and alerts[0].ref in receipt.body
    assert message is not None and message.last_error is None


async def test_a_twilio_retry_while_the_late_receipt_is_on_its_way_makes_one_receipt(
    settings: Settings, demo: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Twilio gave up on the first request (its answer came late, without the receipt) and
    posts the same MessageSid again while the first request's late path has not yet taken the
    receipt: the villager gets it once, by SMS, not also in the retry's TwiML."""
    _commit_answered_late(monkeypatch, 3600.0)  # the wait is cancelled at the deadline
    real_late = Pipeline._receipt_after_late
    late_path_may_go = asyncio.Event()

    async def held(self: Pipeline, work: Any, message_id: int) -> None:
        await late_path_may_go.wait()  # held until the retry has been answered
        await real_late(self, work, message_id)

    monkeypatch.setattr(Pipeline, "_receipt_after_late", held)
    app = _late_app(settings)
    form = sms_form("+243810000101", "Attaque a Mavivi")
    async with running(app) as client:
        first = await post_twilio(client, SMS, form)
        assert first.status_code == 200 and "K-" not in first.text
        pending = set(app.state.pipeline._late_receipts)
        assert pending, "the first request's late path waits to send the receipt"
        retry = await post_twilio(client, SMS, form)
        assert retry.status_code == 200
        late_path_may_go.set()
        await asyncio.gather(*pending)
        async with app.state.sessionmaker() as s:
            replies = (await s.scalars(select(Delivery).where(Delivery.purpose == "reply"))).all()
            alerts = (await s.scalars(select(Alert))).all()
    in_twiml = [alerts[0].ref] if alerts[0].ref in retry.text else []
    by_sms = [d.body for d in replies if alerts[0].ref in d.body]
    assert len(alerts) == 1
    assert len(in_twiml) + len(by_sms) == 1, (retry.text, by_sms)
