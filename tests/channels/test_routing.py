"""Routes: a reply by the channel it came in on; a page by the liaison's channels, else the
zone's and then the others by priority."""

from __future__ import annotations

import httpx
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.alerts.models import Alert
from app.channels.service import named
from app.inbound.models import InboundMessage
from app.kit.config import Settings
from app.kit.db import unit_of_work
from app.outbox.channels import ChannelSender
from app.outbox.models import Delivery
from app.outbox.routing import route
from app.outbox.service import apply_result
from app.people.models import Liaison
from app.providers.configured import make_sms_sender
from tests.channels.support import add_channel
from tests.fakes.smsgate_api import SmsGateFake

CLA_BENI = "+243820000201"


async def _channels(app: FastAPI, settings: Settings) -> None:
    sessionmaker = app.state.sessionmaker
    await add_channel(sessionmaker, settings, "smsgate", "beni-a", zones=["Beni"], priority=1)
    await add_channel(sessionmaker, settings, "smsgate", "goma", zones=["Goma"], priority=2)
    await add_channel(sessionmaker, settings, "httpsms", "oicha", priority=5)


async def test_routes_follow_the_liaison_then_the_zone_then_priority(
    client: httpx.AsyncClient,
    app: FastAPI,
    settings: Settings,
    demo: None,
    session: AsyncSession,
    admin_headers: dict[str, str],
) -> None:
    await _channels(app, settings)
    liaison = await session.scalar(select(Liaison).where(Liaison.phone == CLA_BENI))
    assert liaison is not None
    liaison_id = liaison.id
    # Zones Beni|Lubero: Beni's handset first, then every other channel by priority.
    by_zone = await route(session, purpose="page", liaison_id=liaison.id)
    assert by_zone == ["beni-a", "goma", "oicha", "twilio"]

    answer = await client.patch(
        f"/api/v1/liaisons/{liaison.id}", headers=admin_headers, json={"channels": ["nowhere"]}
    )
    assert answer.status_code == 422 and "no channel named nowhere" in answer.text
    answer = await client.patch(
        f"/api/v1/liaisons/{liaison.id}",
        headers=admin_headers,
        json={"channels": ["oicha", "twilio"]},
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["channels"] == ["oicha", "twilio"]
    await session.rollback()  # a new snapshot
    assert await route(session, purpose="page", liaison_id=liaison_id) == ["oicha", "twilio"]


async def test_replies_keep_to_the_channel_the_message_came_in_on(
    client: httpx.AsyncClient, app: FastAPI, settings: Settings, demo: None, session: AsyncSession
) -> None:
    await _channels(app, settings)
    assert await route(session, purpose="reply", via="goma") == ["goma"]
    # "Your alert was taken" goes back by the channel the alert came in on.
    async with app.state.sessionmaker() as s:
        channel = await named(s, "beni-a")
    fake = SmsGateFake(signing_key=channel.secrets["signing_key"])
    body, headers = fake.webhook("sms:received", {"phoneNumber": "+243810000101"})
    assert (await client.post("/webhooks/smsgate/beni-a", content=body, headers=headers)).is_success
    await session.rollback()  # a new snapshot
    alert = await session.scalar(select(Alert))
    assert alert is not None
    assert await route(session, purpose="reporter_ack", alert_id=alert.id) == ["beni-a"]
    message = await session.scalar(select(InboundMessage))
    assert message is not None and message.provider == "beni-a"


async def test_an_sms_whose_channel_was_removed_goes_by_another_of_its_route(
    settings: Settings, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    """Routed by handset B, the last of its route, B removed before it went: it goes by
    handset A, earlier in the route, rather than die (a page would go to another liaison);
    with nothing of its route left, it is dead."""
    await add_channel(sessionmaker, settings, "smsgate", "beni-a", zones=["Beni"], priority=1)
    sender = ChannelSender(settings, sessionmaker, make_sms_sender(settings))
    ids = {}
    async with unit_of_work(sessionmaker) as session:
        for name, routed in (("other-left", ["beni-a", "beni-b"]), ("none-left", ["beni-b"])):
            delivery = Delivery(
                channel="sms",
                purpose="page",
                recipient=CLA_BENI,
                body="page",
                route=routed,
                via="beni-b",
                status="sending",
                attempts=1,
                max_attempts=8,
            )
            session.add(delivery)
            await session.flush()
            ids[name] = delivery.id
    for name, delivery_id in ids.items():
        async with unit_of_work(sessionmaker) as session:
            row = await session.get(Delivery, delivery_id)
            assert row is not None
            result = await sender.send(row, None)
            await apply_result(session, settings, row, result, worker="w", duration_ms=1.0)
        async with sessionmaker() as session:
            row = await session.get(Delivery, delivery_id)
            assert row is not None
            if name == "other-left":
                assert (row.status, row.via) == ("pending", "beni-a")
            else:
                assert row.status == "dead"
