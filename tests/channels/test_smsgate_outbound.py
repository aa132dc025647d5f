"""The gateway → SMS Gateway for Android: receipts and pages through the handset, status
events mapped to deliveries, and failover to the next channel when the handset fails."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest

from app.flows import provider_reports
from app.kit.config import Settings
from app.outbox.models import Delivery, DeliveryAttempt
from app.providers.smsgate_client import SmsGateSender
from tests.channels.support import add_channel, has_provider_id, set_active, set_down
from tests.escalation.support import (
    CLA_BENI,
    CLA_OICHA,
    FOCAL_MAVIVI,
    JOC_NORD_KIVU,
    Gateway,
    gateway,
    ref_in,
)
from tests.fakes.smsgate_api import SmsGateFake

# The `engine` fixture empties the tables first.
pytestmark = pytest.mark.usefixtures("engine")

URL = "/webhooks/smsgate/beni-a"
ATTACK = "Attaque en cours a Mavivi, les ADF ont tue 3 personnes"


@asynccontextmanager
async def handset_gateway(
    settings: Settings, **overrides: Any
) -> AsyncIterator[tuple[Gateway, SmsGateFake]]:
    """A gateway whose zone Beni is served by handset A (beni-a, SIM 2), Twilio after it."""
    with SmsGateFake() as fake:
        async with gateway(settings, channel_wait_seconds=0.2, **overrides) as gw:
            await add_channel(
                gw.sessionmaker,
                gw.settings,
                "smsgate",
                "beni-a",
                numbers=["+243970000001"],
                options={
                    "signing_key": fake.signing_key,
                    "api_url": fake.base_url,
                    "username": fake.username,
                    "password": fake.password,
                    "sim": 2,
                },
                zones=["Beni"],
                priority=1,
            )
            yield gw, fake


async def report(gw: Gateway, fake: SmsGateFake, phone: str, text: str) -> None:
    """An SMS that reached handset A, posted by its app."""
    body, headers = fake.webhook("sms:received", {"phoneNumber": phone, "message": text})
    response = await gw.client.post(URL, content=body, headers=headers)
    assert response.status_code == 200, response.text


async def attempts(gw: Gateway, delivery: Delivery) -> list[str]:
    """The statuses of a delivery's attempts, oldest first."""
    from sqlalchemy import select

    async with gw.sessionmaker() as s:
        stmt = select(DeliveryAttempt.status).where(DeliveryAttempt.delivery_id == delivery.id)
        return list((await s.scalars(stmt.order_by(DeliveryAttempt.id))).all())


async def test_a_critical_alert_on_handset_a_pages_the_zone_through_it(settings: Settings) -> None:
    async with handset_gateway(settings) as (gw, fake):
        await report(gw, fake, FOCAL_MAVIVI, ATTACK)

        await gw.wait_for(lambda: len(fake.accepted()) == 3)
        receipt = fake.accepted(FOCAL_MAVIVI)[0]
        alert = await gw.alert()
        assert ref_in(receipt.text) == alert.ref
        assert {s.to for s in fake.accepted()} == {FOCAL_MAVIVI, CLA_BENI, CLA_OICHA}
        for sent in fake.accepted():
            assert sent.json["simNumber"] == 2 and sent.json["priority"] == 100
            assert sent.json["id"].startswith("kengele-")
        assert gw.fake.requests == []  # nothing by Twilio

        # The app reports the page to CLA Beni sent, then delivered.
        [page] = await gw.outbox(recipient=CLA_BENI, purpose="page")
        await gw.wait_for(lambda: _sent(gw, page.id))
        page = await gw.delivery(page.id)
        assert page.provider_id == f"kengele-{page.id}-1"  # the delivery, its first send
        for event in ("sms:sent", "sms:delivered"):
            body, headers = fake.webhook(event, {"messageId": page.provider_id})
            answer = await gw.client.post(URL, content=body, headers=headers)
            assert answer.json()["status"] == "recorded"
        page = await gw.delivery(page.id)
        assert (page.status, page.provider_status, page.via) == ("delivered", "delivered", "beni-a")


