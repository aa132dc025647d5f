"""Missed calls ("flashes"): rejected as busy, recorded as FLASH alerts with a count."""

from __future__ import annotations

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.alerts.models import Alert
from app.inbound.models import InboundMessage
from tests.support import call_form, post_twilio, sign

VOICE = "/webhooks/twilio/voice"


async def test_missed_call_is_rejected_busy_and_becomes_a_flash_alert(
    client: httpx.AsyncClient, demo: None, session: AsyncSession
) -> None:
    response = await post_twilio(client, VOICE, call_form("+243810000104"))

    assert response.status_code == 200
    assert '<Reject reason="busy"' in response.text
    alert = await session.scalar(select(Alert))
    assert alert is not None
    assert (alert.kind, alert.category, alert.severity) == ("call", "FLASH", "high")
    assert (alert.place_id, alert.location_source) == ("mbau", "reporter_home")


async def test_flash_from_an_unknown_number_is_medium_with_no_place(
    client: httpx.AsyncClient, demo: None, session: AsyncSession
) -> None:
    await post_twilio(client, VOICE, call_form("+243899990007"))
    alert = await session.scalar(select(Alert))
    assert alert is not None
    assert (alert.category, alert.severity, alert.place_id) == ("FLASH", "medium", None)
    assert alert.location_source == "none"


async def test_repeated_flashes_are_one_alert_with_a_count(
    client: httpx.AsyncClient, demo: None, session: AsyncSession
) -> None:
    for _ in range(4):
        await post_twilio(client, VOICE, call_form("+243810000104"))
    await post_twilio(client, VOICE, call_form("+243810000105"))

    alerts = (await session.scalars(select(Alert).order_by(Alert.id))).all()
    assert [(a.from_phone, a.message_count) for a in alerts] == [
        ("+243810000104", 4),
        ("+243810000105", 1),
    ]
    assert len((await session.scalars(select(InboundMessage))).all()) == 5


async def test_voice_webhook_checks_the_signature(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    form = call_form("+243810000104")
    forged = await client.post(VOICE, data=form, headers={"X-Twilio-Signature": "AAAA"})
    assert forged.status_code == 403
    assert (await session.scalar(select(InboundMessage))) is None
    ok = await client.post(VOICE, data=form, headers={"X-Twilio-Signature": sign(VOICE, form)})
    assert ok.status_code == 200
