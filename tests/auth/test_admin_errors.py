"""Administration of escalation policies and webhook subscriptions: 422 naming the field,
409 on duplicates, 404 on unknown ids, and every error documented in the OpenAPI schema."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.support import invalid_fields

Headers = dict[str, str]
POLICY = {"name": "night-watch", "steps": [{"after_seconds": 0, "notify": "zone_joc"}]}
# A literal public address: checked without a DNS look-up; no event is ever sent to it here.
HOOK = {"url": "https://8.8.8.8/kengele", "event_types": ["alert.created"]}


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"name": ""}, "name"),
        ({"priority": -1}, "priority"),
        ({"steps": []}, "steps"),
        ({"match": {"min_severity": "apocalyptic"}}, "min_severity"),
        ({"colour": "red"}, "colour"),
    ],
)
async def test_bad_policy_names_the_field(
    client: httpx.AsyncClient, admin_headers: Headers, change: dict[str, Any], field: str
) -> None:
    response = await client.post(
        "/api/v1/policies", headers=admin_headers, json={**POLICY, **change}
    )
    assert invalid_fields(response) == [field]


async def test_policy_conflicts_and_unknown_ids(
    client: httpx.AsyncClient, admin_headers: Headers
) -> None:
    created = await client.post("/api/v1/policies", headers=admin_headers, json=POLICY)
    assert created.status_code == 201
    policy_id = created.json()["id"]
    again = await client.post("/api/v1/policies", headers=admin_headers, json=POLICY)
    assert again.status_code == 409
    other = await client.put(
        f"/api/v1/policies/{policy_id}", headers=admin_headers, json={**POLICY, "id": policy_id + 1}
    )
    assert invalid_fields(other) == ["id"]
    unknown = "/api/v1/policies/424242"
    assert (await client.get(unknown, headers=admin_headers)).status_code == 404
    assert (await client.put(unknown, headers=admin_headers, json=POLICY)).status_code == 404
    assert (await client.delete(unknown, headers=admin_headers)).status_code == 404


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"url": "ftp://8.8.8.8/x"}, "url"),
        ({"url": "short"}, "url"),
        ({"event_types": ["alert.exploded"]}, "event_types"),
        ({"event_types": []}, "event_types"),
    ],
)
async def test_bad_subscription_names_the_field(
    client: httpx.AsyncClient, admin_headers: Headers, change: dict[str, Any], field: str
) -> None:
    response = await client.post("/api/v1/webhooks", headers=admin_headers, json={**HOOK, **change})
    assert invalid_fields(response) == [field]


async def test_subscription_conflicts_and_unknown_ids(
    client: httpx.AsyncClient, admin_headers: Headers
) -> None:
    created = await client.post("/api/v1/webhooks", headers=admin_headers, json=HOOK)
    assert created.status_code == 201
    again = await client.post("/api/v1/webhooks", headers=admin_headers, json=HOOK)
    assert again.status_code == 409
    url = f"/api/v1/webhooks/{created.json()['id']}"
    bad = await client.patch(url, headers=admin_headers, params={"active": "maybe"})
    assert invalid_fields(bad) == ["active"]
    unknown = "/api/v1/webhooks/424242"
    off = await client.patch(unknown, headers=admin_headers, params={"active": "false"})
    assert off.status_code == 404
    assert (await client.delete(unknown, headers=admin_headers)).status_code == 404


async def test_administration_routes_document_their_errors(client: httpx.AsyncClient) -> None:
    schema = (await client.get("/openapi.json")).json()
    expected = {
        ("/api/v1/apikeys", "post"): {"401", "403", "422", "429"},
        ("/api/v1/apikeys/{key_id}", "delete"): {"404", "409"},
        ("/api/v1/reporters", "post"): {"409", "422"},
        ("/api/v1/reporters/{reporter_id}", "patch"): {"404", "409", "422"},
        ("/api/v1/reporters/{reporter_id}/reveal", "post"): {"404"},
        ("/api/v1/liaisons/{liaison_id}/duty", "patch"): {"404", "422"},
        ("/api/v1/places", "post"): {"409", "422"},
        ("/api/v1/places/{place_id}", "delete"): {"404", "409"},
        ("/api/v1/policies", "post"): {"409", "422"},
        ("/api/v1/policies/{policy_id}", "put"): {"404", "409", "422"},
        ("/api/v1/webhooks", "post"): {"409", "422"},
        ("/api/v1/webhooks/{subscription_id}", "delete"): {"404"},
    }
    for (path, method), codes in expected.items():
        documented = set(schema["paths"][path][method]["responses"])
        assert codes <= documented, (path, method, documented)
