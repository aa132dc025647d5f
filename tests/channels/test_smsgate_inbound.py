"""SMS Gateway for Android → the gateway: signed webhooks become alerts, once."""

from __future__ import annotations

import logging
import re
import time
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from prometheus_client import REGISTRY
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.alerts.models import Alert
from app.api import channel_webhooks
from app.channels import service as channels
from app.channels.models import Channel
from app.inbound.models import InboundMessage
from app.kit.config import Settings
from app.kit.db import unit_of_work
from app.outbox.models import Delivery
from app.providers.smsgate import sign
from tests.channels.support import add_channel
from tests.fakes.smsgate_api import SmsGateFake

URL = "/webhooks/smsgate/beni-a"
FOCAL_MAVIVI = "+243810000101"


@pytest.fixture
async def handset(
    client: httpx.AsyncClient, app: FastAPI, settings: Settings, demo: None
) -> SmsGateFake:
    """The channel beni-a, whose app signs with the stand-in's key (not started: no sends)."""
    fake = SmsGateFake()
    await add_channel(
        app.state.sessionmaker,
        settings,
        "smsgate",
        "beni-a",
        numbers=["+243970000001", "+243990000001"],
        options={"signing_key": fake.signing_key},
        zones=["Beni"],
    )
    return fake


async def _count(session: AsyncSession, model: type[object]) -> int:
    return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def test_the_documented_sms_received_becomes_an_alert(
    client: httpx.AsyncClient, handset: SmsGateFake, session: AsyncSession
) -> None:
    body, headers = handset.webhook("sms:received")
    response = await client.post(URL, content=body, headers=headers)

    assert response.status_code == 200, response.text
    assert response.json()["status"] == "stored"
    message = await session.scalar(select(InboundMessage))
    assert message is not None
    assert (message.provider, message.body) == ("beni-a", "Android is always a sweet treat!")
    assert message.to_phone == "+243970000001"  # simNumber 1
    assert message.raw["receivedAt"] == "2024-06-22T15:46:11+07:00"
    assert message.alert_id is not None
    channel = await session.scalar(select(Channel).where(Channel.name == "beni-a"))
    assert channel is not None and channel.last_inbound_at is not None


async def test_an_attack_reported_through_the_handset_is_triaged_and_answered_through_it(
    client: httpx.AsyncClient, handset: SmsGateFake, session: AsyncSession
) -> None:
    body, headers = handset.webhook(
        "sms:received",
        {"phoneNumber": FOCAL_MAVIVI, "message": "Attaque en cours a Mavivi, 3 morts"},
    )
    assert (await client.post(URL, content=body, headers=headers)).status_code == 200
    alert = await session.scalar(select(Alert))
    assert alert is not None
    assert (alert.category, alert.severity, alert.place_id) == ("ATTACK", "critical", "mavivi")
    receipt = await session.scalar(select(Delivery).where(Delivery.purpose == "reply"))
    assert receipt is not None
    assert (receipt.recipient, receipt.via, receipt.route) == (FOCAL_MAVIVI, "beni-a", ["beni-a"])
    assert alert.ref in receipt.body


async def test_the_same_event_five_times_is_one_message_and_one_alert(
    client: httpx.AsyncClient, handset: SmsGateFake, session: AsyncSession
) -> None:
    body, headers = handset.webhook("sms:received", {"phoneNumber": FOCAL_MAVIVI})
    answers = [(await client.post(URL, content=body, headers=headers)).json() for _ in range(5)]
    assert [a["status"] for a in answers] == ["stored"] + ["replayed"] * 4
    assert (await _count(session, InboundMessage), await _count(session, Alert)) == (1, 1)
    replies = await session.scalars(select(Delivery).where(Delivery.purpose == "reply"))
    assert len(replies.all()) == 1


async def test_message_id_is_not_what_de_duplicates(
    client: httpx.AsyncClient, handset: SmsGateFake, session: AsyncSession
) -> None:
    # Two texts that are alike get the same messageId from the app; they are two reports.
    for text in ("Attaque a Mavivi", "Attaque a Oicha"):
        body, headers = handset.webhook("sms:received", {"messageId": "abc123", "message": text})
        assert (await client.post(URL, content=body, headers=headers)).status_code == 200
    assert await _count(session, InboundMessage) == 2


