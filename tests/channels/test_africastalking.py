"""Africa's Talking: its unsigned callbacks are taken only at the URL carrying the channel's
secret (and from allowed sources); messages become alerts once; sends go through the
official SDK against a stand-in; delivery reports map to delivery status."""

from __future__ import annotations

import io
import json
import logging
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.alerts.models import Alert
from app.inbound.models import InboundMessage
from app.kit.config import Settings
from app.kit.observability import configure_logging
from tests.channels.support import add_channel, has_provider_id
from tests.escalation.support import FOCAL_MAVIVI, gateway, ref_in
from tests.fakes.africastalking_api import AfricasTalkingFake, documented

SECRET = "at-callback-secret-0123456789abcdef"
URL = f"/webhooks/africastalking/uganda/{SECRET}"


async def _count(session: AsyncSession, model: type[object]) -> int:
    await session.rollback()  # a fresh snapshot of the database
    return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def _add(app: FastAPI, settings: Settings, **options: str) -> None:
    await add_channel(
        app.state.sessionmaker,
        settings,
        "africastalking",
        "uganda",
        options={"username": "kengele", "api_key": "k", "secret": SECRET, **options},
    )


async def test_the_documented_message_becomes_an_alert_once(
    client: httpx.AsyncClient, app: FastAPI, settings: Settings, demo: None, session: AsyncSession
) -> None:
    await _add(app, settings)
    form = documented("incoming_message")
    answers = [(await client.post(URL, data=form)).json() for _ in range(5)]
    assert [a["status"] for a in answers] == ["stored"] + ["replayed"] * 4
    assert (await _count(session, InboundMessage), await _count(session, Alert)) == (1, 1)
    message = await session.scalar(select(InboundMessage))
    assert message is not None
    assert (message.provider, message.provider_sid, message.to_phone) == (
        "uganda",
        form["id"],
        "40123",
    )
    alert = await session.scalar(select(Alert))
    assert alert is not None and alert.place_id == "mavivi"


async def test_the_callback_secret_never_reaches_the_log(
    client: httpx.AsyncClient, app: FastAPI, settings: Settings, demo: None
) -> None:
    await _add(app, settings)
    stream = io.StringIO()
    root = logging.getLogger()
    level = root.level
    handler = configure_logging(settings, "INFO", stream=stream)  # as `kengele serve` does
    try:
        taken = await client.post(URL, data=documented("incoming_message"))
        mistyped = await client.post(f"{URL}/x", data=documented("incoming_message"))
        # A callback URL joined with a slash too many (a base URL ending with one).
        doubled_url = str(client.base_url).rstrip("/") + "/" + URL
        doubled = await client.post(doubled_url, data=documented("incoming_message"))
    finally:
        root.removeHandler(handler)
        root.setLevel(level)
    assert (taken.status_code, mistyped.status_code, doubled.status_code) == (200, 404, 404)
    written = [json.loads(line) for line in stream.getvalue().splitlines()]
    access = [line for line in written if line["logger"] == "kengele.access"]
    # Operators still read whose callback it was, and how it was answered.
    assert [(line["path"], line["status"]) for line in access] == [
        ("/webhooks/africastalking/uganda/***", 200),
        ("/webhooks/africastalking/uganda/***", 404),
        ("//webhooks/africastalking/uganda/***", 404),
    ]
    assert access[0]["route"] == "/webhooks/{kind}/{name}/{token}"
    # Every line of the gateway (the test's own client logs its requests as "httpx").
    gateway_lines = [json.dumps(line) for line in written if line["logger"] != "httpx"]
    assert not [line for line in gateway_lines if SECRET in line]


