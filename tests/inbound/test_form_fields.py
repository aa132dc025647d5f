"""Signed Twilio forms with fields no Twilio sends: a clear 400 or a safe store, never a 500."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.alerts.models import Alert
from app.inbound.models import InboundMessage
from tests.support import call_form, post_twilio, sms_form

SMS = "/webhooks/twilio/sms"
VOICE = "/webhooks/twilio/voice"
STATUS = "/webhooks/twilio/status"
FOCAL = "+243810000101"
TOO_LONG = "SM" + "a" * 63  # 65 characters: the column holds 64


def _status_form(**fields: str) -> dict[str, str]:
    return {"MessageSid": "SM" + "1" * 32, "MessageStatus": "delivered", **fields}


def _sms(**fields: str) -> dict[str, str]:
    return {**sms_form(FOCAL, "Attaque a Mavivi"), **fields}


def _call(**fields: str) -> dict[str, str]:
    return {**call_form(FOCAL), **fields}


@pytest.mark.parametrize(
    ("path", "form", "field"),
    [
        (SMS, _sms(MessageSid=TOO_LONG, SmsSid=TOO_LONG), "MessageSid"),
        (SMS, _sms(MessageSid="SM\x00" + "1" * 31, SmsSid="x"), "MessageSid"),
        (SMS, _sms(MessageSid="SM 12\n34"), "MessageSid"),
        (SMS, {k: v for k, v in _sms(SmsSid=TOO_LONG).items() if k != "MessageSid"}, "SmsSid"),
        (VOICE, _call(CallSid="CA" + "b" * 63), "CallSid"),
        (VOICE, _call(CallSid="CA\x00bad"), "CallSid"),
        (VOICE, _call(CallSid="CA\u00e9t\u00e9"), "CallSid"),
        (STATUS, _status_form(MessageSid=TOO_LONG), "MessageSid"),
        (STATUS, _status_form(MessageSid="SM\x00x"), "MessageSid"),
        (STATUS, _status_form(MessageStatus="delivered" * 4), "MessageStatus"),
        (STATUS, _status_form(MessageStatus="deliv\x00ered"), "MessageStatus"),
    ],
)
async def test_an_id_no_twilio_sends_is_a_clear_400(
    client: httpx.AsyncClient, session: AsyncSession, path: str, form: dict[str, str], field: str
) -> None:
    response = await post_twilio(client, path, form)

    assert response.status_code == 400, response.text
    body = response.json()
    assert body["error"] == "BadRequest" and field in body["detail"]
    assert await session.scalar(select(func.count()).select_from(InboundMessage)) == 0


@pytest.mark.parametrize(
    ("path", "form"),
    [
        (SMS, _sms(From=FOCAL + "\x00", To="+243800000000" + "9" * 40)),
        (SMS, _sms(AccountSid="AC\x00" + "z" * 100, Body="Attaque\x00 a Mavivi")),
        (SMS, _sms(SmsStatus="received\x00" * 10, NumMedia="\x00")),
        (VOICE, _call(CallStatus="ringing\x00" * 10, From=FOCAL + "\x01")),
        (VOICE, _call(To="\x00" * 100, AccountSid="AC" + "0" * 200)),
    ],
)
async def test_other_fields_are_stored_safely_and_make_an_alert(
    client: httpx.AsyncClient, demo: None, session: AsyncSession, path: str, form: dict[str, str]
) -> None:
    response = await post_twilio(client, path, form)

    assert response.status_code == 200, response.text
    message = await session.scalar(select(InboundMessage))
    assert message is not None and message.status == "processed"
    assert "\x00" not in message.from_phone + message.to_phone + message.body
    assert await session.scalar(select(func.count()).select_from(Alert)) == 1


@pytest.mark.parametrize("code", ["99999999999999", "\u00b2", "-1", "3O2"])
async def test_a_status_callback_with_a_strange_error_code_is_recorded(
    client: httpx.AsyncClient, code: str
) -> None:
    response = await post_twilio(
        client, STATUS, _status_form(MessageStatus="failed", ErrorCode=code)
    )
    assert response.status_code == 204
