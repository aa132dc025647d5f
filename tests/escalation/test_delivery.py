"""The outbox against the Twilio stand-in: retries, permanent failures, dead rows, statuses."""

from __future__ import annotations

from typing import Any, cast

import pytest
from sqlalchemy import select

from app.kit.clock import utcnow
from app.kit.config import Settings
from app.kit.db import unit_of_work
from app.outbox import service as outbox
from app.outbox.models import DeliveryAttempt
from tests.escalation.support import CLA_BENI, FOCAL_MAVIVI, Gateway, gateway
from tests.support import make_key

TO = "+243820000209"

pytestmark = pytest.mark.usefixtures("engine")  # tables emptied first


async def _enqueue(gw: Gateway, body: str = "test page") -> int:
    async with unit_of_work(gw.sessionmaker) as session:
        delivery = await outbox.enqueue_sms(session, gw.settings, to=TO, body=body, purpose="test")
        return delivery.id


async def test_transient_failures_are_retried_until_one_sms_is_sent(settings: Settings) -> None:
    async with gateway(settings) as gw:
        gw.fake.script(500, 500, 429, 201)
        delivery_id = await _enqueue(gw)

        async def settled() -> bool:
            return (await gw.delivery(delivery_id)).status == "queued"

        await gw.wait_for(settled)
        assert [r.response_status for r in gw.fake.requests] == [500, 500, 429, 201]
        assert len(gw.sent_to(TO)) == 1, "exactly one SMS reaches the phone"
        delivery = await gw.delivery(delivery_id)
        assert (delivery.status, delivery.attempts) == ("queued", 4)
        async with gw.sessionmaker() as s:
            attempts = (
                await s.scalars(
                    select(DeliveryAttempt.status).where(DeliveryAttempt.delivery_id == delivery_id)
                )
            ).all()
        assert list(attempts) == ["retry", "retry", "retry", "ok"]


async def test_retry_after_is_honoured(settings: Settings) -> None:
    async with gateway(settings) as gw:
        gw.fake.script(429, 201, retry_after=1)
        await _enqueue(gw)
        await gw.wait_for(lambda: len(gw.fake.requests) == 2, within=5)
        first, second = gw.fake.requests
        assert (second.received_at - first.received_at).total_seconds() >= 0.95


async def test_unsubscribed_number_fails_at_once_and_an_operator_can_retry_it(
    settings: Settings,
    admin_headers: dict[str, str],
) -> None:
    async with gateway(settings) as gw:
        gw.fake.fail_with(code=21610, status=400)
        delivery_id = await _enqueue(gw)

        async def dead() -> bool:
            return (await gw.delivery(delivery_id)).status == "dead"

        await gw.wait_for(dead)  # a dead row is never sent again
        assert len(gw.fake.requests) == 1, "no retry of a permanent error"
        delivery = await gw.delivery(delivery_id)
        assert (delivery.status, delivery.attempts) == ("dead", 1)

        dead = (await gw.client.get("/api/v1/deliveries?status=dead", headers=admin_headers)).json()
        assert [d["id"] for d in dead["items"]] == [delivery_id]
        assert "21610" in (dead["items"][0]["last_error"] or "")

        retried = await gw.client.post(
            f"/api/v1/deliveries/{delivery_id}/retry", headers=admin_headers
        )
        assert retried.status_code == 200, retried.text
        await gw.wait_for(lambda: len(gw.sent_to(TO)) == 1)
        again = await gw.client.post(
            f"/api/v1/deliveries/{delivery_id}/retry", headers=admin_headers
        )
        assert again.status_code == 409, "only dead deliveries are retried"


async def test_last_attempt_makes_the_row_dead(settings: Settings) -> None:
    async with gateway(settings, delivery_max_attempts=3) as gw:
        gw.fake.script(503, 503, 503, 503)
        delivery_id = await _enqueue(gw)

        async def dead() -> bool:
            return (await gw.delivery(delivery_id)).status == "dead"

        await gw.wait_for(dead)
        assert len(gw.fake.requests) == 3


