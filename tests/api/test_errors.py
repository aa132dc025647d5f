"""One error shape: every 4xx is ErrorBody, as documented, with what HTTP requires of it."""

from __future__ import annotations

import json

import httpx
import pytest
from fastapi import FastAPI

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