@pytest.mark.parametrize(
    ("url", "allow", "status"),
    [
        ("/webhooks/africastalking/uganda/not-the-secret", "", 403),
        ("/webhooks/africastalking/uganda/%C3%A9", "", 403),  # é: beyond ASCII, still a 403
        ("/webhooks/africastalking/uganda", "", 403),
        (URL, "196.201.214.0/24", 403),  # the gateway sees 127.0.0.1: not allowed
    ],
)
async def test_a_wrong_secret_or_source_is_refused_and_nothing_stored(
    client: httpx.AsyncClient,
    app: FastAPI,
    settings: Settings,
    session: AsyncSession,
    url: str,
    allow: str,
    status: int,
) -> None:
    await _add(app, settings, allow=allow)
    response = await client.post(url, data=documented("incoming_message"))
    assert response.status_code == status, response.text
    assert response.json()["error"] == "Forbidden"
    assert await _count(session, InboundMessage) == 0


async def test_an_allowed_source_posts_and_a_malformed_callback_is_422(
    client: httpx.AsyncClient, app: FastAPI, settings: Settings, session: AsyncSession
) -> None:
    await _add(app, settings, allow="196.201.214.0/24, 127.0.0.1")
    form = documented("incoming_message")
    del form["id"]
    bad = await client.post(URL, data=form)
    assert bad.status_code == 422 and "id" in bad.json()["detail"]
    assert await _count(session, InboundMessage) == 0
    ok = await client.post(URL, data=documented("incoming_message"))
    assert ok.status_code == 200
    assert await _count(session, InboundMessage) == 1


async def test_an_empty_sms_is_stored_and_filed_as_through_twilio(
    client: httpx.AsyncClient, app: FastAPI, settings: Settings, demo: None, session: AsyncSession
) -> None:
    # A focal point's blank SMS (no credit for words, a thumb on send): Twilio's webhook files
    # it as an alert (tests/inbound/test_sms_webhook.py), and so must this channel.
    await _add(app, settings)
    response = await client.post(URL, data={**documented("incoming_message"), "text": ""})
    assert response.status_code == 200, response.text
    assert (await _count(session, InboundMessage), await _count(session, Alert)) == (1, 1)


async def test_a_bad_allow_list_is_refused_at_creation(
    client: httpx.AsyncClient, admin_headers: dict[str, str]
) -> None:
    response = await client.post(
        "/api/v1/channels",
        headers=admin_headers,
        json={"kind": "africastalking", "name": "ug", "options": {"allow": "everyone"}},
    )
    assert response.status_code == 422 and "allow" in response.json()["detail"]


@pytest.mark.usefixtures("engine")
async def test_the_receipt_goes_through_the_sdk_and_its_report_maps_to_delivered(
    settings: Settings,
) -> None:
    with AfricasTalkingFake() as fake:
        async with gateway(settings) as gw:
            await add_channel(
                gw.sessionmaker,
                gw.settings,
                "africastalking",
                "uganda",
                numbers=["+256700000001"],
                options={
                    "username": fake.username,
                    "api_key": fake.api_key,
                    "secret": SECRET,
                    "api_url": fake.base_url,
                },
                priority=50,
            )
            form = {**documented("incoming_message"), "from": FOCAL_MAVIVI}
            assert (await gw.client.post(URL, data=form)).status_code == 200

            def receipts() -> list[Any]:
                return [r for r in fake.accepted() if r.form["to"] == FOCAL_MAVIVI]

            await gw.wait_for(lambda: len(receipts()) == 1)
            sent = receipts()[0]
            assert (sent.form["to"], sent.form["from"]) == (FOCAL_MAVIVI, "+256700000001")
            assert ref_in(sent.form["message"]) == (await gw.alert()).ref
            [receipt] = await gw.outbox(purpose="reply")
            await gw.wait_for(lambda: has_provider_id(gw, receipt.id))

            report = {**documented("delivery_report"), "id": sent.id}
            answer = await gw.client.post(URL, data=report)
            assert answer.json()["status"] == "recorded", answer.text
            receipt = await gw.delivery(receipt.id)
            assert (receipt.via, receipt.status) == ("uganda", "delivered")
