"""Channels' webhooks given an id (or a channel name) with a control character in it, which
no provider sends and PostgreSQL cannot store or look up (NUL): a clear 4xx naming the
field, nothing stored, never a 500 (as the Twilio webhooks answer, tests/inbound)."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.inbound.models import InboundMessage
from app.kit.config import Settings
from tests.channels.support import add_channel
from tests.fakes.httpsms_api import HttpSmsFake
from tests.fakes.smsgate_api import SmsGateFake
from tests.support import PUBLIC_URL

SECRET = "callback-secret-0123456789abcdef"
SMSGATE = SmsGateFake()
HTTPSMS = HttpSmsFake()
FOCAL = "+243810000101"


@pytest.fixture
async def channels(client: httpx.AsyncClient, app: FastAPI, settings: Settings, demo: None) -> None:
    """One channel of each kind that takes messages by webhook."""
    sessionmaker = app.state.sessionmaker
    options: dict[str, dict[str, str]] = {
        "smsgate": {"signing_key": SMSGATE.signing_key},
        "httpsms": {"signing_key": HTTPSMS.signing_key, "api_key": HTTPSMS.api_key},
        "http": {"secret": SECRET, "in_id": "id"},
        "africastalking": {"username": "kengele", "api_key": "k", "secret": SECRET},
    }
    for kind, given in options.items():
        await add_channel(
            sessionmaker, settings, kind, kind, numbers=["+243970000001"], options=given
        )


def _smsgate(**payload: str) -> tuple[str, dict[str, object]]:
    event_id = payload.pop("event_id", "ev-1")
    body, headers = SMSGATE.webhook(
        "sms:sent" if "messageId" in payload else "sms:received", payload, event_id=event_id
    )
    return "/webhooks/smsgate/smsgate", {"content": body, "headers": headers}


def _httpsms(event: str, **data: str) -> tuple[str, dict[str, object]]:
    path = "/webhooks/httpsms/httpsms"
    body, headers = HTTPSMS.webhook(event, PUBLIC_URL + path, data)
    return path, {"content": body, "headers": headers}


def _form(path: str, **fields: str) -> tuple[str, dict[str, object]]:
    return path, {"data": fields}


HTTP = f"/webhooks/http/http/{SECRET}"
AT = f"/webhooks/africastalking/africastalking/{SECRET}"
# Built when the test runs: httpSMS's tokens are only good for minutes.
CASES: dict[str, tuple[Callable[[], tuple[str, dict[str, object]]], str]] = {
    "smsgate event id": (lambda: _smsgate(event_id="ev\x00-1", phoneNumber=FOCAL), "id"),
    "smsgate status id": (lambda: _smsgate(messageId="m\x00-1"), "messageId"),
    "httpsms message id": (
        lambda: _httpsms("message.phone.received", message_id="m\x00-1"),
        "message_id",
    ),
    "httpsms status id": (lambda: _httpsms("message.phone.delivered", id="m\x00-1"), "id"),
    "http message id": (
        lambda: _form(HTTP, **{"from": FOCAL, "text": "Attaque", "id": "m\x00-1"}),
        "id",
    ),
    "http report id": (lambda: _form(HTTP, id="m\x00-1", status="delivered"), "id"),
    "at message id": (
        lambda: _form(AT, **{"from": FOCAL, "text": "Attaque", "id": "m\x00-1"}),
        "id",
    ),
    "at report id": (lambda: _form(AT, id="m\x00-1", status="Success"), "id"),
    "channel name": (lambda: _form("/webhooks/http/ht%00tp/x", text="A"), "name"),
}


@pytest.mark.usefixtures("channels")
@pytest.mark.parametrize(("build", "field"), list(CASES.values()), ids=list(CASES))
async def test_a_control_character_in_an_id_is_a_clear_4xx_and_nothing_is_stored(
    client: httpx.AsyncClient,
    session: AsyncSession,
    build: Callable[[], tuple[str, dict[str, object]]],
    field: str,
) -> None:
    path, how = build()
    response = await client.post(path, **how)  # type: ignore[arg-type]

    assert response.status_code == 422, response.text
    assert field in str(response.json()["detail"])
    assert await session.scalar(select(func.count()).select_from(InboundMessage)) == 0
