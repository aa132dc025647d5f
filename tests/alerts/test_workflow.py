"""The operations room's workflow: actions, transitions, If-Match, audit trail, incidents."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.harness.server import live_server
from tests.support import make_key, post_twilio, sign, sms_form

SMS = "/webhooks/twilio/sms"


@pytest.fixture
async def operator(sessionmaker: async_sessionmaker[AsyncSession]) -> dict[str, str]:
    """Authorization of an operator key."""
    return {"Authorization": f"Bearer {await make_key(sessionmaker, 'operator')}"}


async def _alert(client: httpx.AsyncClient, headers: dict[str, str], phone: str, body: str) -> Any:
    assert (await post_twilio(client, SMS, sms_form(phone, body))).status_code == 200
    items = (await client.get("/api/v1/alerts", headers=headers)).json()["items"]
    return next(a for a in items if a["body"] == body)


async def _act(
    client: httpx.AsyncClient, headers: dict[str, str], alert_id: int, **body: Any
) -> httpx.Response:
    return await client.post(f"/api/v1/alerts/{alert_id}/actions", json=body, headers=headers)


async def test_acknowledge_then_resolve_with_audit_trail(
    client: httpx.AsyncClient, demo: None, operator: dict[str, str]
) -> None:
    alert = await _alert(client, operator, "+243810000101", "Attaque en cours a Mavivi")
    response = await _act(client, operator, alert["id"], action="acknowledge", note="on it")
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "acknowledged"
    assert response.json()["paging"]["acknowledged_by"] == "test-operator"
    assert response.json()["paging"]["state"] == "stopped"
    assert response.headers["etag"].startswith(f'"{response.json()["version"]}.')
    response = await _act(client, operator, alert["id"], action="resolve", note="FARDC on site")
    assert response.json()["status"] == "resolved"

    events = (await client.get(f"/api/v1/alerts/{alert['id']}/events", headers=operator)).json()
    moves = [(e["action"], e["from_status"], e["to_status"], e["note"]) for e in events]
    assert ("acknowledged", "new", "acknowledged", "on it") in moves
    assert ("resolved", "acknowledged", "resolved", "FARDC on site") in moves
    actors = {e["actor"] for e in events if e["action"] in ("acknowledged", "resolved")}
    assert actors == {next(iter(actors))} and next(iter(actors)).startswith("apikey:")
    # Paging stopped: no page to a liaison is left waiting to be sent.
    deliveries = (
        await client.get(f"/api/v1/deliveries?alert_id={alert['id']}", headers=operator)
    ).json()["items"]
    assert all(d["status"] != "pending" for d in deliveries if d["purpose"] == "page")


async def test_transition_not_allowed_names_the_allowed_ones(
    client: httpx.AsyncClient, demo: None, operator: dict[str, str]
) -> None:
    alert = await _alert(client, operator, "+243810000101", "Attaque en cours a Mavivi")
    assert (await _act(client, operator, alert["id"], action="false_alarm")).status_code == 200
    response = await _act(client, operator, alert["id"], action="acknowledge")
    assert response.status_code == 409
    body = response.json()
    assert body["error"] == "TransitionNotAllowed"
    assert body["allowed"] == ["reopen", "assign", "note", "correct"]
    assert "reopen" in body["detail"]
    reopened = await _act(client, operator, alert["id"], action="reopen", note="seen again")
    assert reopened.json()["status"] == "acknowledged"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"action": "dance"}, "action"),
        ({}, "action"),
        ({"action": "note"}, None),
        ({"action": "assign"}, None),
    ],
)
async def test_bad_actions_are_422(
    client: httpx.AsyncClient,
    demo: None,
    operator: dict[str, str],
    body: dict[str, Any],
    field: str | None,
) -> None:
    alert = await _alert(client, operator, "+243810000101", "Attaque en cours a Mavivi")
    response = await client.post(
        f"/api/v1/alerts/{alert['id']}/actions", json=body, headers=operator
    )
    assert response.status_code == 422
    if field is not None:
        assert field in str(response.json()["detail"])


async def test_if_match_refuses_a_stale_version(
    client: httpx.AsyncClient, demo: None, operator: dict[str, str]
) -> None:
    alert = await _alert(client, operator, "+243810000101", "Attaque en cours a Mavivi")
    detail = await client.get(f"/api/v1/alerts/{alert['id']}", headers=operator)
    tag = detail.headers["etag"]
    first = await client.post(
        f"/api/v1/alerts/{alert['id']}/actions",
        json={"action": "assign", "assignee": "Cpt. Amani"},
        headers={**operator, "If-Match": tag},
    )
    assert first.status_code == 200
    second = await client.post(
        f"/api/v1/alerts/{alert['id']}/actions",
        json={"action": "acknowledge"},
        headers={**operator, "If-Match": tag},
    )
    assert second.status_code == 412
    assert second.json()["error"] == "PreconditionFailed"
    current = await client.get(f"/api/v1/alerts/{alert['id']}", headers=operator)
    assert current.json()["status"] == "new"
    assert current.json()["assignee"] == "Cpt. Amani"
    third = await client.post(
        f"/api/v1/alerts/{alert['id']}/actions",
        json={"action": "acknowledge"},
        headers={**operator, "If-Match": current.headers["etag"]},
    )
    assert third.status_code == 200


async def test_unknown_alert_is_404_and_viewer_cannot_act(
    client: httpx.AsyncClient,
    demo: None,
    operator: dict[str, str],
    viewer_headers: dict[str, str],
) -> None:
    assert (await _act(client, operator, 999, action="acknowledge")).status_code == 404
    alert = await _alert(client, operator, "+243810000101", "Attaque en cours a Mavivi")
    response = await _act(client, viewer_headers, alert["id"], action="acknowledge")
    assert response.status_code == 403


async def test_liaison_sms_is_in_the_same_trail(
    client: httpx.AsyncClient, demo: None, operator: dict[str, str]
) -> None:
    alert = await _alert(client, operator, "+243810000101", "Attaque en cours a Mavivi")
    liaisons = (await client.get("/api/v1/deliveries", headers=operator)).json()["items"]
    pages = [d for d in liaisons if d["purpose"] == "page" and d["alert_id"] == alert["id"]]
    assert pages, "the critical alert paged a liaison"
    reply = sms_form(pages[0]["recipient"], f"OK {alert['ref']}")
    assert (await post_twilio(client, SMS, reply)).status_code == 200
    events = (await client.get(f"/api/v1/alerts/{alert['id']}/events", headers=operator)).json()
    ack = next(e for e in events if e["action"] == "acknowledged")
    assert ack["actor"].startswith("liaison:")
    detail = (await client.get(f"/api/v1/alerts/{alert['id']}", headers=operator)).json()
    assert detail["paging"]["pages"] >= 1
    assert detail["paging"]["acknowledged_by"] not in (None, ack["actor"])
    assert (ack["from_status"], ack["to_status"]) == ("new", "acknowledged")


async def test_list_etag_and_304(
    client: httpx.AsyncClient, demo: None, operator: dict[str, str]
) -> None:
    await _alert(client, operator, "+243810000101", "Attaque en cours a Mavivi")
    first = await client.get("/api/v1/alerts", headers=operator)
    again = await client.get(
        "/api/v1/alerts", headers={**operator, "If-None-Match": first.headers["etag"]}
    )
    assert again.status_code == 304
    await _alert(client, operator, "+243810000113", "Kalehe: menaces contre les enseignants")
    changed = await client.get(
        "/api/v1/alerts", headers={**operator, "If-None-Match": first.headers["etag"]}
    )
    assert changed.status_code == 200


async def test_incident_detail_merge_and_detach(
    client: httpx.AsyncClient, demo: None, operator: dict[str, str]
) -> None:
    a = await _alert(client, operator, "+243810000101", "Attaque en cours a Mavivi")
    b = await _alert(client, operator, "+243810000113", "Kalehe: des hommes armes attaquent")
    assert a["incident_id"] and b["incident_id"] and a["incident_id"] != b["incident_id"]
    merged = await client.post(
        f"/api/v1/incidents/{b['incident_id']}/merge",
        json={"into": a["incident_id"], "note": "same group"},
        headers=operator,
    )
    assert merged.status_code == 200, merged.text
    body = merged.json()
    assert body["id"] == a["incident_id"]
    assert sorted(x["id"] for x in body["alerts"]) == sorted([a["id"], b["id"]])
    assert body["report_count"] == 2
    old = (await client.get(f"/api/v1/incidents/{b['incident_id']}", headers=operator)).json()
    assert (old["status"], old["merged_into_id"], old["alerts"]) == ("closed", a["incident_id"], [])
    again = await client.post(
        f"/api/v1/incidents/{b['incident_id']}/merge",
        json={"into": a["incident_id"]},
        headers=operator,
    )
    assert again.status_code == 409

    detached = await client.post(
        f"/api/v1/incidents/{a['incident_id']}/alerts/{b['id']}/detach", headers=operator
    )
    assert detached.status_code == 200, detached.text
    assert [x["id"] for x in detached.json()["alerts"]] == [b["id"]]
    kept = (await client.get(f"/api/v1/incidents/{a['incident_id']}", headers=operator)).json()
    assert [x["id"] for x in kept["alerts"]] == [a["id"]]
    assert kept["report_count"] == 1
    events = (await client.get(f"/api/v1/alerts/{b['id']}/events", headers=operator)).json()
    trail = [e["action"] for e in events]
    merged, detached_at = trail.index("incident_merged"), trail.index("incident_detached")
    # Merged, its paging stopped for the other's; detached, it is its own event again: paged.
    assert merged < trail.index("escalation_merged") < detached_at
    assert "escalation_restarted" in trail[detached_at:]


async def test_an_action_that_fails_to_commit_is_not_answered_done(
    app: FastAPI, demo: None, operator: dict[str, str]
) -> None:
    # Over a real connection: the in-memory transport would raise the error either way.
    async with live_server(app) as base, httpx.AsyncClient(base_url=base, timeout=20) as client:
        form = sms_form("+243810000101", "Attaque en cours a Mavivi")
        await client.post(SMS, data=form, headers={"X-Twilio-Signature": sign(SMS, form)})
        [alert] = (await client.get("/api/v1/alerts", headers=operator)).json()["items"]
        session_class = app.state.sessionmaker.kw["sync_session_class"]

        def refuse(_: Any) -> None:
            raise RuntimeError("the database went away at commit")

        event.listen(session_class, "before_commit", refuse)
        try:
            response = await _act(client, operator, alert["id"], action="acknowledge")
        finally:
            event.remove(session_class, "before_commit", refuse)
        assert response.status_code == 500
        after = (await client.get(f"/api/v1/alerts/{alert['id']}", headers=operator)).json()
        assert after["status"] == "new"
