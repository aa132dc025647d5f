"""Channel health: a handset silent past its heartbeat window is down (webhook event, live
stream, health API, metrics, SMS to the JOC officers by another channel), and up again at
its next ping."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from app.changes import service as changes
from app.channels import service as channels_service
from app.channels.service import named
from app.flows import channel_health
from app.kit.changes import Change
from app.kit.clock import utcnow
from app.kit.config import Settings
from app.kit.db import unit_of_work
from app.kit.gsm7 import fits_one_segment
from app.outbox import service as outbox
from app.outbox.models import Delivery, WebhookSubscription
from tests.channels.support import add_channel, set_down
from tests.escalation.support import CLA_BENI, CLA_OICHA, FOCAL_MAVIVI, Gateway, gateway
from tests.fakes.smsgate_api import SmsGateFake
from tests.support import make_key

pytestmark = pytest.mark.usefixtures("engine")

URL = "/webhooks/smsgate/beni-a"
JOC_NORD_KIVU = "+243830000301"
JOC_ITURI = "+243830000302"
FOCAL = "+243990000001"


async def _handset(gw: Gateway, fake: SmsGateFake, name: str, **fields: Any) -> None:
    """A handset of zone Beni sending through the stand-in (`fields` as a channel takes)."""
    options = {
        "signing_key": fake.signing_key,
        "api_url": fake.base_url,
        "username": fake.username,
        "password": fake.password,
    }
    await add_channel(
        gw.sessionmaker, gw.settings, "smsgate", name, options=options, zones=["Beni"], **fields
    )


async def _subscribe(gw: Gateway, events: list[str]) -> None:
    """A webhook subscriber of these events (its deliveries are what the tests read)."""
    async with unit_of_work(gw.sessionmaker) as s:
        s.add(
            WebhookSubscription(
                url="http://127.0.0.1:9/hooks",
                event_types=events,
                secret="whsec_" + "A" * 32,
                active=True,
            )
        )


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
            await _subscribe(gw, ["channel.down", "channel.up"])
            # (A SMS skipping the down handset spends one of its tokens: a rate of its own.)
            await _handset(gw, fake, "beni-a", priority=1, heartbeat_seconds=60, burst=10)
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
            # Handset A was Beni's only channel: the same one SMS says the zone is cut off.
            await gw.wait_for(
                lambda: len(gw.sent_to(JOC_NORD_KIVU)) == len(gw.sent_to(JOC_ITURI)) == 1
            )
            [told] = gw.sent_to(JOC_NORD_KIVU)
            assert "beni-a en panne" in told and "zone Beni sans canal SMS" in told
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


async def test_a_handset_failing_most_sends_goes_down_and_comes_back_when_one_succeeds(
    settings: Settings,
) -> None:
    with SmsGateFake() as fake:
        async with gateway(settings, channel_check_seconds=0.1, delivery_max_attempts=100) as gw:
            await _handset(gw, fake, "beni-a", rate_per_second=50.0, burst=10)
            viewer = await make_key(gw.sessionmaker, "viewer")
            fake.fail_with(500)
            # Replies that can only leave by handset A: each refusal is a failed send.
            async with unit_of_work(gw.sessionmaker) as s:
                for n in range(3):
                    await outbox.enqueue_sms(
                        s, gw.settings, to=FOCAL, body=f"recu {n}", purpose="reply", via="beni-a"
                    )
            await gw.wait_for(lambda: _is_down(gw, viewer), within=10)
            health = await _health(gw, viewer)
            assert str(health["reason"]).startswith("sends failing: ")
            assert health["failures_last_hour"] * 2 > health["sends_last_hour"] >= 8
            assert await _channel_events(gw) == ["event: channel.down"]
            # Told, with the zone it leaves without a channel, in one SMS.
            await gw.wait_for(lambda: len(gw.sent_to(JOC_NORD_KIVU)) == 1)
            assert "beni-a en panne" in gw.sent_to(JOC_NORD_KIVU)[0]
            assert "zone Beni sans canal SMS" in gw.sent_to(JOC_NORD_KIVU)[0]

            # No other channel can take those replies: handset A is still tried, and the
            # first send it accepts brings it back.
            fake.fail_with(None)
            await gw.wait_for(lambda: len(fake.accepted(FOCAL)) == 3, within=10)
            await gw.wait_for(lambda: _is_up(gw, viewer))
            assert await _channel_events(gw) == ["event: channel.down", "event: channel.up"]
            # The failures before it came back are not held against it: it stays up.
            await asyncio.sleep(0.5)
            assert (await _health(gw, viewer))["up"] is True


async def _is_up(gw: Gateway, key: str) -> bool:
    return (await _health(gw, key))["up"] is True


async def test_a_zone_whose_every_channel_is_down_is_told_with_its_waiting_pages(
    settings: Settings,
) -> None:
    with SmsGateFake() as fake:
        async with gateway(
            settings,
            channel_check_seconds=0.1,
            channel_wait_seconds=0.2,
            webhook_allow_private=True,
        ) as gw:
            await _subscribe(gw, ["zone.unreachable", "zone.reachable"])
            for name in ("beni-a", "beni-b"):
                await _handset(gw, fake, name, heartbeat_seconds=60, rate_per_second=50.0)
            await set_down(gw.sessionmaker, "twilio")  # nothing else can carry Beni's pages
            viewer = await make_key(gw.sessionmaker, "viewer")
            headers = {"Authorization": f"Bearer {viewer}"}

            # Handset A goes silent: Beni still has handset B.
            await _silent_since(gw, "beni-a", 120)
            await gw.wait_for(lambda: _is_down(gw, viewer))
            assert (await gw.client.get(UNREACHABLE, headers=headers)).json() == []
            assert await _zone_events(gw) == []
            # Then handset B: Beni is cut off, and the JOC officers are told so at once.
            await _silent_since(gw, "beni-b", 120)
            await gw.wait_for(lambda: _unreachable(gw, headers))
            joc = [d.body for d in await gw.outbox(recipient=JOC_NORD_KIVU)]
            assert len([b for b in joc if "zone Beni sans canal SMS" in b]) == 1
            # Other systems hear it by a webhook event of its own, once.
            [(event, data)] = await _zone_events(gw)
            assert event == "zone.unreachable"
            assert data["zone"]["zone"] == "Beni"
            assert data["zone"]["channels"] == ["beni-a", "beni-b"]
            assert data["zone"]["since"] is not None
            assert data["channel"]["name"] == "beni-b"

            # A critical alert of Beni: its pages wait, counted.
            assert (await gw.sms(FOCAL_MAVIVI, ATTACK)).status_code == 200
            await gw.wait_for(lambda: _waiting_pages(gw, headers, 2))
            [cut] = (await gw.client.get(UNREACHABLE, headers=headers)).json()
            assert (cut["zone"], cut["channels"]) == ("Beni", ["beni-a", "beni-b"])
            assert cut["since"] is not None

            # Handset B pings again: Beni is reachable, and the pages leave by it.
            body, ping = fake.webhook("system:ping")
            response = await gw.client.post("/webhooks/smsgate/beni-b", content=body, headers=ping)
            assert response.status_code == 200
            assert (await gw.client.get(UNREACHABLE, headers=headers)).json() == []
            [_, (event, data)] = await _zone_events(gw)
            assert event == "zone.reachable"
            assert data["zone"] == {"zone": "Beni", "channels": ["beni-a", "beni-b"]}
            assert data["channel"]["name"] == "beni-b"
            # Handset A pings too: Beni was reachable already, no second event.
            body, ping = fake.webhook("system:ping")
            response = await gw.client.post("/webhooks/smsgate/beni-a", content=body, headers=ping)
            assert response.status_code == 200
            assert len(await _zone_events(gw)) == 2
            await gw.wait_for(
                lambda: len(fake.accepted(CLA_BENI)) == len(fake.accepted(CLA_OICHA)) == 1
            )


UNREACHABLE = "/api/v1/channels/unreachable"
ATTACK = "Attaque en cours a Mavivi, les ADF ont tue 3 personnes"


async def _silent_since(gw: Gateway, name: str, seconds: int) -> None:
    async with unit_of_work(gw.sessionmaker) as s:
        channel = await named(s, name)
        channel.last_heartbeat_at = utcnow() - timedelta(seconds=seconds)


async def _unreachable(gw: Gateway, headers: dict[str, str]) -> bool:
    return bool((await gw.client.get(UNREACHABLE, headers=headers)).json())


async def _zone_events(gw: Gateway) -> list[tuple[str, dict[str, Any]]]:
    """The zone events written for webhook subscribers, in order: (type, data)."""
    async with gw.sessionmaker() as s:
        stmt = select(Delivery).where(Delivery.event_type.like("zone.%"))
        rows = (await s.scalars(stmt.order_by(Delivery.id))).all()
    return [(d.event_type or "", json.loads(d.body)["data"]) for d in rows]


async def _waiting_pages(gw: Gateway, headers: dict[str, str], n: int) -> bool:
    cuts = (await gw.client.get(UNREACHABLE, headers=headers)).json()
    return bool(cuts) and cuts[0]["waiting_pages"] == n


async def test_an_admin_edit_that_cuts_a_zone_off_or_gives_it_back_is_told_by_webhook(
    settings: Settings,
) -> None:
    """Other systems hear of a zone left with no channel up however it came to be: here by
    an admin deactivating, adding and removing channels, not by a channel's health."""
    async with gateway(settings, webhook_allow_private=True) as gw:
        await _subscribe(gw, ["zone.unreachable", "zone.reachable"])
        admin = {"Authorization": f"Bearer {await make_key(gw.sessionmaker, 'admin')}"}
        for name in ("beni-a", "beni-b"):
            await add_channel(gw.sessionmaker, gw.settings, "console", name, zones=["Beni"])
        await set_down(gw.sessionmaker, "beni-a")
        ids = {c["name"]: c["id"] for c in (await gw.client.get(CHANNELS, headers=admin)).json()}

        # Beni's only channel up is deactivated: cut off.
        response = await gw.client.patch(
            f"{CHANNELS}/{ids['beni-b']}", headers=admin, json={"active": False}
        )
        assert response.status_code == 200, response.text
        [(event, data)] = await _zone_events(gw)
        assert event == "zone.unreachable"
        assert (data["zone"]["zone"], data["zone"]["channels"]) == ("Beni", ["beni-a"])
        assert data["channel"]["name"] == "beni-b"
        # The JOC officers hear it at once, as they would of the channel's fall.
        [told] = [d.body for d in await gw.outbox(recipient=JOC_NORD_KIVU)]
        assert "zone Beni sans canal: beni-b modifie par un admin" in told
        assert fits_one_segment(told), told

        # A change that leaves the zones as they were tells nothing.
        response = await gw.client.patch(
            f"{CHANNELS}/{ids['beni-a']}", headers=admin, json={"priority": 5}
        )
        assert response.status_code == 200, response.text
        assert len(await _zone_events(gw)) == 1

        # A new channel for Beni gives it back; removing that channel cuts it off again.
        response = await gw.client.post(
            CHANNELS, headers=admin, json={"kind": "console", "name": "beni-c", "zones": ["BENI"]}
        )
        assert response.status_code == 201, response.text
        response = await gw.client.delete(f"{CHANNELS}/{response.json()['id']}", headers=admin)
        assert response.status_code == 204
        events = await _zone_events(gw)
        assert [e for e, _ in events] == ["zone.unreachable", "zone.reachable", "zone.unreachable"]
        assert events[1][1]["zone"] == {"zone": "Beni", "channels": ["beni-a", "beni-c"]}
        assert events[1][1]["channel"]["name"] == "beni-c"
        assert events[2][1]["channel"]["name"] == "beni-c"
        told = [d.body for d in await gw.outbox(recipient=JOC_ITURI)]
        assert len(told) == 3
        assert "zone Beni de nouveau servie par un canal SMS" in told[1]
        assert "beni-c retire par un admin" in told[2]


