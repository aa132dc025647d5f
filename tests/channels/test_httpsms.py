"""httpSMS ↔ the gateway: its CloudEvents with a JWT become alerts and flashes once; receipts
leave through its send API and its events move the delivery; heartbeats mark the channel."""

from __future__ import annotations

import time

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.alerts.models import Alert
from app.channels import service as channels
from app.channels.models import Channel
from app.inbound.models import InboundMessage
from app.kit.config import Settings
from app.kit.db import unit_of_work
from app.outbox.models import Delivery
from app.providers.httpsms import make_token
from tests.channels.support import add_channel, has_provider_id
from tests.escalation.support import FOCAL_MAVIVI, gateway, ref_in
from tests.fakes.httpsms_api import HttpSmsFake
from tests.support import PUBLIC_URL

PATH = "/webhooks/httpsms/oicha"
URL = PUBLIC_URL + PATH
FOCAL_MBAU = "+243810000104"  # home: Mbau


@pytest.fixture
async def phone(
    client: httpx.AsyncClient, app: FastAPI, settings: Settings, demo: None
) -> HttpSmsFake:
    """The channel oicha (an httpSMS phone), signing with the stand-in's key (not started)."""
    fake = HttpSmsFake()
    await add_channel(
        app.state.sessionmaker,
        settings,
        "httpsms",
        "oicha",
        numbers=["+243970000009"],
        options={"signing_key": fake.signing_key, "api_key": fake.api_key},
    )
    return fake


async def _count(session: AsyncSession, model: type[object]) -> int:
    return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def test_the_documented_received_sms_becomes_an_alert(
    client: httpx.AsyncClient, phone: HttpSmsFake, session: AsyncSession
) -> None:
    body, headers = phone.webhook("message.phone.received", URL, new_ids=False)
    response = await client.post(PATH, content=body, headers=headers)
    assert response.status_code == 200, response.text
    message = await session.scalar(select(InboundMessage))
    assert message is not None
    assert (message.provider, message.provider_sid, message.kind) == (
        "oicha",
        "32343a19-da5e-4b1b-a767-3298a73703cb",
        "sms",
    )
    assert (message.from_phone, message.body) == ("+18005550100", "This is a sample text message")
    assert message.alert_id is not None


async def test_a_missed_call_is_a_flash_at_the_callers_home_and_ten_are_one_alert(
    client: httpx.AsyncClient, phone: HttpSmsFake, session: AsyncSession
) -> None:
    for _ in range(10):
        body, headers = phone.webhook("message.call.missed", URL, {"contact": FOCAL_MBAU})
        assert (await client.post(PATH, content=body, headers=headers)).status_code == 200

    [alert] = (await session.scalars(select(Alert))).all()
    assert (alert.kind, alert.category, alert.severity) == ("call", "FLASH", "high")
    assert (alert.place_id, alert.location_source) == ("mbau", "reporter_home")
    assert alert.message_count == 10
    assert await _count(session, InboundMessage) == 10
    # A flash gets no receipt (as with Twilio: the call was not answered, nothing to reply).
    assert (
        await _count(session, Delivery) == await _count(session, Delivery) - 0
        and not (await session.scalars(select(Delivery).where(Delivery.purpose == "reply"))).all()
    )


async def test_the_same_event_five_times_is_one_message_and_one_alert(
    client: httpx.AsyncClient, phone: HttpSmsFake, session: AsyncSession
) -> None:
    body, headers = phone.webhook("message.phone.received", URL, {"contact": FOCAL_MAVIVI})
    answers = [(await client.post(PATH, content=body, headers=headers)).json() for _ in range(5)]
    assert [a["status"] for a in answers] == ["stored"] + ["replayed"] * 4
    assert (await _count(session, InboundMessage), await _count(session, Alert)) == (1, 1)


@pytest.mark.parametrize(
    "forgery",
    ["wrong key", "no token", "not bearer", "expired", "other URL", "long-lived", "alg none"],
)
async def test_a_forged_missing_or_expired_token_is_refused_and_nothing_stored(
    client: httpx.AsyncClient, phone: HttpSmsFake, session: AsyncSession, forgery: str
) -> None:
    now = int(time.time())
    body, headers = phone.webhook(
        "message.phone.received",
        "https://elsewhere.test/hook" if forgery == "other URL" else URL,
        issued_at=now - 700 if forgery == "expired" else None,
        key="not-the-signing-key-at-all-0123456789" if forgery == "wrong key" else None,
    )
    if forgery == "no token":
        del headers["Authorization"]
    if forgery == "not bearer":
        headers["Authorization"] = headers["Authorization"].replace("Bearer", "Basic")
    if forgery == "long-lived":
        token = make_token(phone.signing_key, URL, now, lifetime=30 * 24 * 3600)
        headers["Authorization"] = f"Bearer {token}"
    if forgery == "alg none":
        import jwt

        token = jwt.encode({"aud": URL, "iat": now, "exp": now + 600}, None, algorithm="none")
        headers["Authorization"] = f"Bearer {token}"

    response = await client.post(PATH, content=body, headers=headers)

    assert response.status_code == 403, response.text
    assert response.json()["error"] == "Forbidden"
    assert await _count(session, InboundMessage) == 0


