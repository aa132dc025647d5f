"""Channel health: a handset silent past its heartbeat window is down (webhook event, live
stream, health API, metrics, SMS to the JOC officers by another channel), and up again at
its next ping."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy import select

from app.changes import service as changes
from app.changes.models import Change
from app.channels.service import named
from app.config import Settings
from app.db import unit_of_work
from app.kit.clock import utcnow
from app.outbox.models import Delivery, WebhookSubscription
from tests.channels.support import add_channel
from tests.escalation.support import Gateway, gateway
from tests.fakes.smsgate_api import SmsGateFake
from tests.support import make_key

pytestmark = pytest.mark.usefixtures("engine")

URL = "/webhooks/smsgate/beni-a"
JOC_NORD_KIVU = "+243830000301"
JOC_ITURI = "+243830000302"


async def _channel_events(gw: Gateway) -> list[str]:
    async with gw.sessionmaker() as s:
        rows = (await s.scalars(select(Change).order_by(Change.seq))).all()
        stream = await changes.render(s, rows, mask_phone=True)
    return [line for line in stream.splitlines() if line.startswith("event: channel.")]


async def _webhook_events(gw: Gateway) -> list[str]:
    async with gw.sessionmaker() as s:
        stmt = select(Delivery.event_type).where(Delivery.channel == "webhook")
        return [e for e in (await s.scalars(stmt.order_by(Delivery.id))).all() if e]


async def _health(gw: Gateway, key: str) -> dict[str, object]:
    response = await gw.client.get(
        "/api/v1/channels/health", headers={"Authorization": f"Bearer {key}"}
    )
    assert response.status_code == 200, response.text
    return {h["name"]: h for h in response.json()}["beni-a"]


async def test_a_silent_handset_goes_down_and_comes_back_with_its_pings(settings: Settings) -> None:
    with SmsGateFake() as fake:
        async with gateway(settings, channel_check_seconds=0.1, webhook_allow_private=True) as gw:
            async with unit_of_work(gw.sessionmaker) as s:
                s.add(
                    WebhookSubscription(
                        url="http://127.0.0.1:9/hooks",
                        event_types=["channel.down", "channel.up"],
                        secret="whsec_" + "A" * 32,
                        active=True,
                    )
                )
            await add_channel(
                gw.sessionmaker,
                gw.settings,
                "smsgate",
                "beni-a",
                options={
                    "signing_key": fake.signing_key,
                    "api_url": fake.base_url,
                    "username": fake.username,
                    "password": fake.password,
                },
                zones=["Beni"],
                priority=1,
                heartbeat_seconds=60,
            )
            viewer = await make_key(gw.sessionmaker, "viewer")
            body, headers = fake.webhook("system:ping")
            assert (await gw.client.post(URL, content=body, headers=headers)).status_code == 200
            assert (await _health(gw, viewer))["up"] is True

            # Two minutes without a ping (the clock of its last one moved back).
            async with unit_of_work(gw.sessionmaker) as s:
                channel = await named(s, "beni-a")
                channel.last_heartbeat_at = utcnow() - timedelta(seconds=120)

            await gw.wait_for(lambda: _is_down(gw, viewer))
            health = await _health(gw, viewer)
            assert health["reason"] == "no heartbeat for 1 min"
            assert await _webhook_events(gw) == ["channel.down"]
            assert await _channel_events(gw) == ["event: channel.down"]
            # The JOC officers hear it by SMS, through a live channel (Twilio), not the handset.
            await gw.wait_for(
                lambda: len(gw.sent_to(JOC_NORD_KIVU)) == len(gw.sent_to(JOC_ITURI)) == 1
            )
            assert "beni-a en panne" in gw.sent_to(JOC_NORD_KIVU)[0]
            assert fake.requests == []
            metrics = (await gw.client.get("/metrics")).text
            assert 'kengele_channel_up{channel="beni-a"} 0.0' in metrics

            # Still silent through several checks: told once.
            await asyncio.sleep(0.5)
            assert await _webhook_events(gw) == ["channel.down"]
            body, headers = fake.webhook("system:ping")
            assert (await gw.client.post(URL, content=body, headers=headers)).status_code == 200
            assert (await _health(gw, viewer))["up"] is True
            assert await _webhook_events(gw) == ["channel.down", "channel.up"]
            assert await _channel_events(gw) == ["event: channel.down", "event: channel.up"]
            await gw.wait_for(lambda: len(fake.accepted(JOC_NORD_KIVU)) == 1)
            assert "de nouveau en service" in fake.accepted(JOC_NORD_KIVU)[0].text
            metrics = (await gw.client.get("/metrics")).text
            assert 'kengele_channel_up{channel="beni-a"} 1.0' in metrics


async def _is_down(gw: Gateway, key: str) -> bool:
    return (await _health(gw, key))["up"] is False
