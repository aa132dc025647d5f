"""Webhook events to other systems, signed per Standard Webhooks."""

from __future__ import annotations

import json
from collections import Counter, defaultdict

import httpx
import pytest
from fastapi import FastAPI, Request, Response
from sqlalchemy import select
from standardwebhooks.webhooks import Webhook

from app.kit.config import Settings
from app.outbox.models import WebhookSubscription
from app.outbox.webhooks import WebhookSender
from tests.escalation.support import CLA_BENI, FOCAL_MAVIVI, Gateway, gateway, ref_in

HOOK = "http://127.0.0.1:9/hooks/kengele"

pytestmark = pytest.mark.usefixtures("engine")  # tables emptied first


class Receiver:
    """Another system: verifies every signature, answers 503 the first time."""

    def __init__(self, first_status: int = 503) -> None:
        self.secret = ""
        self.first_status = first_status
        self.tries: Counter[str] = Counter()
        self.accepted: dict[str, dict[str, object]] = {}
        self.headers: defaultdict[str, list[str]] = defaultdict(list)
        self.app = FastAPI()

        @self.app.post("/hooks/kengele")
        async def hook(request: Request) -> Response:
            body = await request.body()
            event = Webhook(self.secret).verify(body, dict(request.headers))
            msg_id = request.headers["webhook-id"]
            self.tries[msg_id] += 1
            if self.tries[msg_id] == 1 and self.first_status != 200:
                return Response(status_code=self.first_status)
            if msg_id not in self.accepted:
                self.accepted[msg_id] = event
            return Response(status_code=204)

    def types(self) -> list[str]:
        return sorted(str(e["type"]) for e in self.accepted.values())


async def _subscribe(gw: Gateway, headers: dict[str, str], receiver: Receiver) -> dict[str, object]:
    gw.app.state.runtime.worker.webhooks = WebhookSender(
        transport=httpx.ASGITransport(app=receiver.app)
    )
    created = await gw.client.post(
        "/api/v1/webhooks",
        json={
            "url": HOOK,
            "event_types": ["alert.created", "alert.escalated", "alert.acknowledged"],
        },
        headers=headers,
    )
    assert created.status_code == 201, created.text
    body = created.json()
    assert str(body["secret"]).startswith("whsec_")
    receiver.secret = str(body["secret"])
    return body


async def test_receiver_verifies_signatures_and_sees_each_event_once_despite_a_503(
    settings: Settings,
    admin_headers: dict[str, str],
) -> None:
    receiver = Receiver(first_status=503)
    async with gateway(settings, webhook_allow_private=True) as gw:
        await _subscribe(gw, admin_headers, receiver)
        ref = ref_in((await gw.sms(FOCAL_MAVIVI, "Attaque en cours a Mavivi")).text)
        # No timing is asserted here (retries come after 0.05 s); a loaded machine is slow.
        await gw.wait_for(lambda: len(receiver.accepted) == 2, within=20)
        await gw.sms(CLA_BENI, f"OK {ref}")
        await gw.wait_for(lambda: len(receiver.accepted) == 3, within=20)

        assert receiver.types() == ["alert.acknowledged", "alert.created", "alert.escalated"]
        assert set(receiver.tries.values()) == {2}, "503 then the same webhook-id again"
        created = next(e for e in receiver.accepted.values() if e["type"] == "alert.created")
        data = created["data"]
        assert isinstance(data, dict)
        assert data["alert"]["ref"] == ref
        assert data["alert"]["from_phone"] == "+243••••••101", "phones are masked for systems"

        listed = (await gw.client.get("/api/v1/webhooks", headers=admin_headers)).json()
        assert "secret" not in json.dumps(listed), "the secret is shown once"


async def test_410_disables_the_subscription(
    settings: Settings,
    admin_headers: dict[str, str],
) -> None:
    receiver = Receiver(first_status=410)
    async with gateway(settings, webhook_allow_private=True) as gw:
        await _subscribe(gw, admin_headers, receiver)
        await gw.sms(FOCAL_MAVIVI, "Attaque en cours a Mavivi")

        async def disabled() -> bool:
            async with gw.sessionmaker() as s:
                sub = await s.scalar(select(WebhookSubscription))
            return sub is not None and not sub.active

        await gw.wait_for(disabled)

        async def settled() -> bool:
            hooks = await gw.outbox(channel="webhook")
            return all(d.status in ("dead", "cancelled") for d in hooks)

        await gw.wait_for(settled)
        assert set(receiver.tries.values()) == {1}, "a 410 is not retried"
        # After the 410, the next alert's events are not even queued for this receiver.
        await gw.sms("+243810000103", "Attaque en cours a Eringeti")
        newest = await gw.alert()
        assert await gw.outbox(channel="webhook", alert_id=newest.id) == []


async def test_private_targets_are_refused_unless_allowed(
    settings: Settings,
    admin_headers: dict[str, str],
) -> None:
    async with gateway(settings) as gw:
        for url in (HOOK, "http://localhost/x", "http://10.0.0.5/x", "http://169.254.169.254/"):
            r = await gw.client.post(
                "/api/v1/webhooks",
                json={"url": url, "event_types": ["alert.created"]},
                headers=admin_headers,
            )
            assert r.status_code == 422, (url, r.text)
            assert r.json()["error"] == "WebhookTargetError"
        bad_type = await gw.client.post(
            "/api/v1/webhooks",
            json={"url": "https://8.8.8.8/x", "event_types": ["alert.exploded"]},
            headers=admin_headers,
        )
        assert bad_type.status_code == 422
        assert "alert.exploded" in bad_type.text


async def test_only_admins_manage_subscriptions_and_policies(
    settings: Settings,
    viewer_headers: dict[str, str],
) -> None:
    async with gateway(settings) as gw:
        for path in ("/api/v1/webhooks", "/api/v1/policies"):
            assert (await gw.client.get(path, headers=viewer_headers)).status_code == 403
            assert (await gw.client.get(path)).status_code == 401


async def test_a_policy_with_control_characters_is_refused_not_a_server_error(
    settings: Settings, admin_headers: dict[str, str]
) -> None:
    policy = {"steps": [{"after_seconds": 0, "notify": "zone_liaisons"}]}
    async with gateway(settings) as gw:
        for bad in ({"name": "night\x00shift"}, {"name": "x", "match": {"admin1": ["Ituri\x00"]}}):
            response = await gw.client.post(
                "/api/v1/policies", json={**policy, **bad}, headers=admin_headers
            )
            assert response.status_code == 422, response.text
            assert response.json()["error"]
