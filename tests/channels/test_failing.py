"""A channel failing most of its sends: the rule (more than half of at least 8 attempts in
15 minutes), the probe that brings it back (half-open), and the last way out (a channel down
for its failures is still tried when no other channel of a route is up)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.channels.service import ensure_twilio, named
from app.flows import channel_health
from app.kit.clock import utcnow
from app.kit.config import Settings
from app.kit.db import unit_of_work
from app.outbox import health
from app.outbox import service as outbox
from app.outbox.models import CHANNEL_SMS, CHANNEL_VOICE, Delivery, DeliveryAttempt
from tests.channels.support import add_channel
from tests.escalation.support import Gateway, gateway
from tests.fakes.smsgate_api import SmsGateFake

pytestmark = pytest.mark.usefixtures("engine")

FOCAL = "+243990000001"
Maker = async_sessionmaker[AsyncSession]


async def _attempts(sessionmaker: Maker, statuses: list[str], kind: str = CHANNEL_SMS) -> None:
    """Attempts by channel `twilio` just now (one delivery carries them: an SMS, or a call as
    app.outbox.voice makes them, `via` twilio)."""
    purpose = "call" if kind == CHANNEL_VOICE else "test"
    async with unit_of_work(sessionmaker) as s:
        delivery = Delivery(
            channel=kind, purpose=purpose, recipient=FOCAL, body="x", route=["twilio"]
        )
        s.add(delivery)
        await s.flush()
        for status in statuses:
            s.add(
                DeliveryAttempt(
                    delivery_id=delivery.id, at=utcnow(), status=status, channel="twilio"
                )
            )


async def _check(sessionmaker: Maker, settings: Settings) -> bool:
    async with unit_of_work(sessionmaker) as s:
        await channel_health.check(s, settings)
    async with sessionmaker() as s:
        return (await named(s, "twilio")).down


async def test_a_provider_failing_30_percent_stays_up_and_one_failing_most_goes_down(
    sessionmaker: Maker, settings: Settings
) -> None:
    async with unit_of_work(sessionmaker) as s:
        await ensure_twilio(s, settings)
    # 3 of 10 failed (retried, so its SMS still go out): up.
    await _attempts(sessionmaker, ["ok"] * 7 + ["retry", "error", "retry"])
    assert await _check(sessionmaker, settings) is False
    # 7 of 14: half is not most.
    await _attempts(sessionmaker, ["retry"] * 4)
    assert await _check(sessionmaker, settings) is False
    # Skipped sends ("down": nothing was sent) and failovers are no failures of its own.
    await _attempts(sessionmaker, ["down", "failover:beni-a"] * 5)
    assert await _check(sessionmaker, settings) is False
    # 8 of 15: down, saying why.
    await _attempts(sessionmaker, ["retry"])
    assert await _check(sessionmaker, settings) is True
    async with sessionmaker() as s:
        reason = (await named(s, "twilio")).down_reason
    assert reason == "sends failing: 8 of 15 sends failed in 15 min"


async def test_failed_calls_are_no_failures_of_its_sms(
    sessionmaker: Maker, settings: Settings
) -> None:
    async with unit_of_work(sessionmaker) as s:
        await ensure_twilio(s, settings)
    # Twilio refuses every call (voice_from cannot call) while each SMS it takes goes out.
    await _attempts(sessionmaker, ["error"] * 8 + ["retry"] * 4, kind=CHANNEL_VOICE)
    await _attempts(sessionmaker, ["ok"] * 2)
    assert await _check(sessionmaker, settings) is False
    async with sessionmaker() as s:
        [twilio] = [h for h in await health.report(s) if h.channel.name == "twilio"]
    assert (twilio.sends_last_hour, twilio.failures_last_hour) == (2, 0)


async def test_a_call_just_made_does_not_put_off_the_probe_of_its_sms(
    sessionmaker: Maker, settings: Settings
) -> None:
    async with unit_of_work(sessionmaker) as s:
        await ensure_twilio(s, settings)
    await _attempts(sessionmaker, ["retry"] * 8)
    assert await _check(sessionmaker, settings) is True
    # Its last SMS was tried an hour ago: its probe is due.
    async with unit_of_work(sessionmaker) as s:
        for attempt in (await s.scalars(select(DeliveryAttempt))).all():
            attempt.at -= timedelta(hours=1)
        twilio = await named(s, "twilio")
        assert twilio.down_since is not None
        twilio.down_since -= timedelta(hours=1)
    # Calls go on by Twilio every few minutes (critical pages read by phone).
    await _attempts(sessionmaker, ["ok"], kind=CHANNEL_VOICE)
    async with sessionmaker() as s:
        assert await health.probe_due(s, settings, await named(s, "twilio")) is True


async def test_too_few_sends_are_no_verdict(sessionmaker: Maker, settings: Settings) -> None:
    async with unit_of_work(sessionmaker) as s:
        await ensure_twilio(s, settings)
    await _attempts(sessionmaker, ["retry"] * 7)  # one bad number retried, or a short blip
    assert await _check(sessionmaker, settings) is False


async def _down(gw: Gateway, name: str) -> bool:
    async with gw.sessionmaker() as s:
        return (await named(s, name)).down


async def _send(gw: Gateway, body: str) -> int:
    """An SMS whose route is handset A, then Twilio (the default route, A first)."""
    async with unit_of_work(gw.sessionmaker) as s:
        delivery = await outbox.enqueue_sms(s, gw.settings, to=FOCAL, body=body, purpose="test")
        assert delivery.route == ["beni-a", "twilio"]
        return delivery.id


async def test_a_channel_down_for_its_failures_is_probed_and_comes_back(
    settings: Settings,
) -> None:
    with SmsGateFake() as fake:
        async with gateway(settings, channel_check_seconds=0.1, channel_probe_seconds=600) as gw:
            options = {
                "api_url": fake.base_url,
                "username": fake.username,
                "password": fake.password,
                "signing_key": fake.signing_key,
            }
            await add_channel(
                gw.sessionmaker,
                gw.settings,
                "smsgate",
                "beni-a",
                options=options,
                priority=1,
                rate_per_second=50.0,
                burst=20,
            )
            fake.fail_with(500)
            # Each SMS fails on handset A and goes out by Twilio (once each).
            for n in range(8):
                await _send(gw, f"essai {n}")
            await gw.wait_for(lambda: len(gw.sent_to(FOCAL)) == 8, within=15)
            await gw.wait_for(lambda: _down(gw, "beni-a"))
            tried = len(fake.requests)
            assert tried == 8

            # Down, and its last try is recent: the next SMS skips it.
            await _send(gw, "pendant la panne")
            await gw.wait_for(lambda: len(gw.sent_to(FOCAL)) == 9)
            assert len(fake.requests) == tried

            # Its probe is due (its last try an hour ago) and the handset works again: the
            # next SMS is the probe, handset A sends it, and it is up.
            async with unit_of_work(gw.sessionmaker) as s:
                back = timedelta(hours=1)
                stmt = select(DeliveryAttempt).where(DeliveryAttempt.channel == "beni-a")
                for attempt in (await s.scalars(stmt)).all():
                    attempt.at -= back
                channel = await named(s, "beni-a")
                assert channel.down_since is not None
                channel.down_since -= back
            fake.fail_with(None)
            await _send(gw, "sonde")
            await gw.wait_for(lambda: len(fake.accepted(FOCAL)) == 1)
            assert "sonde" in fake.accepted(FOCAL)[0].text
            await gw.wait_for(lambda: _not_down(gw, "beni-a"))
            assert len(gw.sent_to(FOCAL)) == 9, "the probe went once, by handset A only"


async def _not_down(gw: Gateway, name: str) -> bool:
    return not await _down(gw, name)


async def test_the_last_channel_down_for_failures_is_still_tried(settings: Settings) -> None:
    async with gateway(settings, channel_probe_seconds=600) as gw:
        async with unit_of_work(gw.sessionmaker) as s:
            channel = await named(s, "twilio")
            channel.down = True
            channel.down_since = utcnow()
            channel.down_reason = "sends failing: 8 of 8 sends failed in 15 min"
        async with unit_of_work(gw.sessionmaker) as s:
            await outbox.enqueue_sms(s, gw.settings, to=FOCAL, body="seul canal", purpose="test")
        # Twilio is the only channel: the SMS goes by it rather than waiting, and its
        # success brings Twilio back.
        await gw.wait_for(lambda: gw.sent_to(FOCAL) == ["seul canal"])
        await gw.wait_for(lambda: _not_down(gw, "twilio"))
