"""Operations API: keys and roles, filters, cursors, masking."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.kit.clock import utcnow
from tests.support import make_key, post_twilio, sms_form

SMS = "/webhooks/twilio/sms"


async def _report(client: httpx.AsyncClient, phone: str, body: str) -> None:
    response = await post_twilio(client, SMS, sms_form(phone, body))
    assert response.status_code == 200


@pytest.mark.parametrize("header", [None, "Bearer nope", "Basic abc", "Bearer "])
async def test_api_needs_a_valid_key(client: httpx.AsyncClient, header: str | None) -> None:
    headers = {"Authorization": header} if header is not None else {}
    response = await client.get("/api/v1/alerts", headers=headers)
    assert response.status_code == 401
    assert response.json()["error"] == "Unauthorized"


async def test_demo_scenario_attack_at_mavivi(
    client: httpx.AsyncClient, demo: None, viewer_headers: dict[str, str]
) -> None:
    await _report(client, "+243810000101", "Attaque en cours a Mavivi")
    page = (await client.get("/api/v1/alerts", headers=viewer_headers)).json()
    [alert] = page["items"]
    assert (alert["category"], alert["severity"]) == ("ATTACK", "critical")
    assert alert["place"]["name"] == "Mavivi"
    assert (alert["place"]["admin2"], alert["place"]["admin1"]) == ("Beni", "Nord-Kivu")


async def test_an_alert_at_an_area_carries_its_centroid_and_level(
    client: httpx.AsyncClient, demo: None, viewer_headers: dict[str, str]
) -> None:
    await _report(client, "+243810000101", "Viol d'une femme a Nyiragongo cette nuit")
    page = (await client.get("/api/v1/alerts", headers=viewer_headers)).json()
    [alert] = page["items"]
    assert alert["category"] == "SEXUAL_VIOLENCE"
    place = alert["place"]
    assert (place["id"], place["level"]) == ("territoire-nyiragongo", "territoire")
    assert (place["lat"], place["lon"]) == (-1.5, 29.3)  # the territoire's centroid
    incidents = (await client.get("/api/v1/incidents", headers=viewer_headers)).json()
    assert incidents["items"][0]["place"]["level"] == "territoire"
    await _report(client, "+243810000101", "Attaque en cours a Mavivi")
    page = (await client.get("/api/v1/alerts", headers=viewer_headers)).json()
    assert {a["place"]["level"] for a in page["items"]} == {"territoire", None}


async def test_viewer_sees_phone_numbers_masked_operator_in_full(
    client: httpx.AsyncClient, demo: None, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    await _report(client, "+243810000101", "Attaque a Mavivi")
    viewer = {"Authorization": f"Bearer {await make_key(sessionmaker, 'viewer')}"}
    operator = {"Authorization": f"Bearer {await make_key(sessionmaker, 'operator')}"}
    seen = (await client.get("/api/v1/alerts", headers=viewer)).json()["items"][0]
    full = (await client.get("/api/v1/alerts", headers=operator)).json()["items"][0]
    assert seen["from_phone"] == "+243••••••101"
    assert full["from_phone"] == "+243810000101"
    detail = (await client.get(f"/api/v1/alerts/{seen['id']}", headers=viewer)).json()
    assert detail["from_phone"] == "+243••••••101"
    assert detail["events"][0]["action"] == "created"


async def test_filters(
    client: httpx.AsyncClient, demo: None, viewer_headers: dict[str, str]
) -> None:
    await _report(client, "+243810000101", "Attaque en cours a Mavivi")  # Beni, critical
    await _report(client, "+243810000113", "Kalehe: menaces contre les enseignants")  # medium
    await _report(client, "+243810000116", "Kalemie calme aujourd'hui, rien a signaler")  # low

    async def refs(**params: str) -> list[str]:
        r = await client.get("/api/v1/alerts", headers=viewer_headers, params=params)
        assert r.status_code == 200, r.text
        return [a["category"] for a in r.json()["items"]]

    assert await refs(min_severity="medium") == ["THREAT", "ATTACK"]
    assert await refs(category="ATTACK,THREAT") == ["THREAT", "ATTACK"]
    assert await refs(admin1="Sud-Kivu") == ["THREAT"]
    assert await refs(admin2="beni") == ["ATTACK"]
    assert await refs(place="kalemie") == ["OTHER"]
    assert await refs(status="new") == ["OTHER", "THREAT", "ATTACK"]
    assert await refs(status="resolved") == []


async def test_place_filters_fold_accented_capitals_as_postgresql_does(
    client: httpx.AsyncClient, admin_headers: dict[str, str], viewer_headers: dict[str, str]
) -> None:
    # Imported names in capitals or with accents: every case of a name finds them, on SQLite
    # too (whose own lower() folds ASCII letters only).
    places = [("mbandaka", "ÉQUATEUR", "MBANDAKA"), ("ekoli", "Équateur", "Bélé")]
    for place_id, admin1, admin2 in places:
        body = {"id": place_id, "name": place_id.title(), "lat": 0.05, "lon": 18.26}
        created = await client.post(
            "/api/v1/places",
            headers=admin_headers,
            json=body | {"admin1": admin1, "admin2": admin2},
        )
        assert created.status_code == 201, created.text
        entered = await client.post(
            "/api/v1/alerts",
            headers=admin_headers,
            json={"text": "Attaque en cours", "source": "call", "place": place_id},
        )
        assert entered.status_code == 201, entered.text
    home = {"phone": "+243810000190", "name": "Focal point Bélé", "home_place_id": "ekoli"}
    assert (await client.post("/api/v1/reporters", headers=admin_headers, json=home)).is_success

    async def places_of(**params: str) -> list[str]:
        r = await client.get("/api/v1/alerts", headers=viewer_headers, params=params)
        assert r.status_code == 200, r.text
        return sorted(a["place"]["id"] for a in r.json()["items"])

    for name in ("équateur", "ÉQUATEUR", "Équateur"):
        assert await places_of(admin1=name) == ["ekoli", "mbandaka"], name
    assert await places_of(admin2="BÉLÉ") == await places_of(admin2="bélé") == ["ekoli"]

    until = (utcnow() + timedelta(days=2)).isoformat()
    stats = await client.get(
        "/api/v1/stats",
        headers=viewer_headers,
        params={"admin1": "équateur", "until": until, "silent_days": "1"},
    )
    assert stats.status_code == 200, stats.text
    assert stats.json()["total"] == 2
    assert [r["name"] for r in stats.json()["silent"]["reporters"]] == ["Focal point Bélé"]


@pytest.mark.parametrize(
    ("params", "word"),
    [
        ({"min_severity": "urgent"}, "min_severity"),
        ({"category": "WAR"}, "category"),
        ({"cursor": "not-a-cursor"}, "cursor"),
        ({"since": "yesterday"}, "since"),
        ({"limit": "0"}, "limit"),
    ],
)
async def test_bad_filters_are_clear_errors(
    client: httpx.AsyncClient, viewer_headers: dict[str, str], params: dict[str, str], word: str
) -> None:
    response = await client.get("/api/v1/alerts", headers=viewer_headers, params=params)
    assert response.status_code in (400, 422)
    assert word in response.text


async def test_cursor_pages_stay_correct_while_alerts_keep_arriving(
    client: httpx.AsyncClient, demo: None, viewer_headers: dict[str, str]
) -> None:
    for i in range(7):
        await _report(client, "+243810000101", f"hommes armes a Mavivi groupe {i}")
    seen: list[int] = []
    params: dict[str, str] = {"limit": "3"}
    while True:
        page = (await client.get("/api/v1/alerts", headers=viewer_headers, params=params)).json()
        seen += [a["id"] for a in page["items"]]
        # New alerts arrive between pages: they must not shift or repeat older pages.
        await _report(client, "+243810000102", f"hommes armes a Oicha {len(seen)}")
        if not page["next_cursor"]:
            break
        params["cursor"] = page["next_cursor"]
    assert len(seen) == len(set(seen)) == 7
    assert seen == sorted(seen, reverse=True)


async def test_incidents_and_places(
    client: httpx.AsyncClient, demo: None, viewer_headers: dict[str, str]
) -> None:
    await _report(client, "+243810000101", "Attaque en cours a Mavivi")
    incidents = (await client.get("/api/v1/incidents", headers=viewer_headers)).json()
    assert incidents["items"][0]["report_count"] == 1
    places = (
        await client.get("/api/v1/places", headers=viewer_headers, params={"q": "Erengeti"})
    ).json()
    assert places[0]["id"] == "eringeti"
    missing = await client.get("/api/v1/alerts/999999", headers=viewer_headers)
    assert missing.status_code == 404
    assert missing.json()["error"] == "NotFound"


async def test_health_and_readiness(client: httpx.AsyncClient) -> None:
    assert (await client.get("/healthz")).json() == {"status": "ok"}
    ready = await client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["database"] == "ok"
    metrics = await client.get("/metrics")
    assert "kengele_inbound_messages_total" in metrics.text