async def test_with_handset_a_answering_500_the_page_goes_by_the_next_channel_once(
    settings: Settings,
) -> None:
    async with handset_gateway(settings) as (gw, fake):
        fake.fail_with(500)
        await report(gw, fake, FOCAL_MAVIVI, ATTACK)

        await gw.wait_for(lambda: len(gw.sent_to(CLA_BENI)) == 1 and len(gw.sent_to(CLA_OICHA)))
        alert = await gw.alert()
        for liaison in (CLA_BENI, CLA_OICHA):
            [page] = await gw.outbox(recipient=liaison, purpose="page")
            await gw.wait_for(lambda p=page: _sent(gw, p.id))
            page = await gw.delivery(page.id)
            assert (page.via, page.route) == ("twilio", ["beni-a", "twilio"])
            # A's 500 is one attempt on A, then the move, then Twilio's acceptance.
            assert await attempts(gw, page) == ["retry", "failover:twilio", "ok"]
            assert len(fake.tried(liaison)) == 1
            assert len(gw.sent_to(liaison)) == 1 and alert.ref in gw.sent_to(liaison)[0]

        # The receipt goes back by handset A only, once it answers again.
        assert gw.sent_to(FOCAL_MAVIVI) == []
        fake.fail_with(None)
        await gw.wait_for(lambda: len(fake.accepted(FOCAL_MAVIVI)) == 1, within=10)
        assert ref_in(fake.accepted(FOCAL_MAVIVI)[0].text) == alert.ref
        assert gw.sent_to(FOCAL_MAVIVI) == []


async def _sent(gw: Gateway, delivery_id: int) -> bool:
    return (await gw.delivery(delivery_id)).sent_at is not None


async def _beni_paged_by_the_handset(gw: Gateway, fake: SmsGateFake) -> Delivery:
    """An attack reported at Mavivi: CLA Beni's page, sent by the handset (as stored now)."""
    await report(gw, fake, FOCAL_MAVIVI, ATTACK)
    await gw.wait_for(lambda: len(fake.accepted(CLA_BENI)) == 1)
    [page] = await gw.outbox(recipient=CLA_BENI, purpose="page")
    await gw.wait_for(lambda: _sent(gw, page.id))
    return await gw.delivery(page.id)


async def test_with_handset_a_marked_down_pages_skip_it_and_the_receipt_waits_for_it(
    settings: Settings,
) -> None:
    async with handset_gateway(settings) as (gw, fake):
        await set_down(gw.sessionmaker, "beni-a")
        await report(gw, fake, FOCAL_MAVIVI, ATTACK)

        await gw.wait_for(lambda: len(gw.sent_to(CLA_BENI)) == 1 and len(gw.sent_to(CLA_OICHA)))
        assert fake.requests == []  # a channel known down is not tried
        [receipt] = await gw.outbox(recipient=FOCAL_MAVIVI, purpose="reply")
        await gw.wait_for(lambda: _waiting(gw, receipt.id))
        # It looks again every 0.2 s; the wait is one attempt, however long it lasts.
        await asyncio.sleep(0.7)
        assert await attempts(gw, receipt) == ["down"]

        await set_down(gw.sessionmaker, "beni-a", down=False)
        await gw.wait_for(lambda: len(fake.accepted(FOCAL_MAVIVI)) == 1, within=10)
        await gw.wait_for(lambda: _sent(gw, receipt.id))
        assert (await gw.delivery(receipt.id)).via == "beni-a"
        assert gw.sent_to(FOCAL_MAVIVI) == []


async def _waiting(gw: Gateway, delivery_id: int) -> bool:
    delivery = await gw.delivery(delivery_id)
    return delivery.status == "pending" and (delivery.last_error or "").startswith("waiting")


async def test_a_page_the_handset_reports_failed_goes_by_the_next_channel_once(
    settings: Settings,
) -> None:
    async with handset_gateway(settings) as (gw, fake):
        page = await _beni_paged_by_the_handset(gw, fake)

        body, headers = fake.webhook(
            "sms:failed", {"messageId": page.provider_id, "reason": "RESULT_ERROR_NO_SERVICE"}
        )
        for _ in range(5):  # the app retries its webhook
            assert (await gw.client.post(URL, content=body, headers=headers)).status_code == 200

        await gw.wait_for(lambda: len(gw.sent_to(CLA_BENI)) == 1)
        await gw.wait_for(lambda: _sent(gw, page.id))
        page = await gw.delivery(page.id)
        assert page.via == "twilio"
        assert "failover:twilio" in await attempts(gw, page)
        assert len(gw.sent_to(CLA_BENI)) == 1
        assert len(fake.tried(CLA_BENI)) == 1
        # No second liaison was paged in its place: the page itself went through.
        assert len(await gw.outbox(purpose="page")) == 2


