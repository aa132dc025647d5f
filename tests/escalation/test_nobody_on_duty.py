"""A step whose zone has nobody on duty, and no JOC officer on duty either: nobody is paged,
and the operations room must see it (the alert's trail, its webhook, a metric)."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select, update

from app.escalation.models import Escalation
from app.kit.config import Settings
from app.kit.db import unit_of_work
from app.people.models import Liaison
from tests.escalation.support import (
    CLA_BENI,
    CLA_OICHA,
    FOCAL_MAVIVI,
    JOC_NORD_KIVU,
    Gateway,
    gateway,
    ref_in,
)
from tests.kit.test_metrics import scrape, value

pytestmark = pytest.mark.usefixtures("engine")  # tables emptied first

UNPAGED = "kengele_escalation_steps_unpaged_total"


async def test_a_step_that_pages_nobody_shows_in_the_trail_the_webhook_and_the_metrics(
    settings: Settings, admin_headers: dict[str, str]
) -> None:
    """Every liaison of Beni and every JOC officer is off duty: the critical alert's first
    step pages nobody. Its trail says so and why (the operations page, the API, and the
    pollers, for whom the alert changed), subscribers get the step's `alert.escalated`
    saying nobody was paged, and Prometheus counts it. The paging goes on: the JOC's step
    five minutes later pages whoever is on duty by then."""
    async with gateway(settings) as gw:
        listener = {"url": "https://8.8.8.8/kengele", "event_types": ["alert.escalated"]}
        subscribed = await gw.client.post("/api/v1/webhooks", json=listener, headers=admin_headers)
        assert subscribed.status_code == 201, subscribed.text
        async with unit_of_work(gw.sessionmaker) as s:
            await s.execute(update(Liaison).values(on_duty=False))
        before = await scrape(gw.client)

        ref = ref_in((await gw.sms(FOCAL_MAVIVI, "Attaque en cours a Mavivi, des morts")).text)

        alert = await gw.alert(ref)
        assert await gw.outbox(purpose="page") == []
        shown = await gw.client.get(f"/api/v1/alerts/{alert.id}", headers=admin_headers)
        assert shown.status_code == 200, shown.text
        (unpaged,) = [e for e in shown.json()["events"] if e["action"] == "nobody_paged"]
        assert unpaged["detail"]["step"] == 0
        assert unpaged["detail"]["reason"] == "nobody_on_duty"
        assert "JOC" in unpaged["note"]
        (hook,) = await gw.outbox(channel="webhook", event_type="alert.escalated")
        data = json.loads(hook.body)["data"]
        assert data["step"] == 0 and data["liaisons"] == []
        assert data["nobody_paged"] == "nobody_on_duty"
        after = await scrape(gw.client)
        assert value(after, UNPAGED) - value(before, UNPAGED) == 1

        # The step is not lost: the JOC officer on duty by the next step is paged by it.
        async with unit_of_work(gw.sessionmaker) as s:
            await s.execute(
                update(Liaison).where(Liaison.phone == JOC_NORD_KIVU).values(on_duty=True)
            )
        async with gw.sessionmaker() as s:
            escalation = await s.scalar(select(Escalation))
        assert escalation is not None and escalation.state == "active"
        await gw.advance(301)
        await gw.wait_for(lambda: bool(gw.sent_to(JOC_NORD_KIVU)))
        assert gw.sent_to(JOC_NORD_KIVU)[0].startswith(ref)


async def test_a_failed_page_with_nobody_left_to_take_it_shows_in_the_trail_and_the_metrics(
    settings: Settings, admin_headers: dict[str, str]
) -> None:
    """CLA Beni alone is on duty; his page comes back undelivered, and nobody is left to pass
    it on to (his colleague and the JOC are off duty): the trail says nobody has the alert."""
    async with gateway(settings) as gw:
        async with unit_of_work(gw.sessionmaker) as s:
            await s.execute(update(Liaison).values(on_duty=False))
            await s.execute(update(Liaison).where(Liaison.phone == CLA_BENI).values(on_duty=True))
        gw.fake.set_final_status(CLA_BENI, "undelivered", error_code=30003)
        before = await scrape(gw.client)

        ref = ref_in((await gw.sms(FOCAL_MAVIVI, "Attaque en cours a Mavivi")).text)
        await gw.wait_for(lambda: bool(gw.sent_to(CLA_BENI)))
        await gw.wait_for(lambda: len(gw.fake.pending_callbacks) >= 2)
        await gw.flush_callbacks()

        alert = await gw.alert(ref)
        shown = await gw.client.get(f"/api/v1/alerts/{alert.id}", headers=admin_headers)
        (unpaged,) = [e for e in shown.json()["events"] if e["action"] == "nobody_paged"]
        (page,) = await gw.outbox(purpose="page")
        assert unpaged["detail"] == {"step": 0, "reason": "nobody_left", "failed_delivery": page.id}
        assert "did not reach" in unpaged["note"]
        after = await scrape(gw.client)
        assert value(after, UNPAGED) - value(before, UNPAGED) == 1


async def _liaison_id(gw: Gateway, phone: str) -> int:
    async with gw.sessionmaker() as s:
        found = await s.scalar(select(Liaison.id).where(Liaison.phone == phone))
    assert found is not None
    return found


async def test_a_liaison_who_comes_on_duty_is_paged_for_the_alert_nobody_has(
    settings: Settings, admin_headers: dict[str, str]
) -> None:
    """At night nobody of Beni and no JOC officer is on duty: an attack at Mavivi pages
    nobody. When the operations room puts CLA Beni on duty, he is paged for it at once (not
    only when the JOC's step comes, which would page the JOC alone); the trail says why."""
    async with gateway(settings) as gw:
        listener = {"url": "https://8.8.8.8/kengele", "event_types": ["alert.escalated"]}
        subscribed = await gw.client.post("/api/v1/webhooks", json=listener, headers=admin_headers)
        assert subscribed.status_code == 201, subscribed.text
        async with unit_of_work(gw.sessionmaker) as s:
            await s.execute(update(Liaison).values(on_duty=False))
        ref = ref_in((await gw.sms(FOCAL_MAVIVI, "Attaque en cours a Mavivi, des morts")).text)
        assert await gw.outbox(purpose="page") == []

        beni = await _liaison_id(gw, CLA_BENI)
        changed = await gw.client.patch(
            f"/api/v1/liaisons/{beni}/duty", json={"on_duty": True}, headers=admin_headers
        )
        assert changed.status_code == 200, changed.text

        await gw.wait_for(lambda: bool(gw.sent_to(CLA_BENI)))
        assert gw.sent_to(CLA_BENI)[0].startswith(ref)
        alert = await gw.alert(ref)
        shown = await gw.client.get(f"/api/v1/alerts/{alert.id}", headers=admin_headers)
        paged = [e for e in shown.json()["events"] if e["action"] == "escalated"]
        assert paged[-1]["detail"]["reason"] == "came_on_duty"
        assert paged[-1]["detail"]["liaisons"] == [beni]
        assert len(await gw.outbox(purpose="page")) == 1, "nobody else paged"
        hooks = await gw.outbox(channel="webhook", event_type="alert.escalated")
        told = [json.loads(hook.body)["data"] for hook in hooks]
        assert [d.get("nobody_paged") for d in told] == ["nobody_on_duty", None]
        assert (told[1]["reason"], told[1]["liaisons"]) == ("came_on_duty", [beni])


async def test_a_liaison_who_comes_on_duty_is_not_paged_for_an_alert_someone_has(
    settings: Settings, admin_headers: dict[str, str]
) -> None:
    """CLA Oicha alone is on duty and was paged for the attack; CLA Beni coming on duty is
    not paged for it (it has someone; the policy's next steps page whom they name)."""
    async with gateway(settings) as gw:
        async with unit_of_work(gw.sessionmaker) as s:
            await s.execute(update(Liaison).values(on_duty=False))
            await s.execute(update(Liaison).where(Liaison.phone == CLA_OICHA).values(on_duty=True))
        await gw.sms(FOCAL_MAVIVI, "Attaque en cours a Mavivi, des morts")
        await gw.wait_for(lambda: bool(gw.sent_to(CLA_OICHA)))

        beni = await _liaison_id(gw, CLA_BENI)
        changed = await gw.client.patch(
            f"/api/v1/liaisons/{beni}/duty", json={"on_duty": True}, headers=admin_headers
        )
        assert changed.status_code == 200, changed.text

        assert await gw.outbox(recipient=CLA_BENI) == []


async def test_a_liaison_who_comes_on_duty_is_not_paged_for_what_the_policy_pages_nobody_for(
    settings: Settings, admin_headers: dict[str, str]
) -> None:
    """A low alert's policy pages nobody by SMS (subscribers only): nobody on duty is not a
    gap there. CLA Beni coming on duty is not sent it."""
    async with gateway(settings) as gw:
        async with unit_of_work(gw.sessionmaker) as s:
            await s.execute(update(Liaison).values(on_duty=False))
        ref = ref_in((await gw.sms(FOCAL_MAVIVI, "Reunion du comite a Mavivi demain")).text)
        assert (await gw.alert(ref)).severity == "low"

        beni = await _liaison_id(gw, CLA_BENI)
        changed = await gw.client.patch(
            f"/api/v1/liaisons/{beni}/duty", json={"on_duty": True}, headers=admin_headers
        )
        assert changed.status_code == 200, changed.text

        assert await gw.outbox(purpose="page") == []