@pytest.mark.parametrize(
    "forgery", ["wrong key", "no signature", "no timestamp", "body changed", "stamp changed"]
)
async def test_a_forged_or_missing_signature_is_refused_and_nothing_stored(
    client: httpx.AsyncClient, handset: SmsGateFake, session: AsyncSession, forgery: str
) -> None:
    key = "not-the-key" if forgery == "wrong key" else None
    body, headers = handset.webhook("sms:received", key=key)
    if forgery == "stamp changed":
        headers["X-Timestamp"] = str(int(headers["X-Timestamp"]) - 1)
    if forgery == "no signature":
        del headers["X-Signature"]
    if forgery == "no timestamp":
        del headers["X-Timestamp"]
    if forgery == "body changed":
        body = body.replace(b"sweet", b"sour!")

    response = await client.post(URL, content=body, headers=headers)

    assert response.status_code == 403, response.text
    assert response.json()["error"] == "Forbidden"
    assert await _count(session, InboundMessage) == 0


@pytest.mark.parametrize(
    ("header", "value"),
    [
        ("X-Signature", "\u00e9" * 64),  # é: beyond ASCII
        ("X-Timestamp", "\u00b2"),  # ²: a digit to str.isdigit(), not to int()
        ("X-Timestamp", "\u00b2" + "0" * 9),
    ],
)
async def test_a_header_beyond_ascii_is_refused_not_a_server_error(
    client: httpx.AsyncClient,
    handset: SmsGateFake,
    session: AsyncSession,
    header: str,
    value: str,
) -> None:
    body, headers = handset.webhook("sms:received")
    headers[header] = value
    # As the bytes a client can send (ISO-8859-1, as HTTP headers are read).
    raw = {name: text.encode("latin-1") for name, text in headers.items()}

    response = await client.post(URL, content=body, headers=raw)

    assert response.status_code == 403, response.text
    assert response.json()["error"] == "Forbidden"
    assert await _count(session, InboundMessage) == 0


@pytest.mark.parametrize("offset", [-3600, 3600, -400 * 86400])
async def test_a_report_from_a_phone_whose_clock_is_wrong_is_taken_and_the_gap_told(
    client: httpx.AsyncClient,
    handset: SmsGateFake,
    session: AsyncSession,
    caplog: pytest.LogCaptureFixture,
    offset: int,
) -> None:
    """The liaison's phone has the wrong time zone (an hour off) or lost its date (a year):
    its app signs every request with that clock, at every retry. Refused, the reports it
    carries would all be lost once its retries ran out; they are taken, the gap is logged
    and counted (alert rule KengeleChannelClockOff), and the same request posted again
    stores nothing twice."""
    before = _clock_off("beni-a")
    body, headers = handset.webhook(
        "sms:received",
        {"phoneNumber": FOCAL_MAVIVI, "message": "Attaque en cours a Mavivi"},
        timestamp=int(time.time()) + offset,
    )
    with caplog.at_level(logging.WARNING, logger="app.api.channel_webhooks"):
        first = await client.post(URL, content=body, headers=headers)
    again = await client.post(URL, content=body, headers=headers)

    assert (first.status_code, first.json()["status"]) == (200, "stored"), first.text
    assert (again.status_code, again.json()["status"]) == (200, "replayed"), again.text
    assert (await _count(session, InboundMessage), await _count(session, Alert)) == (1, 1)
    told = re.search(r"channel beni-a: its device's clock is ([+-]\d+) min from ours", caplog.text)
    assert told is not None and abs(int(told.group(1)) - offset / 60) <= 1, caplog.text
    assert _clock_off("beni-a") == before + 2


async def test_a_phone_whose_clock_is_right_is_not_told_of(
    client: httpx.AsyncClient, handset: SmsGateFake
) -> None:
    before = _clock_off("beni-a")
    body, headers = handset.webhook("sms:received", timestamp=int(time.time()) - 290)
    assert (await client.post(URL, content=body, headers=headers)).status_code == 200
    assert _clock_off("beni-a") == before


def _clock_off(channel: str) -> float:
    return REGISTRY.get_sample_value("kengele_channel_clock_off_total", {"channel": channel}) or 0.0


@pytest.mark.parametrize(
    ("body", "status", "names"),
    [
        (b"not json", 400, "JSON"),
        (b'{"event": "sms:received", "id": "x", "payload": {}}', 422, "deviceId"),
        (
            b'{"deviceId": "d", "event": "sms:received", "id": "x", "payload": {"message": "a"}}',
            422,
            "phoneNumber",
        ),
        (b'{"deviceId": "d", "event": "sms:sent", "id": "x", "payload": {}}', 422, "messageId"),
    ],
)
async def test_a_malformed_body_gets_a_json_error_and_nothing_is_stored(
    client: httpx.AsyncClient,
    handset: SmsGateFake,
    session: AsyncSession,
    body: bytes,
    status: int,
    names: str,
) -> None:
    stamp = str(int(time.time()))
    headers = {"X-Timestamp": stamp, "X-Signature": sign(handset.signing_key, body, stamp)}
    response = await client.post(URL, content=body, headers=headers)
    assert response.status_code == status, response.text
    assert names in response.json()["detail"]
    assert await _count(session, InboundMessage) == 0


