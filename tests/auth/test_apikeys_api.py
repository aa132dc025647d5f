"""API keys through the API: created once, listed without secrets, revoked for good, audited."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.support import make_key


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


async def create(
    client: httpx.AsyncClient, headers: dict[str, str], name: str, role: str
) -> dict[str, object]:
    response = await client.post(
        "/api/v1/apikeys", headers=headers, json={"name": name, "role": role}
    )
    assert response.status_code == 201, response.text
    body: dict[str, object] = response.json()
    return body


async def test_created_key_is_shown_once_works_and_is_listed_without_secret(
    client: httpx.AsyncClient, admin_headers: dict[str, str]
) -> None:
    made = await create(client, admin_headers, "  JOC Goma  ", "operator")
    key = str(made["key"])
    assert key.startswith(made["prefix"])  # type: ignore[arg-type]
    assert made["name"] == "JOC Goma"
    assert made["revoked_at"] is None

    me = await client.get("/api/v1/me", headers=bearer(key))
    assert me.json() == {"id": made["id"], "name": "JOC Goma", "role": "operator"}

    listed = (await client.get("/api/v1/apikeys", headers=admin_headers)).json()
    mine = next(k for k in listed if k["id"] == made["id"])
    assert set(mine) == {
        "id", "name", "role", "prefix", "created_at", "last_used_at", "revoked_at"
    }  # fmt: skip
    assert key not in str(listed)
    assert mine["last_used_at"] is not None  # the /me call above used it


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "x", "role": "superuser"}, "role"),
        ({"name": "   ", "role": "viewer"}, "name"),
        ({"role": "viewer"}, "name"),
        ({"name": "x" * 101, "role": "viewer"}, "name"),
    ],
)
async def test_bad_key_requests_name_the_field(
    client: httpx.AsyncClient, admin_headers: dict[str, str], body: dict[str, str], field: str
) -> None:
    response = await client.post("/api/v1/apikeys", headers=admin_headers, json=body)
    assert response.status_code == 422
    assert [p["loc"][-1] for p in response.json()["detail"]] == [field]


async def test_revoked_key_gets_401_and_revoking_again_changes_nothing(
    client: httpx.AsyncClient, admin_headers: dict[str, str]
) -> None:
    made = await create(client, admin_headers, "field office", "viewer")
    assert (await client.get("/api/v1/me", headers=bearer(str(made["key"])))).status_code == 200

    first = await client.delete(f"/api/v1/apikeys/{made['id']}", headers=admin_headers)
    assert first.status_code == 200
    assert first.json()["revoked_at"] is not None
    response = await client.get("/api/v1/alerts", headers=bearer(str(made["key"])))
    assert response.status_code == 401

    again = await client.delete(f"/api/v1/apikeys/{made['id']}", headers=admin_headers)
    assert again.status_code == 200
    assert again.json()["revoked_at"] == first.json()["revoked_at"]


async def test_revoking_unknown_or_own_key(
    client: httpx.AsyncClient, admin_headers: dict[str, str]
) -> None:
    assert (await client.delete("/api/v1/apikeys/9999", headers=admin_headers)).status_code == 404
    me = (await client.get("/api/v1/me", headers=admin_headers)).json()
    own = await client.delete(f"/api/v1/apikeys/{me['id']}", headers=admin_headers)
    assert own.status_code == 409
    assert (await client.get("/api/v1/me", headers=admin_headers)).status_code == 200


async def test_key_administration_is_audited(
    client: httpx.AsyncClient, admin_headers: dict[str, str]
) -> None:
    me = (await client.get("/api/v1/me", headers=admin_headers)).json()
    made = await create(client, admin_headers, "partner", "viewer")
    await client.delete(f"/api/v1/apikeys/{made['id']}", headers=admin_headers)
    page = (await client.get("/api/v1/audit", headers=admin_headers)).json()
    assert [(e["action"], e["target_id"], e["actor"]) for e in page["items"]] == [
        ("apikey.revoke", str(made["id"]), f"apikey:{me['id']}:test-admin"),
        ("apikey.create", str(made["id"]), f"apikey:{me['id']}:test-admin"),
    ]


@pytest.mark.parametrize("role", ["viewer", "operator"])
async def test_only_admins_manage_keys_but_everyone_knows_itself(
    client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession], role: str
) -> None:
    headers = bearer(await make_key(sessionmaker, role))
    assert (await client.get("/api/v1/apikeys", headers=headers)).status_code == 403
    body = {"name": "x", "role": "admin"}
    assert (await client.post("/api/v1/apikeys", headers=headers, json=body)).status_code == 403
    assert (await client.delete("/api/v1/apikeys/1", headers=headers)).status_code == 403
    assert (await client.get("/api/v1/audit", headers=headers)).status_code == 403
    assert (await client.get("/api/v1/me", headers=headers)).json()["role"] == role
    assert (await client.get("/api/v1/me")).status_code == 401
