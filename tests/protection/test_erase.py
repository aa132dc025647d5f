"""Erasing a focal point removes their number and words, and nothing else."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from app.alerts.models import Alert, AlertEvent
from app.alerts.verify import verify
from app.audit.models import AuditEntry
from app.inbound.models import InboundMessage
from app.outbox.models import Delivery
from app.people.models import Reporter
from tests.protection.conftest import Gateway
from tests.protection.support import demo_numbers, send_demo_traffic
from tests.support import post_twilio, sms_form


async def _texts(gateway: Gateway) -> list[str]:
    """Every decrypted text and document of the database, as strings."""
    out: list[str] = []
    async with gateway.sessionmaker() as s:
        for a in await s.scalars(select(Alert)):
            out += [a.from_phone, a.body, a.summary or "", str(a.correction)]
        for e in await s.scalars(select(AlertEvent)):
            out += [e.note or "", str(e.detail)]
        for m in await s.scalars(select(InboundMessage)):
            out += [m.from_phone, m.body, str(m.raw), m.reply or ""]
        for d in await s.scalars(select(Delivery)):
            out += [d.recipient, d.body, d.last_error or ""]
    return out


def _statistics(alerts: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    keys = ("ref", "category", "severity", "place", "received_at", "status", "message_count")
    return sorted(tuple(str(a[k]) for k in keys) for a in alerts)


async def test_erase_removes_the_number_and_texts_keeps_anonymous_alerts(
    gateway: Gateway,
) -> None:
    client, admin = gateway.client, gateway.admin
    numbers = await demo_numbers(gateway.sessionmaker)
    erased, kept = numbers[0], numbers[1]
    texts = await send_demo_traffic(client, numbers)
    # Another focal point's message and an operator's note quote the number to erase.
    spaced = f"{erased[:4]} {erased[4:7]} {erased[7:10]} {erased[10:]}"
    local = "0" + erased[4:]
    await post_twilio(client, "/webhooks/twilio/sms", sms_form(kept, f"Appelez {spaced} svp"))
    alerts = (await client.get("/api/v1/alerts", headers=admin)).json()["items"]
    target = next(a for a in alerts if a["from_phone"] == kept)
    note = await client.post(
        f"/api/v1/alerts/{target['id']}/actions",
        headers=admin,
        json={"action": "note", "note": f"rappel {local}"},
    )
    assert note.status_code == 200, note.text
    before = (await client.get("/api/v1/alerts", headers=admin)).json()["items"]
    stats_before = (await client.get("/api/v1/stats", headers=admin)).json()
    page = await client.get("/api/v1/reporters", headers=admin, params={"q": erased})
    [reporter] = page.json()["items"]

    url = f"/api/v1/reporters/{reporter['id']}/erase"
    refused = await client.post(url, headers=admin, json={})
    assert refused.status_code == 422 and "reason" in refused.text
    assert (await client.post(url, headers=gateway.viewer, json={"reason": "x"})).status_code == 403
    done = await client.post(url, headers=admin, json={"reason": "asked by the focal point"})
    assert done.status_code == 200, done.text
    assert done.json()["alerts"] >= 1

    # Nothing left of the number or of their words, anywhere.
    everything = "\n".join(await _texts(gateway))
    for writing in (erased, erased[1:], local, spaced):
        assert writing not in everything
    assert texts[0] not in everything
    # The others' words stay (the copy of the number excepted).
    assert texts[1] in everything and "Appelez [erased] svp" in everything
    assert "rappel [erased]" in everything
    # Statistics unchanged: the same alerts, categories, places, times, counts.
    after = (await client.get("/api/v1/alerts", headers=admin)).json()["items"]
    assert _statistics(after) == _statistics(before)
    stats = (await client.get("/api/v1/stats", headers=admin)).json()
    for key in ("total", "by_category", "by_severity", "by_status", "by_territoire"):
        assert stats[key] == stats_before[key], key
    # Only who reported changes: their reports are now unattributed.
    assert stats["unattributed"] == stats_before["unattributed"] + done.json()["alerts"]
    assert {a["from_phone"] for a in after} == ({a["from_phone"] for a in before} - {erased}) | {""}
    async with gateway.sessionmaker() as s:
        assert await s.scalar(select(Reporter).where(Reporter.phone == erased)) is None
        [entry] = (
            await s.scalars(select(AuditEntry).where(AuditEntry.action == "reporter.erase"))
        ).all()
    assert entry.target_id == str(reporter["id"]) and entry.detail["reason"]
    assert erased not in str(entry.detail)
    # The operator's note was a link of its alert's hash chain: that trail is linked again,
    # the audit entry says so, and `audit verify` finds every chain whole.
    assert target["id"] in entry.detail["chains_resealed"]
    assert entry.detail["chains_broken_before"] == []
    async with gateway.sessionmaker() as s:
        report = await verify(s)
    assert report.ok, [b.describe() for b in report.breaks]

    # The number texts again: a new, unknown reporter.
    await post_twilio(client, "/webhooks/twilio/sms", sms_form(erased, "Habari tena"))
    page = await client.get("/api/v1/reporters", headers=admin, params={"q": erased})
    [again] = page.json()["items"]
    assert again["id"] != reporter["id"] and again["role"] == "unregistered"