async def test_a_ping_is_the_heartbeat_of_the_channel(
    client: httpx.AsyncClient, handset: SmsGateFake, session: AsyncSession
) -> None:
    body, headers = handset.webhook("system:ping")
    response = await client.post(URL, content=body, headers=headers)
    assert response.status_code == 200 and response.json()["status"] == "heartbeat"
    channel = await session.scalar(select(Channel).where(Channel.name == "beni-a"))
    assert channel is not None and channel.last_heartbeat_at is not None
    assert await _count(session, InboundMessage) == 0


async def test_a_ping_from_a_phone_whose_clock_is_wrong_counts_once(
    client: httpx.AsyncClient,
    handset: SmsGateFake,
    session: AsyncSession,
    sessionmaker: async_sessionmaker[AsyncSession],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A phone an hour behind keeps its channel up with its pings, each newer than the last;
    one of them posted again (recorded, replayed) is answered but counts no more: it must not
    keep a dead or seized phone's channel up."""
    monkeypatch.setattr(channel_webhooks, "_SKEWED_PINGS", {})
    stamp = int(time.time()) - 3600
    first = handset.webhook("system:ping", timestamp=stamp, event_id="ping-1")
    later = handset.webhook("system:ping", timestamp=stamp + 60, event_id="ping-2")

    async def heartbeat_of(ping: tuple[bytes, dict[str, str]]) -> tuple[str, Any]:
        async with unit_of_work(sessionmaker) as s:  # forget the last one
            await s.execute(update(Channel).values(last_heartbeat_at=None))
        response = await client.post(URL, content=ping[0], headers=ping[1])
        assert response.status_code == 200, response.text
        await session.rollback()  # a fresh read
        channel = await session.scalar(select(Channel).where(Channel.name == "beni-a"))
        assert channel is not None
        return response.json()["status"], channel.last_heartbeat_at

    status, heard = await heartbeat_of(first)
    assert status == "heartbeat" and heard is not None
    assert await heartbeat_of(first) == ("ignored", None), "a replay counts no more"
    status, heard = await heartbeat_of(later)
    assert status == "heartbeat" and heard is not None


async def test_an_unknown_channel_or_kind_is_404(
    client: httpx.AsyncClient, handset: SmsGateFake
) -> None:
    body, headers = handset.webhook("sms:received")
    for url in ("/webhooks/smsgate/nobody", "/webhooks/httpsms/beni-a"):
        response = await client.post(url, content=body, headers=headers)
        assert response.status_code == 404
        assert response.json()["error"] == "NotFound"


async def test_a_handset_turned_off_while_it_is_fixed_still_files_what_it_posts(
    client: httpx.AsyncClient,
    app: FastAPI,
    settings: Settings,
    handset: SmsGateFake,
    session: AsyncSession,
) -> None:
    """An admin turns the channel off while its handset is fixed (CHANNELS.md); the app
    posts the alerts the SIM received meanwhile. Refused, they would wait for the channel
    to be turned on again, or be given up by the app after its retries: they are filed."""
    async with unit_of_work(app.state.sessionmaker) as s:  # as PATCH /api/v1/channels/{id}
        channel = await channels.named(s, "beni-a")
        await channels.update(s, settings, channel.id, {"active": False})
    body, headers = handset.webhook(
        "sms:received", {"phoneNumber": FOCAL_MAVIVI, "message": "Attaque en cours a Mavivi"}
    )
    response = await client.post(URL, content=body, headers=headers)
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "stored"
    assert await session.scalar(select(Alert.place_id)) == "mavivi"

    forged = await client.post(URL, content=body, headers={**headers, "X-Signature": "0" * 64})
    assert forged.status_code == 403, "turned off or not, a post must be signed"


async def test_a_channel_stored_with_an_empty_key_refuses_what_anybody_can_sign(
    client: httpx.AsyncClient, app: FastAPI, handset: SmsGateFake, session: AsyncSession
) -> None:
    # Configuration refuses an empty key now; one stored before must not let forgeries in.
    async with unit_of_work(app.state.sessionmaker) as s:
        (await channels.named(s, "beni-a")).secrets = {"signing_key": ""}
    body, headers = handset.webhook(
        "sms:received", {"phoneNumber": FOCAL_MAVIVI, "message": "Attaque en cours a Mavivi"}
    )
    headers["X-Signature"] = sign("", body, headers["X-Timestamp"])

    response = await client.post(URL, content=body, headers=headers)

    assert response.status_code == 403, response.text
    assert await _count(session, InboundMessage) == 0
