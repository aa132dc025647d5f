"""Nothing Twilio handed over is lost: a failing pipeline is retried, also after a restart."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.alerts.models import Alert
from app.flows.inbound import Inbound
from app.inbound.models import InboundMessage
from app.kit.clock import utcnow
from app.kit.config import Settings
from app.main import create_app
from app.outbox.models import Delivery
from tests.harness.gateway import running
from tests.inbound.conftest import Outage
from tests.support import post_twilio, sms_form, wait_until

SMS = "/webhooks/twilio/sms"


async def _state(sessionmaker: async_sessionmaker[AsyncSession]) -> tuple[str, int]:
    async with sessionmaker() as s:
        message = await s.scalar(select(InboundMessage))
        alerts = int(await s.scalar(select(func.count()).select_from(Alert)) or 0)
    assert message is not None
    return message.status, alerts


async def _wait_processed(sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    async def processed() -> bool:
        return (await _state(sessionmaker))[0] == "processed"

    await wait_until(processed, what="reprocessing of the message")


async def test_failed_pipeline_keeps_the_message_and_retries_it(
    client: httpx.AsyncClient,
    demo: None,
    sessionmaker: async_sessionmaker[AsyncSession],
    outage: Outage,
) -> None:

    response = await post_twilio(client, SMS, sms_form("+243810000101", "Attaque a Mavivi"))

    assert response.status_code == 200, "Twilio still gets its 200"
    assert "<Response" in response.text
    assert await _state(sessionmaker) == ("received", 0)
    async with sessionmaker() as s:
        message = await s.scalar(select(InboundMessage))
        assert message is not None and "simulated outage" in (message.last_error or "")

    outage.over = True
    await _wait_processed(sessionmaker)
    assert await _state(sessionmaker) == ("processed", 1)
    # Twilio's request is long gone: the receipt goes out by SMS instead.
    async with sessionmaker() as s:
        alert = await s.scalar(select(Alert))
        reply = await s.scalar(select(Delivery).where(Delivery.purpose == "reply"))
    assert alert is not None and reply is not None
    assert (reply.recipient, reply.alert_id) == ("+243810000101", alert.id)
    assert alert.ref in reply.body


async def test_message_left_received_is_processed_after_a_restart(
    settings: Settings,
    engine: object,
    demo: None,
    sessionmaker: async_sessionmaker[AsyncSession],
    outage: Outage,
) -> None:
    # First process: the safety net is slow, so the message stays failed until the stop.
    slow = settings.model_copy(update={"reprocess_interval_seconds": 3600})
    async with running(create_app(slow)) as client:
        form = sms_form("+243810000101", "Attaque a Mavivi")
        assert (await post_twilio(client, SMS, form)).status_code == 200
    assert await _state(sessionmaker) == ("received", 0)

    outage.over = True
    async with running(create_app(settings)) as client:
        await _wait_processed(sessionmaker)
        # Twilio retrying the same MessageSid (its first try got no answer from the crashed
        # process): nothing is created twice, and the receipt is not given twice either.
        again = await post_twilio(client, SMS, form)
        assert again.status_code == 200
        assert "K-" not in again.text and "<Message" not in again.text
    assert await _state(sessionmaker) == ("processed", 1)
    async with sessionmaker() as s:
        replies = (await s.scalars(select(Delivery).where(Delivery.purpose == "reply"))).all()
    assert len(replies) == 1 and "K-" in replies[0].body, "the receipt went out once, by SMS"


async def test_a_retry_of_twilio_before_the_safety_net_gets_the_receipt_once(
    settings: Settings,
    engine: object,
    demo: None,
    sessionmaker: async_sessionmaker[AsyncSession],
    outage: Outage,
) -> None:
    """The other order after a crash: Twilio's retry comes first and processes the message;
    its answer carries no receipt (a retry's never does: the first request may be sending it
    by SMS), the receipt goes by SMS, and the safety net then finds the message done and
    sends no second one."""
    slow = settings.model_copy(update={"reprocess_interval_seconds": 3600})
    form = sms_form("+243810000101", "Attaque a Mavivi")
    async with running(create_app(slow)) as client:
        assert (await post_twilio(client, SMS, form)).status_code == 200
        outage.over = True
        again = await post_twilio(client, SMS, form)
        assert again.status_code == 200 and "K-" not in again.text
    async with running(create_app(settings)):
        await asyncio.sleep(0.5)  # the safety net's first pass takes what was left received
    assert await _state(sessionmaker) == ("processed", 1)
    async with sessionmaker() as s:
        replies = (await s.scalars(select(Delivery).where(Delivery.purpose == "reply"))).all()
    assert len(replies) == 1 and "K-" in replies[0].body, "the receipt went out once, by SMS"


async def test_replay_of_a_failed_message_processes_it_once(
    client: httpx.AsyncClient,
    demo: None,
    sessionmaker: async_sessionmaker[AsyncSession],
    outage: Outage,
) -> None:
    form = sms_form("+243810000101", "Attaque a Mavivi")
    await post_twilio(client, SMS, form)
    outage.over = True
    replies = await asyncio.gather(*(post_twilio(client, SMS, form) for _ in range(5)))
    assert all(r.status_code == 200 for r in replies)
    await _wait_processed(sessionmaker)
    assert await _state(sessionmaker) == ("processed", 1)


def _inbound(form: dict[str, str]) -> Inbound:
    return Inbound(
        provider="twilio",
        provider_sid=form["MessageSid"],
        kind="sms",
        from_phone=form["From"],
        to_phone=form["To"],
        body=form["Body"],
        raw=form,
    )


@pytest.mark.parametrize("first", ["safety net", "webhook"])
async def test_a_message_in_flight_in_one_process_gets_one_receipt_when_another_starts(
    settings: Settings,
    engine: object,
    demo: None,
    sessionmaker: async_sessionmaker[AsyncSession],
    first: str,
) -> None:
    """Process A has stored a webhook's message and not yet processed it when process B
    starts (`serve --workers 2`, a restarted worker): B's first safety-net pass takes every
    message received before its start, this one included. Whichever of the two gets to it
    first, the reporter gets one receipt: by SMS when B processed it (A's webhook then
    answers the stored empty TwiML), as TwiML when A did (B then finds it done)."""
    slow = settings.model_copy(update={"reprocess_interval_seconds": 3600})
    a, b = create_app(slow), create_app(slow)
    form = sms_form("+243810000101", "Attaque a Mavivi")
    async with running(a), running(b):
        message_id, stored = await a.state.pipeline.accept(_inbound(form))
        assert stored
        b_first_pass = b.state.pipeline.safety_net(utcnow())  # B starts now
        if first == "safety net":
            await b_first_pass()
            twiml = await a.state.pipeline.handle(message_id)
        else:
            twiml = await a.state.pipeline.handle(message_id)
            await b_first_pass()
    assert await _state(sessionmaker) == ("processed", 1)
    async with sessionmaker() as s:
        replies = (await s.scalars(select(Delivery).where(Delivery.purpose == "reply"))).all()
    receipts = len(replies) + (1 if twiml and "K-" in twiml else 0)
    assert receipts == 1, f"{len(replies)} by SMS, TwiML {twiml!r}"
    assert (len(replies) == 1) == (first == "safety net")