async def test_a_page_reported_failed_after_its_liaison_left_is_passed_on_not_failed_over(
    settings: Settings, admin_headers: dict[str, str]
) -> None:
    """Handset A took CLA Beni's page; an admin then deactivates him (his pages still queued
    are passed on, this one had left). A reports it failed: it must not go to him again by
    the next channel (his number may be someone else's by now), but to the next person, as
    a failed page with no channel left does."""
    async with handset_gateway(settings) as (gw, fake):
        page = await _beni_paged_by_the_handset(gw, fake)
        assert page.liaison_id is not None
        gone = await gw.client.delete(f"/api/v1/liaisons/{page.liaison_id}", headers=admin_headers)
        assert gone.status_code == 200, gone.text

        body, headers = fake.webhook(
            "sms:failed", {"messageId": page.provider_id, "reason": "RESULT_ERROR_NO_SERVICE"}
        )
        assert (await gw.client.post(URL, content=body, headers=headers)).status_code == 200

        await gw.wait_for(lambda: gw.outbox(recipient=JOC_NORD_KIVU, purpose="page"))
        page = await gw.delivery(page.id)
        assert (page.via, page.status) == ("beni-a", "failed")
        await asyncio.sleep(0.3)  # the next channel would have sent it by now
        assert gw.sent_to(CLA_BENI) == [] and len(fake.tried(CLA_BENI)) == 1


async def test_handset_a_s_late_report_does_not_fail_the_page_handset_b_took_over(
    settings: Settings,
) -> None:
    """A reports the page failed, and it goes by handset B; A's app then posts the same event
    again (its first post got no answer in time). That report is A's: it must not fail B's
    send, which would send the page a third time and, at the end of the route, page someone
    else."""
    with SmsGateFake() as b:
        async with handset_gateway(settings) as (gw, a):
            await add_handset_b(gw, b)
            await report(gw, a, FOCAL_MAVIVI, ATTACK)
            await gw.wait_for(lambda: len(a.accepted(CLA_BENI)) == 1)
            [page] = await gw.outbox(recipient=CLA_BENI, purpose="page")
            await gw.wait_for(lambda: _sent(gw, page.id))
            page = await gw.delivery(page.id)
            body, headers = a.webhook(
                "sms:failed", {"messageId": page.provider_id, "reason": "RESULT_ERROR_NO_SERVICE"}
            )
            assert (await gw.client.post(URL, content=body, headers=headers)).status_code == 200
            await gw.wait_for(lambda: len(b.accepted(CLA_BENI)) == 1)
            await gw.wait_for(lambda: _sent(gw, page.id))
            assert (await gw.delivery(page.id)).via == "beni-b"

            again = await gw.client.post(URL, content=body, headers=headers)
            assert again.status_code == 200, again.text
            page = await gw.delivery(page.id)
            assert (page.via, page.status) == ("beni-b", "accepted")
            assert await attempts(gw, page) == ["ok", "callback:failed", "failover:beni-b", "ok"]
            assert gw.sent_to(CLA_BENI) == [] and len(b.tried(CLA_BENI)) == 1


@pytest.mark.parametrize("stale", ["sms:failed", "sms:delivered"])
async def test_handset_a_s_report_of_its_first_send_does_not_move_its_second_send(
    settings: Settings, monkeypatch: pytest.MonkeyPatch, stale: str
) -> None:
    """The page went by handset A, which reported it failed; then by handset B, which
    refused it and was found down; then by A again, which took it. A report of A's FIRST send
    comes after that (the app posts its `sms:failed` again, or a delivery report comes late).
    Each send has its own id, so the report names the first send and leaves the second as it
    is. With one id for every send of a page, a stale `failed` failed the second send (and,
    no channel left, paged someone else for nothing), and a stale `delivered` marked
    delivered a send nobody had seen arrive."""
    monkeypatch.setattr(provider_reports, "UNKNOWN_SID_PAUSES", (0.0,))
    with SmsGateFake() as b:
        async with handset_gateway(settings) as (gw, a):
            await add_handset_b(gw, b)
            await set_down(gw.sessionmaker, "twilio")
            b.fail_with(500)
            await report(gw, a, FOCAL_MAVIVI, ATTACK)
            [page] = await gw.outbox(recipient=CLA_BENI, purpose="page")
            await gw.wait_for(lambda: has_provider_id(gw, page.id))
            first = (await gw.delivery(page.id)).provider_id
            assert first is not None
            body, headers = a.webhook("sms:failed", {"messageId": first, "reason": "NO_SERVICE"})
            assert (await gw.client.post(URL, content=body, headers=headers)).status_code == 200

            # B answers 500; marked down, it hands the page back to A, which takes it.
            await gw.wait_for(lambda: len(b.tried(CLA_BENI)) >= 1)
            await set_down(gw.sessionmaker, "beni-b")
            await gw.wait_for(lambda: _sent_again_by_a(gw, a, page.id))
            second = (await gw.delivery(page.id)).provider_id
            assert second is not None

            body, headers = a.webhook(stale, {"messageId": first})
            answer = await gw.client.post(URL, content=body, headers=headers)
            assert answer.status_code == 200, answer.text
            await provider_reports.apply_early(gw.sessionmaker, gw.settings)
            page = await gw.delivery(page.id)
            assert (page.via, page.status, page.provider_status, page.provider_id) == (
                "beni-a",
                "accepted",
                "accepted",
                second,
            )
            assert len(await gw.outbox(purpose="page")) == 2, "nobody else paged"
            assert answer.json()["status"] == "unknown message", "no delivery has that id now"
            assert second != first
            assert [s.json["id"] for s in a.accepted(CLA_BENI)] == [first, second]
            # SMS Gateway for Android's server takes ids of 36 characters at most.
            assert len(first) <= 36 and len(second) <= 36

            # The second send's own report still moves it.
            body, headers = a.webhook("sms:delivered", {"messageId": second})
            answer = await gw.client.post(URL, content=body, headers=headers)
            assert answer.json()["status"] == "recorded"
            assert (await gw.delivery(page.id)).status == "delivered"