async def test_status_callbacks_move_forward_only(settings: Settings) -> None:
    async with gateway(settings) as gw:
        delivery_id = await _enqueue(gw)
        await gw.wait_for(lambda: len(gw.fake.pending_callbacks) == 2)
        await gw.wait_for(lambda: len(gw.sent_to(TO)) == 1)
        # "delivered" arrives first, then "sent", and each twice.
        await gw.flush_callbacks(reverse=True, duplicate=True)
        delivery = await gw.delivery(delivery_id)
        assert (delivery.status, delivery.provider_status) == ("delivered", "delivered")


async def test_status_callback_needs_a_valid_signature(settings: Settings) -> None:
    async with gateway(settings) as gw:
        form = {"MessageSid": "SM" + "1" * 32, "MessageStatus": "delivered"}
        response = await gw.client.post(
            "/webhooks/twilio/status", data=form, headers={"X-Twilio-Signature": "forged"}
        )
        assert response.status_code == 403


async def test_bursts_are_queued_at_the_sending_numbers_rate(settings: Settings) -> None:
    async with gateway(settings, sms_rate_per_second=4.0, sms_burst=2) as gw:
        started = utcnow()
        for i in range(8):
            await _enqueue(gw, f"burst {i}")
        await gw.wait_for(lambda: len(gw.fake.requests) == 8, within=5)
        last = max(r.received_at for r in gw.fake.requests)
        # 2 at once, then 6 more at 4 a second: the last no sooner than 1.5 s after the
        # first could leave; none dropped. (Timed from before the first was queued, not from
        # its arrival: a first send slowed on a busy machine would shorten the span.)
        span = (last - started).total_seconds()
        assert span >= 1.4, span
        assert sorted(r.body or "" for r in gw.fake.requests) == [f"burst {i}" for i in range(8)]


async def test_a_page_held_back_by_the_rate_goes_before_receipts_queued_earlier(
    settings: Settings,
) -> None:
    """A surge: the sending number's rate holds back a queue of reporters' receipts; a page
    that falls due after them still leaves first (a liaison must not wait for them)."""
    async with gateway(settings, sms_rate_per_second=2.0, sms_burst=1) as gw:
        async with unit_of_work(gw.sessionmaker) as session:
            for i in range(4):
                await outbox.enqueue_sms(
                    session, gw.settings, to=TO, body=f"receipt {i}", purpose="reply"
                )
        await gw.wait_for(lambda: len(gw.fake.requests) >= 1, within=5)
        async with unit_of_work(gw.sessionmaker) as session:
            await outbox.enqueue_sms(session, gw.settings, to=TO, body="the page", purpose="page")
        await gw.wait_for(lambda: len(gw.fake.requests) == 5, within=10)
        bodies = [r.body for r in sorted(gw.fake.requests, key=lambda r: r.received_at)]
        # The first receipt had left before the page was written; the page is next.
        assert bodies[:2] == ["receipt 0", "the page"], bodies


async def test_a_page_delivered_shows_to_pollers_of_the_alert(settings: Settings) -> None:
    """The ops room follows alerts by `updated_after`: a liaison's phone receiving the page
    changes what is shown of the alert (`paging.pages_delivered`), so it is a change."""
    async with gateway(settings) as gw:
        await gw.sms(FOCAL_MAVIVI, "Attaque a Mavivi, des morts")
        await gw.wait_for(lambda: len(gw.sent_to(CLA_BENI)) == 1)
        viewer = {"Authorization": f"Bearer {await make_key(gw.sessionmaker, 'viewer')}"}

        async def poll(after: str) -> dict[str, Any]:
            params = {"updated_after": after, "limit": 500}
            response = await gw.client.get("/api/v1/alerts", params=params, headers=viewer)
            assert response.status_code == 200, response.text
            return cast(dict[str, Any], response.json())

        first = await poll("")
        [paged] = first["items"]
        assert paged["paging"]["pages_delivered"] == 0
        pages = paged["paging"]["pages"]
        await gw.wait_for(lambda: len(gw.fake.pending_callbacks) == 2 * pages)  # all sent
        assert (await poll(first["sync_cursor"]))["items"] == [], "nothing changed yet"

        await gw.flush_callbacks()  # the page's "sent", then "delivered"

        [seen] = (await poll(first["sync_cursor"]))["items"]
        assert seen["id"] == paged["id"]
        assert seen["paging"]["pages_delivered"] == paged["paging"]["pages"] >= 1
