"""Every route of the API for no key, partner, viewer, operator and admin: 401, 403 or let
through. A partner reads the shared exports (?shared=1) and nothing else."""

from __future__ import annotations

import httpx
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.auth.models import ROLES
from tests.harness.server import live_server
from tests.support import make_key

PARTNER, VIEWER, OPERATOR, ADMIN = ROLES
# The role each route needs. A route missing here fails the test: decide its role first.
NEEDS: dict[tuple[str, str], str] = {
    **{
        ("GET", path): VIEWER
        for path in (
            "/api/v1/alerts",
            "/api/v1/alerts.geojson",
            "/api/v1/alerts.csv",
            "/api/v1/alerts/{alert_id}",
            "/api/v1/alerts/{alert_id}.cap",
            "/api/v1/alerts/{alert_id}/events",
            "/api/v1/feed.atom",
            "/api/v1/incidents",
            "/api/v1/incidents/{incident_id}",
            "/api/v1/stream",
            "/api/v1/stats",
            "/api/v1/reports/daily",
            "/api/v1/places",
            "/api/v1/places.geojson",
            "/api/v1/places/{place_id}",
            "/api/v1/me",
            "/api/v1/meta",
            "/api/v1/deliveries",
            "/api/v1/deliveries/{delivery_id}",
            "/api/v1/channels/health",
            "/api/v1/channels/unreachable",
        )
    },
    ("POST", "/api/v1/alerts"): OPERATOR,
    ("POST", "/api/v1/alerts/{alert_id}/actions"): OPERATOR,
    ("POST", "/api/v1/incidents/{incident_id}/merge"): OPERATOR,
    ("POST", "/api/v1/incidents/{incident_id}/alerts/{alert_id}/detach"): OPERATOR,
    ("POST", "/api/v1/reporters/{id}/reveal"): OPERATOR,
    ("POST", "/api/v1/reporters/{id}/erase"): ADMIN,
    ("POST", "/api/v1/deliveries/{delivery_id}/retry"): OPERATOR,
    ("POST", "/api/v1/places"): ADMIN,
    ("PUT", "/api/v1/places/{place_id}"): ADMIN,
    ("PATCH", "/api/v1/places/{place_id}"): ADMIN,
    ("DELETE", "/api/v1/places/{place_id}"): ADMIN,
    **{
        (method, path): ADMIN
        for kind in ("reporters", "liaisons", "apikeys", "webhooks", "policies", "channels")
        for method, path in (
            ("GET", f"/api/v1/{kind}"),
            ("POST", f"/api/v1/{kind}"),
            ("GET", f"/api/v1/{kind}/{{id}}"),
            ("PUT", f"/api/v1/{kind}/{{id}}"),
            ("PATCH", f"/api/v1/{kind}/{{id}}"),
            ("DELETE", f"/api/v1/{kind}/{{id}}"),
        )
    },
    # The duty roster is the operations room's to keep.
    ("PATCH", "/api/v1/liaisons/{id}/duty"): OPERATOR,
    ("GET", "/api/v1/audit"): ADMIN,
}
# The forms of routes that need less than the route itself: the partner's exports.
SHARED: dict[tuple[str, str], str] = {
    ("GET", "/api/v1/alerts.csv?shared=1"): PARTNER,
    ("GET", "/api/v1/alerts.geojson?shared=1"): PARTNER,
}
# Ids that exist in no table: the role is checked before the id is looked up.
IDS = {
    "alert_id": 999_999,
    "incident_id": 999_999,
    "reporter_id": 999_999,
    "liaison_id": 999_999,
    "place_id": "nowhere",
    "key_id": 999_999,
    "delivery_id": 999_999,
    "policy_id": 999_999,
    "subscription_id": 999_999,
    "channel_id": 999_999,
}


def _generic(path: str) -> str:
    """The path with the id of the collection written {id}, as in NEEDS."""
    for name in (
        "reporter_id",
        "liaison_id",
        "key_id",
        "subscription_id",
        "policy_id",
        "channel_id",
    ):
        path = path.replace("{" + name + "}", "{id}")
    return path


async def _status(client: httpx.AsyncClient, method: str, url: str, key: str | None) -> int:
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    body = {} if method in ("POST", "PUT", "PATCH") else None
    # A stream answers its status at once and then never ends: read the status only.
    async with client.stream(method, url, headers=headers, json=body) as response:
        return response.status_code


async def test_every_route_for_every_role(
    app: FastAPI, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    app.state.settings = app.state.settings.model_copy(update={"api_rate_per_minute": 100_000})
    keys = {role: await make_key(sessionmaker, role) for role in ROLES}
    routes = [
        (method.upper(), path)
        for path, methods in app.openapi()["paths"].items()
        if path.startswith("/api/")
        for method in methods
    ]
    assert len(routes) > 40
    missing = [r for r in routes if (r[0], _generic(r[1])) not in NEEDS]
    assert not missing, f"routes with no expected role: {missing}"
    async with live_server(app) as base, httpx.AsyncClient(base_url=base, timeout=20) as client:
        checks = [(m, p, NEEDS[(m, _generic(p))]) for m, p in routes]
        checks += [(m, p, needs) for (m, p), needs in SHARED.items()]
        for method, path, needs in checks:
            url = path.format(**IDS)
            assert await _status(client, method, url, None) == 401, (method, path, "no key")
            for role in ROLES:
                status = await _status(client, method, url, keys[role])
                if ROLES.index(role) < ROLES.index(needs):
                    assert status == 403, (method, path, role, status)
                else:
                    assert status not in (401, 403, 429), (method, path, role, status)
                    assert status < 500, (method, path, role, status)