async def _sent_again_by_a(gw: Gateway, a: SmsGateFake, delivery_id: int) -> bool:
    delivery = await gw.delivery(delivery_id)
    return (
        len(a.accepted(CLA_BENI)) == 2
        and delivery.via == "beni-a"
        and delivery.provider_id is not None
    )


async def add_handset_b(gw: Gateway, b: SmsGateFake) -> None:
    """Handset B (beni-b), the zone's second channel, after A."""
    await add_channel(
        gw.sessionmaker,
        gw.settings,
        "smsgate",
        "beni-b",
        numbers=["+243970000002"],
        options={
            "signing_key": b.signing_key,
            "api_url": b.base_url,
            "username": b.username,
            "password": b.password,
        },
        zones=["Beni"],
        priority=2,
    )


async def test_a_receipt_waiting_for_a_handset_turned_off_to_be_fixed_leaves_when_it_is_back(
    settings: Settings,
) -> None:
    """CHANNELS.md: mark a handset down yourself (`active: false`) while you fix it; when it
    is back, its queued receipts leave. The receipt of a report that came through it goes
    back through it, so it waits, as for a channel down, instead of being given up."""
    async with handset_gateway(settings) as (gw, fake):
        await set_down(gw.sessionmaker, "beni-a")
        await report(gw, fake, FOCAL_MAVIVI, ATTACK)
        [receipt] = await gw.outbox(recipient=FOCAL_MAVIVI, purpose="reply")
        await gw.wait_for(lambda: _waiting(gw, receipt.id))

        await set_active(gw, "beni-a", False)
        await asyncio.sleep(0.7)  # it looks again every 0.2 s
        assert (await gw.delivery(receipt.id)).status == "pending"
        assert fake.requests == []

        await set_active(gw, "beni-a", True)
        await set_down(gw.sessionmaker, "beni-a", down=False)
        await gw.wait_for(lambda: len(fake.accepted(FOCAL_MAVIVI)) == 1, within=10)
        await gw.wait_for(lambda: _sent(gw, receipt.id))
        assert gw.sent_to(FOCAL_MAVIVI) == [], "by the handset, not by Twilio"


async def test_a_refused_send_keeps_no_password_of_the_handset_s_url(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # A private server reached with its credentials in the URL (user:password@host).
    with SmsGateFake() as fake:
        scheme, rest = fake.base_url.split("://", 1)
        api_url = f"{scheme}://proxy:url-pass-3Rk@{rest}/3rdparty/v1"
        options = {"api_url": api_url, "username": fake.username}
        sender = SmsGateSender(options, {"password": fake.password})
        try:
            with caplog.at_level(logging.INFO):
                result = await sender.send_sms(to=FOCAL_MAVIVI, body=ATTACK, message_id="d1")
        finally:
            await sender.aclose()
    assert not result.ok and result.http_status == 401
    assert result.error is not None and result.error.startswith("HTTP 401")
    assert "url-pass-3Rk" not in result.error
    # The gateway's own lines (httpx's are quieted by the process's logging setup).
    ours = [r.getMessage() for r in caplog.records if r.name.startswith("app.")]
    assert ours and not any("url-pass-3Rk" in line for line in ours)
