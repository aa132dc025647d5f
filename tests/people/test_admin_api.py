"""Administration of focal points and liaisons through the API: E.164 numbers, errors that
name the field, 409 on a number already taken, deactivation, audit, and the phone reveal."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.support import invalid_fields, make_key, post_twilio, sms_form

Headers = dict[str, str]


@pytest.fixture
async def operator_headers(sessionmaker: async_sessionmaker[AsyncSession]) -> Headers:
    return {"Authorization": f"Bearer {await make_key(sessionmaker, 'operator')}"}


async def reporter_id(client: httpx.AsyncClient, headers: Headers, last4: str) -> int:
    # Numbers are encrypted: a search finds a whole number, written the local way here.
    phone = f"081000{last4}"
    page = (await client.get("/api/v1/reporters", headers=headers, params={"q": phone})).json()
    [found] = page["items"]
    return int(found["id"])


async def audit(client: httpx.AsyncClient, headers: Headers, **params: str) -> list[Any]:
    page = (await client.get("/api/v1/audit", headers=headers, params=params)).json()
    return list(page["items"])


# --- reporters --------------------------------------------------------------------------


async def test_register_a_focal_point_read_find_change_and_deactivate(
    client: httpx.AsyncClient, demo: None, admin_headers: Headers
) -> None:
    body = {"phone": "0810 000 999", "name": " Focal point Beni ", "home_place_id": "beni"}
    created = await client.post("/api/v1/reporters", headers=admin_headers, json=body)
    assert created.status_code == 201, created.text
    reporter = created.json()
    assert (reporter["phone"], reporter["name"]) == ("+243810000999", "Focal point Beni")
    assert (reporter["language"], reporter["role"], reporter["active"]) == (
        "fr",
        "focal_point",
        True,
    )
    url = f"/api/v1/reporters/{reporter['id']}"
    assert (await client.get(url, headers=admin_headers)).json() == reporter

    assert await reporter_id(client, admin_headers, "0999") == reporter["id"]
    at_home = await client.get("/api/v1/reporters", headers=admin_headers, params={"place": "beni"})
    assert [r["id"] for r in at_home.json()["items"]] == [reporter["id"]]

    patched = await client.patch(
        url, headers=admin_headers, json={"language": "sw", "home_place_id": None}
    )
    assert patched.status_code == 200
    assert (patched.json()["language"], patched.json()["home_place_id"]) == ("sw", None)
    assert patched.json()["name"] == "Focal point Beni"

    deleted = await client.delete(url, headers=admin_headers)
    assert (deleted.status_code, deleted.json()["active"]) == (200, False)
    inactive = await client.get(
        "/api/v1/reporters", headers=admin_headers, params={"active": "false"}
    )
    assert [r["id"] for r in inactive.json()["items"]] == [reporter["id"]]

    entries = await audit(client, admin_headers, target_type="reporter")
    assert [(e["action"], e["target_id"]) for e in entries] == [
        ("reporter.deactivate", str(reporter["id"])),
        ("reporter.update", str(reporter["id"])),
        ("reporter.create", str(reporter["id"])),
    ]
    assert entries[1]["detail"] == {"fields": ["home_place_id", "language"]}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"phone": "12345", "name": "X"}, "phone"),
        ({"phone": "+243810000999", "name": "X", "language": "de"}, "language"),
        ({"phone": "+243810000999", "name": "X", "home_place_id": "atlantis"}, "home_place_id"),
        ({"phone": "+243810000999", "name": "  "}, "name"),
        ({"phone": "+243810000999", "name": "Jean\x00"}, "name"),  # PostgreSQL refuses NUL
        ({"phone": "+243810000999", "name": "X", "role": "unregistered"}, "role"),
        ({"phone": "+243810000999", "name": "X", "verified": "maybe"}, "verified"),
        ({"phone": "+243810000999", "name": "X", "village": "Beni"}, "village"),
    ],
)
async def test_bad_reporter_names_the_field(
    client: httpx.AsyncClient, demo: None, admin_headers: Headers, body: dict[str, str], field: str
) -> None:
    response = await client.post("/api/v1/reporters", headers=admin_headers, json=body)
    assert invalid_fields(response) == [field]


async def test_bad_reporter_change_names_the_field(
    client: httpx.AsyncClient, demo: None, admin_headers: Headers
) -> None:
    url = f"/api/v1/reporters/{await reporter_id(client, admin_headers, '0101')}"
    for change in ({"name": None}, {"phone": "0"}, {"home_place_id": "nowhere"}):
        response = await client.patch(url, headers=admin_headers, json=change)
        assert invalid_fields(response) == list(change)


async def test_a_number_already_registered_is_a_conflict(
    client: httpx.AsyncClient, demo: None, admin_headers: Headers
) -> None:
    # The demo's +243810000101 written as people write it.
    body = {"phone": "+243 81 000 0101", "name": "Someone else"}
    response = await client.post("/api/v1/reporters", headers=admin_headers, json=body)
    assert response.status_code == 409
    assert "101" in response.json()["detail"] and "810000101" not in response.json()["detail"]
    url = f"/api/v1/reporters/{await reporter_id(client, admin_headers, '0102')}"
    moved = await client.patch(url, headers=admin_headers, json={"phone": "0810000101"})
    assert moved.status_code == 409


async def test_registering_a_number_that_texted_before_keeps_its_row(
    client: httpx.AsyncClient, demo: None, admin_headers: Headers
) -> None:
    await post_twilio(client, "/webhooks/twilio/sms", sms_form("+243810000998", "Bonjour"))
    seen = await reporter_id(client, admin_headers, "0998")
    body = {"phone": "+243810000998", "name": "New focal point", "home_place_id": "oicha"}
    response = await client.post("/api/v1/reporters", headers=admin_headers, json=body)
    assert response.status_code == 201
    assert (response.json()["id"], response.json()["role"]) == (seen, "focal_point")


async def test_unknown_reporter_is_404(
    client: httpx.AsyncClient, admin_headers: Headers, operator_headers: Headers
) -> None:
    url = "/api/v1/reporters/424242"
    assert (await client.get(url, headers=admin_headers)).status_code == 404
    assert (await client.patch(url, headers=admin_headers, json={"name": "X"})).status_code == 404
    assert (await client.delete(url, headers=admin_headers)).status_code == 404
    assert (await client.post(f"{url}/reveal", headers=operator_headers)).status_code == 404


async def test_list_pages_with_a_cursor(
    client: httpx.AsyncClient, demo: None, admin_headers: Headers
) -> None:
    seen: list[int] = []
    params: dict[str, str | int] = {"limit": 7}
    while True:
        page = (await client.get("/api/v1/reporters", headers=admin_headers, params=params)).json()
        seen += [r["id"] for r in page["items"]]
        if page["next_cursor"] is None:
            break
        params["cursor"] = page["next_cursor"]
    assert len(seen) == len(set(seen)) == 20
    assert seen == sorted(seen)


async def test_reveal_gives_the_number_and_records_who_asked(
    client: httpx.AsyncClient,
    demo: None,
    admin_headers: Headers,
    operator_headers: Headers,
    viewer_headers: Headers,
) -> None:
    rid = await reporter_id(client, admin_headers, "0101")
    url = f"/api/v1/reporters/{rid}/reveal"
    assert (await client.post(url, headers=viewer_headers)).status_code == 403
    response = await client.post(url, headers=operator_headers)
    assert response.json() == {"id": rid, "phone": "+243810000101"}
    operator = (await client.get("/api/v1/me", headers=operator_headers)).json()
    [entry] = await audit(client, admin_headers, action="reveal_phone")
    assert entry["actor"] == f"apikey:{operator['id']}:test-operator"
    assert (entry["target_type"], entry["target_id"]) == ("reporter", str(rid))


# --- liaisons ---------------------------------------------------------------------------


async def test_liaison_lifecycle_and_duty(
    client: httpx.AsyncClient, demo: None, admin_headers: Headers, operator_headers: Headers
) -> None:
    body = {"phone": "0820000299", "name": "CLA Lubero", "zones": ["lubero", "Beni", "beni"]}
    created = await client.post("/api/v1/liaisons", headers=admin_headers, json=body)
    assert created.status_code == 201, created.text
    liaison = created.json()
    assert (liaison["phone"], liaison["zones"]) == ("+243820000299", ["Lubero", "Beni"])
    assert (liaison["tier"], liaison["on_duty"], liaison["active"]) == ("liaison", True, True)
    url = f"/api/v1/liaisons/{liaison['id']}"
    assert (await client.get(url, headers=admin_headers)).json() == liaison

    off = await client.patch(f"{url}/duty", headers=operator_headers, json={"on_duty": False})
    assert (off.status_code, off.json()["on_duty"]) == (200, False)
    listed = await client.get(
        "/api/v1/liaisons", headers=admin_headers, params={"on_duty": "false"}
    )
    assert [x["id"] for x in listed.json()["items"]] == [liaison["id"]]

    changed = await client.patch(
        url, headers=admin_headers, json={"tier": "joc", "zones": ["Nord-Kivu"]}
    )
    assert (changed.json()["tier"], changed.json()["zones"]) == ("joc", ["Nord-Kivu"])
    deleted = await client.delete(url, headers=admin_headers)
    assert (deleted.status_code, deleted.json()["active"]) == (200, False)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"phone": "not a phone", "name": "X"}, "phone"),
        ({"phone": "+243820000299", "name": "X", "zones": ["Benni"]}, "zones"),
        # A liaison of no zone would never be paged.
        ({"phone": "+243820000299", "name": "X", "zones": []}, "zones"),
        ({"phone": "+243820000299", "name": "X"}, "zones"),
        ({"phone": "+243820000299", "name": "X", "tier": "general"}, "tier"),
        ({"phone": "+243820000299", "name": "X", "language": "xx"}, "language"),
        ({"phone": "+243820000299", "name": "X", "on_duty": "sometimes"}, "on_duty"),
    ],
)
async def test_bad_liaison_names_the_field(
    client: httpx.AsyncClient, demo: None, admin_headers: Headers, body: dict[str, Any], field: str
) -> None:
    response = await client.post("/api/v1/liaisons", headers=admin_headers, json=body)
    assert invalid_fields(response) == [field]


async def test_liaison_conflicts_and_unknown_ids(
    client: httpx.AsyncClient, demo: None, admin_headers: Headers, operator_headers: Headers
) -> None:
    body = {"phone": "+243 820 000 201", "name": "CLA Beni again", "zones": ["Beni"]}
    assert (
        await client.post("/api/v1/liaisons", headers=admin_headers, json=body)
    ).status_code == 409
    page = await client.get("/api/v1/liaisons", headers=admin_headers, params={"q": "0820000202"})
    [other] = page.json()["items"]
    url = f"/api/v1/liaisons/{other['id']}"
    taken = await client.patch(url, headers=admin_headers, json={"phone": "+243820000201"})
    assert taken.status_code == 409
    unknown = "/api/v1/liaisons/424242"
    assert (await client.get(unknown, headers=admin_headers)).status_code == 404
    assert (
        await client.patch(unknown, headers=admin_headers, json={"name": "X"})
    ).status_code == 404
    assert (await client.delete(unknown, headers=admin_headers)).status_code == 404
    duty = await client.patch(f"{unknown}/duty", headers=operator_headers, json={"on_duty": True})
    assert duty.status_code == 404


async def test_people_administration_needs_the_admin_role(
    client: httpx.AsyncClient, demo: None, operator_headers: Headers, viewer_headers: Headers
) -> None:
    for headers in (operator_headers, viewer_headers):
        for path in ("/api/v1/reporters", "/api/v1/liaisons"):
            assert (await client.get(path, headers=headers)).status_code == 403
            assert (await client.post(path, headers=headers, json={})).status_code == 403
    duty = await client.patch(
        "/api/v1/liaisons/1/duty", headers=viewer_headers, json={"on_duty": True}
    )
    assert duty.status_code == 403


async def test_a_joc_officer_needs_no_zone_a_liaison_keeps_one(
    client: httpx.AsyncClient, demo: None, admin_headers: Headers
) -> None:
    joc = await client.post(
        "/api/v1/liaisons",
        headers=admin_headers,
        json={"phone": "+243820000298", "name": "JOC Goma", "tier": "joc"},
    )
    assert joc.status_code == 201, joc.text
    cla = await client.post(
        "/api/v1/liaisons",
        headers=admin_headers,
        json={"phone": "+243820000297", "name": "CLA Beni 2", "zones": ["Beni"]},
    )
    emptied = await client.patch(
        f"/api/v1/liaisons/{cla.json()['id']}", headers=admin_headers, json={"zones": []}
    )
    assert invalid_fields(emptied) == ["zones"]
