"""Writers lock in one order (incident, escalation, alert), so an operator's action and the
worker or a liaison's SMS never wait on each other in a cycle (a deadlock on PostgreSQL)."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from tests.support import make_key, post_twilio, sms_form

SMS = "/webhooks/twilio/sms"


@pytest.mark.postgresql  # row locks (SQLite has one writer at a time)
async def test_an_action_waits_for_the_escalation_before_locking_the_alert(
    client: httpx.AsyncClient,
    demo: None,
    engine: AsyncEngine,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    operator = {"Authorization": f"Bearer {await make_key(sessionmaker, 'operator')}"}
    form = sms_form("+243810000101", "Attaque en cours a Mavivi")
    assert (await post_twilio(client, SMS, form)).status_code == 200
    [alert] = (await client.get("/api/v1/alerts", headers=operator)).json()["items"]

    # As the worker does: the escalation is claimed, then the alert is written.
    worker = await engine.connect()
    transaction = await worker.begin()
    await worker.execute(
        text("SELECT id FROM escalations WHERE alert_id = :a FOR UPDATE"), {"a": alert["id"]}
    )
    action = asyncio.ensure_future(
        client.post(
            f"/api/v1/alerts/{alert['id']}/actions",
            json={"action": "acknowledge"},
            headers=operator,
        )
    )
    await asyncio.sleep(0.5)
    assert not action.done(), "the action waits for the escalation the worker holds"
    # The worker can still take the alert: the action did not lock it first (no cycle).
    await worker.execute(
        text("SELECT id FROM alerts WHERE id = :a FOR NO KEY UPDATE NOWAIT"), {"a": alert["id"]}
    )
    await transaction.commit()
    await worker.close()
    response = await asyncio.wait_for(action, 30)
    assert response.status_code == 200
    assert response.json()["status"] == "acknowledged"


async def test_operator_and_liaison_closing_at_once_both_get_an_answer(
    client: httpx.AsyncClient, demo: None, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    operator = {"Authorization": f"Bearer {await make_key(sessionmaker, 'operator')}"}
    for phone, body in [
        ("+243810000101", "Attaque en cours a Mavivi"),
        ("+243810000104", "Attaque a Oicha, des tirs"),
        ("+243810000113", "Attaque a Kalehe, maisons brulees"),
    ]:
        assert (await post_twilio(client, SMS, sms_form(phone, body))).status_code == 200
    alerts = (await client.get("/api/v1/alerts", headers=operator)).json()["items"]
    deliveries = (await client.get("/api/v1/deliveries?limit=500", headers=operator)).json()
    paged = {d["alert_id"]: d["recipient"] for d in deliveries["items"] if d["purpose"] == "page"}

    async def operator_resolves(alert_id: int) -> int:
        response = await client.post(
            f"/api/v1/alerts/{alert_id}/actions", json={"action": "resolve"}, headers=operator
        )
        return response.status_code

    async def liaison_closes(alert_id: int, ref: str) -> int:
        reply = sms_form(paged[alert_id], f"FIN {ref} calme")
        return (await post_twilio(client, SMS, reply)).status_code

    codes = await asyncio.gather(
        *(operator_resolves(a["id"]) for a in alerts),
        *(liaison_closes(a["id"], a["ref"]) for a in alerts if a["id"] in paged),
    )
    # 409: the liaison closed it first. Never a 500.
    assert set(codes) <= {200, 409}, codes
    after = (await client.get("/api/v1/alerts", headers=operator)).json()["items"]
    assert {a["status"] for a in after} == {"resolved"}