def test_the_joc_texts_of_an_edit_fit_one_segment_at_their_longest() -> None:
    longest = {"zone": "Z" * 40, "at": "23:59", "name": "n" * 32, "n": 999}
    for what in ("ajoute", "modifie", "retire"):
        assert fits_one_segment(channel_health.EDIT_CUT_TEXT.format(what=what, **longest))
    assert fits_one_segment(channel_health.EDIT_BACK_TEXT.format(**longest))


CHANNELS = "/api/v1/channels"


@pytest.mark.postgresql  # SQLite writes one transaction at a time
async def test_two_channels_of_a_zone_changing_at_once_leave_the_zone_as_it_is(
    settings: Settings,
) -> None:
    """Beni has handsets A (down) and B (up). A comes back while B goes down, in two
    transactions at once: Beni is never without a channel, so no zone event. Each decides
    on the channels as committed, one after the other; without that, B's would still see A
    down and tell other systems that Beni is cut off, and nothing would ever take it back."""
    async with gateway(settings, webhook_allow_private=True) as gw:
        await _subscribe(gw, ["zone.unreachable", "zone.reachable"])
        for name in ("beni-a", "beni-b"):
            await add_channel(gw.sessionmaker, gw.settings, "console", name, zones=["Beni"])
        await set_down(gw.sessionmaker, "beni-a")

        async with unit_of_work(gw.sessionmaker) as first:
            a = await named(first, "beni-a")
            channels_service.mark_up(a)
            await channel_health.changed(first, gw.settings, a)

            async def b_goes_down() -> None:
                async with unit_of_work(gw.sessionmaker) as second:
                    b = await named(second, "beni-b")
                    channels_service.mark_down(b, "offline")
                    await channel_health.changed(second, gw.settings, b)

            second = asyncio.create_task(b_goes_down())
            await asyncio.sleep(0.5)
            assert not second.done()  # waits for the first to commit
        await asyncio.wait_for(second, 10)
        assert await _zone_events(gw) == []