@pytest.mark.parametrize(
    ("body", "status", "names"),
    [
        (b"{", 400, "JSON"),
        (b'{"specversion": "1.0", "id": "x", "type": "message.phone.received"}', 422, "data"),
        (
            b'{"specversion": "1.0", "id": "x", "type": "message.phone.received",'
            b' "data": {"message_id": "m", "content": "x"}}',
            422,
            "contact",
        ),
        (
            b'{"specversion": "1.0", "id": "x", "type": "message.phone.received",'
            b' "data": {"message_id": "m", "contact": "+243810000101", "encrypted": true}}',
            422,
            "encrypted",
        ),
    ],
)
async def test_a_malformed_body_gets_a_json_error_and_nothing_is_stored(
    client: httpx.AsyncClient,
    phone: HttpSmsFake,
    session: AsyncSession,
    body: bytes,
    status: int,
    names: str,
) -> None:
    token = make_token(phone.signing_key, URL, int(time.time()))
    headers = {"Authorization": f"Bearer {token}", "X-Event-Type": "message.phone.received"}
    response = await client.post(PATH, content=body, headers=headers)
    assert response.status_code == status, response.text
    assert names in str(response.json()["detail"])
    assert await _count(session, InboundMessage) == 0


async def test_offline_marks_the_channel_down_and_online_brings_it_back(
    client: httpx.AsyncClient, phone: HttpSmsFake, session: AsyncSession
) -> None:
    for event, down in (("phone.heartbeat.offline", True), ("phone.heartbeat.online", False)):
        body, headers = phone.webhook(event, URL)
        assert (await client.post(PATH, content=body, headers=headers)).status_code == 200
        await session.rollback()  # a new snapshot of the database
        channel = await session.scalar(select(Channel).where(Channel.name == "oicha"))
        assert channel is not None
        await session.refresh(channel)
        assert channel.down is down


@pytest.mark.usefixtures("engine")
async def test_the_receipt_leaves_through_httpsms_and_its_events_move_the_delivery(
    settings: Settings,
) -> None:
    with HttpSmsFake() as fake:
        async with gateway(settings) as gw:
            await add_channel(
                gw.sessionmaker,
                gw.settings,
                "httpsms",
                "oicha",
                numbers=["+243970000009"],
                options={
                    "signing_key": fake.signing_key,
                    "api_key": fake.api_key,
                    "api_url": fake.base_url,
                },
            )
            body, headers = fake.webhook(
                "message.phone.received",
                URL,
                {"contact": FOCAL_MAVIVI, "content": "Attaque en cours a Mavivi"},
            )
            assert (await gw.client.post(PATH, content=body, headers=headers)).status_code == 200

            await gw.wait_for(lambda: len(fake.accepted(FOCAL_MAVIVI)) == 1)
            sent = fake.accepted(FOCAL_MAVIVI)[0]
            assert sent.json["from"] == "+243970000009"
            assert ref_in(sent.json["content"]) == (await gw.alert()).ref
            [receipt] = await gw.outbox(purpose="reply")
            await gw.wait_for(lambda: has_provider_id(gw, receipt.id))

            for event in ("message.phone.sent", "message.phone.delivered"):
                body, headers = fake.webhook(event, URL, {"id": sent.id})
                answer = await gw.client.post(PATH, content=body, headers=headers)
                assert answer.json()["status"] == "recorded", answer.text
            receipt = await gw.delivery(receipt.id)
            assert (receipt.via, receipt.status) == ("oicha", "delivered")
            assert gw.sent_to(FOCAL_MAVIVI) == []


async def test_a_channel_stored_with_an_empty_key_refuses_every_post(
    client: httpx.AsyncClient, app: FastAPI, phone: HttpSmsFake, session: AsyncSession
) -> None:
    # Configuration refuses an empty key now; one stored before is a 403, not a server error.
    async with unit_of_work(app.state.sessionmaker) as s:
        (await channels.named(s, "oicha")).secrets = {"signing_key": "", "api_key": "k"}
    body, headers = phone.webhook("message.phone.received", URL, {"contact": FOCAL_MAVIVI})

    response = await client.post(PATH, content=body, headers=headers)

    assert response.status_code == 403, response.text
    assert await _count(session, InboundMessage) == 0
