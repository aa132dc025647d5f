"""One error shape: every 4xx is ErrorBody, as documented, with what HTTP requires of it."""

from __future__ import annotations

import json

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.alerts.models import Alert
from app.api import alerts as alert_routes
from tests.support import post_twilio, sms_form

Headers = dict[str, str]


def _problems(response: httpx.Response) -> list[dict[str, object]]:
    body = response.json()
    assert body["error"] == "ValidationError", body
    problems: list[dict[str, object]] = body["detail"]
    return problems


async def test_every_422_names_the_field_and_the_type_of_the_problem(
    client: httpx.AsyncClient, admin_headers: Headers
) -> None:
    response = await client.get("/api/v1/alerts/abc", headers=admin_headers)

    assert response.status_code == 422
    [problem] = _problems(response)
    assert problem["loc"] == ["path", "alert_id"] and problem["type"] == "int_parsing"
    assert problem["msg"]


def test_the_schema_documents_one_error_body(app: FastAPI) -> None:
    schema = app.openapi()
    assert "HTTPValidationError" not in schema["components"]["schemas"]
    error = {"$ref": "#/components/schemas/ErrorBody"}
    operations = [op for item in schema["paths"].values() for op in item.values()]
    documented_422 = [op["responses"]["422"] for op in operations if "422" in op["responses"]]
    assert len(documented_422) > 30
    for entry in documented_422:
        assert entry["content"]["application/json"]["schema"] == error
    # A JSON body the server cannot read is a 400, documented wherever a JSON body is taken.
    with_body = [op for op in operations if "requestBody" in op]
    assert with_body and all("400" in op["responses"] for op in with_body)


@pytest.mark.parametrize(
    ("content", "status", "kind"),
    [
        (b'{"name": "x", "role": ', 422, "json_invalid"),
        (b"[1, 2", 422, "json_invalid"),
        (b'{"name": "\xff\xfe\xfa"}', 400, None),  # not UTF-8
    ],
)
async def test_a_body_that_is_not_json_gets_a_json_error(
    client: httpx.AsyncClient,
    admin_headers: Headers,
    content: bytes,
    status: int,
    kind: str | None,
) -> None:
    headers = {**admin_headers, "content-type": "application/json"}
    response = await client.post("/api/v1/apikeys", content=content, headers=headers)

    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    if kind is None:
        assert set(response.json()) == {"error", "detail"}
    else:
        assert [p["type"] for p in _problems(response)] == [kind]


async def test_a_405_says_which_methods_are_allowed(
    client: httpx.AsyncClient, admin_headers: Headers
) -> None:
    response = await client.delete("/api/v1/alerts", headers=admin_headers)

    assert response.status_code == 405
    assert response.headers["allow"] == "GET"
    assert json.loads(response.text)["error"] == "HTTPError"


@pytest.mark.parametrize(
    ("path", "field"),
    [
        ("/api/v1/alerts?until=0.5", "until"),
        ("/api/v1/alerts?since=1733000000", "since"),
        ("/api/v1/alerts.csv?until=0.5", "until"),
        ("/api/v1/alerts?since=0001-01-01T00:00:00%2B02:00", "since"),
        ("/api/v1/stats?until=0.5", "until"),
        ("/api/v1/stats?since=0001-01-01T00:00:00%2B02:00", "since"),
    ],
)
async def test_a_time_is_iso_8601_or_a_422_naming_the_field(
    client: httpx.AsyncClient, admin_headers: Headers, path: str, field: str
) -> None:
    response = await client.get(path, headers=admin_headers)

    assert response.status_code == 422, response.text
    assert [p["loc"] for p in _problems(response)] == [["query", field]]


async def test_iso_times_still_filter(client: httpx.AsyncClient, admin_headers: Headers) -> None:
    for query in ("since=2026-01-01", "until=2026-12-01T08:00:00Z", "since=2026-01-01T10:00"):
        response = await client.get(f"/api/v1/alerts?{query}", headers=admin_headers)
        assert response.status_code == 200, (query, response.text)


class _Deadlock(Exception):
    """What the driver raises for a deadlock: SQLSTATE 40P01."""

    sqlstate = "40P01"


async def test_an_action_the_database_aborted_for_a_conflict_is_a_503_that_kept_nothing(
    client: httpx.AsyncClient,
    admin_headers: Headers,
    demo: None,
    sessionmaker: async_sessionmaker[AsyncSession],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """An OK given at the moment a merge locks the same rows in the other order: PostgreSQL
    aborts one of them. The duty officer is told to send it again (not a 500, nor 'database
    unavailable'), and nothing of the aborted action was kept."""
    response = await post_twilio(
        client, "/webhooks/twilio/sms", sms_form("+243810000101", "Attaque a Mavivi")
    )
    assert response.status_code == 200
    async with sessionmaker() as s:
        alert = await s.scalar(select(Alert))
    assert alert is not None and alert.status == "new"

    async def aborted(*_: object, **__: object) -> None:
        raise DBAPIError("UPDATE alerts ...", {}, _Deadlock("deadlock detected"))

    monkeypatch.setattr(alert_routes.reads, "alert_detail", aborted)  # after the change
    response = await client.post(
        f"/api/v1/alerts/{alert.id}/actions",
        json={"action": "acknowledge"},
        headers=admin_headers,
    )

    assert response.status_code == 503
    assert response.headers["Retry-After"] == "1"
    body = response.json()
    assert body["error"] == "Conflict" and "send it again" in body["detail"]
    assert "UPDATE" not in response.text
    async with sessionmaker() as s:
        assert await s.scalar(select(Alert.status).where(Alert.id == alert.id)) == "new"
