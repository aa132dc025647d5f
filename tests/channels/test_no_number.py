"""A message whose sender is no number (empty, spaces, a name, a long one), on every
channel: filed, so that the operations room sees it, and never answered: no receipt is
queued to a recipient nothing can be sent to, and no reporter is remembered under it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.alerts.models import Alert
from app.inbound.models import InboundMessage
from app.kit.config import Settings
from app.outbox.models import Delivery
from app.people.models import Reporter
from tests.channels.support import add_channel
from tests.fakes.africastalking_api import documented
from tests.fakes.httpsms_api import HttpSmsFake
from tests.fakes.smsgate_api import SmsGateFake
from tests.support import PUBLIC_URL, post_twilio, sms_form

SECRET = "callback-secret-0123456789abcdef"
TEXT = "Attaque en cours a Mavivi"
Post = Callable[[httpx.AsyncClient, FastAPI, Settings, str], Awaitable[httpx.Response]]


async def _twilio(
    client: httpx.AsyncClient, app: FastAPI, settings: Settings, sender: str
) -> httpx.Response:
    return await post_twilio(client, "/webhooks/twilio/sms", sms_form(sender, TEXT))


async def _http(
    client: httpx.AsyncClient, app: FastAPI, settings: Settings, sender: str
) -> httpx.Response:
    options = {"secret": SECRET, "in_id": "id"}
    await add_channel(app.state.sessionmaker, settings, "http", "agg", options=options)
    form = {"from": sender, "text": TEXT, "id": "agg-1"}
    return await client.post(f"/webhooks/http/agg/{SECRET}", data=form)


async def _africastalking(
    client: httpx.AsyncClient, app: FastAPI, settings: Settings, sender: str
) -> httpx.Response:
    options = {"username": "kengele", "api_key": "k", "secret": SECRET}
    await add_channel(app.state.sessionmaker, settings, "africastalking", "uganda", options=options)
    form = {**documented("incoming_message"), "from": sender, "text": TEXT}
    return await client.post(f"/webhooks/africastalking/uganda/{SECRET}", data=form)


async def _smsgate(
    client: httpx.AsyncClient, app: FastAPI, settings: Settings, sender: str
) -> httpx.Response:
    handset = SmsGateFake()
    options = {"signing_key": handset.signing_key}
    numbers = ["+243970000001"]
    await add_channel(
        app.state.sessionmaker, settings, "smsgate", "beni-a", numbers=numbers, options=options
    )
    body, headers = handset.webhook("sms:received", {"phoneNumber": sender, "message": TEXT})
    return await client.post("/webhooks/smsgate/beni-a", content=body, headers=headers)


async def _httpsms(
    client: httpx.AsyncClient, app: FastAPI, settings: Settings, sender: str
) -> httpx.Response:
    phone = HttpSmsFake()
    options = {"signing_key": phone.signing_key, "api_key": phone.api_key}
    numbers = ["+243970000009"]
    await add_channel(
        app.state.sessionmaker, settings, "httpsms", "oicha", numbers=numbers, options=options
    )
    path = "/webhooks/httpsms/oicha"
    data = {"contact": sender, "content": TEXT}
    body, headers = phone.webhook("message.phone.received", PUBLIC_URL + path, data)
    return await client.post(path, content=body, headers=headers)


CHANNELS: dict[str, Post] = {
    "twilio": _twilio,
    "http": _http,
    "africastalking": _africastalking,
    "smsgate": _smsgate,
    "httpsms": _httpsms,
}
SENDERS = {
    "empty": "",
    "spaces": "   ",
    "a name": "inconnu",
    # Longer than a stored sender (32): cut, never refused (a refusal is retried and refused
    # again, and the alert is lost).
    "a long name": "Service des messages de l'operateur mobile",
}


async def _count(session: AsyncSession, model: type[object]) -> int:
    await session.rollback()  # a fresh snapshot of the database
    return int(await session.scalar(select(func.count()).select_from(model)) or 0)


@pytest.mark.parametrize("sender", SENDERS.values(), ids=SENDERS.keys())
@pytest.mark.parametrize("channel", sorted(CHANNELS))
async def test_a_sender_that_is_no_number_is_filed_and_never_answered(
    client: httpx.AsyncClient,
    app: FastAPI,
    settings: Settings,
    demo: None,
    session: AsyncSession,
    channel: str,
    sender: str,
) -> None:
    reporters = await _count(session, Reporter)
    response = await CHANNELS[channel](client, app, settings, sender)

    assert response.status_code == 200, response.text
    assert "K-" not in response.text, "the TwiML answer carries no receipt either"
    assert (await _count(session, InboundMessage), await _count(session, Alert)) == (1, 1)
    alert = await session.scalar(select(Alert))
    assert alert is not None and (alert.category, alert.place_id) == ("ATTACK", "mavivi")
    replies = (await session.scalars(select(Delivery).where(Delivery.purpose == "reply"))).all()
    assert replies == [], "no receipt queued"
    assert await _count(session, Reporter) == reporters, "nobody remembered under it"


@pytest.mark.parametrize("channel", sorted(CHANNELS))
async def test_a_sender_that_is_a_number_still_gets_its_receipt(
    client: httpx.AsyncClient,
    app: FastAPI,
    settings: Settings,
    demo: None,
    session: AsyncSession,
    channel: str,
) -> None:
    response = await CHANNELS[channel](client, app, settings, "+243899990002")

    assert response.status_code == 200, response.text
    alert = await session.scalar(select(Alert))
    assert alert is not None and alert.from_phone == "+243899990002"
    if channel == "twilio":
        assert alert.ref in response.text, "Twilio's receipt is its TwiML answer"
        return
    replies = (await session.scalars(select(Delivery).where(Delivery.purpose == "reply"))).all()
    assert [(r.recipient, alert.ref in r.body) for r in replies] == [("+243899990002", True)]
