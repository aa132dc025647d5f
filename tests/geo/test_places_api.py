"""Places API: search, the gazetteer map as GeoJSON, and administration whose changes reach
search at once (the in-memory gazetteer is invalidated on commit)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.support import invalid_fields

Headers = dict[str, str]
NEW = {
    "id": "kasanga",
    "name": "Kasanga",
    "alt_names": ["Kasanga", " Kasangha ", ""],
    "lat": 0.61,
    "lon": 29.52,
    "admin1": "Nord-Kivu",
    "admin2": "Beni",
}


async def search(client: httpx.AsyncClient, headers: Headers, q: str) -> list[str]:
    response = await client.get("/api/v1/places", headers=headers, params={"q": q})
    assert response.status_code == 200
    return [p["id"] for p in response.json()]


async def test_search_and_read_one(
    client: httpx.AsyncClient, demo: None, viewer_headers: Headers
) -> None:
    assert (await search(client, viewer_headers, "Erengeti"))[0] == "eringeti"
    response = await client.get("/api/v1/places/beni", headers=viewer_headers)
    assert response.json() == {
        "id": "beni",
        "name": "Beni",
        "alt_names": ["Beni-ville"],
        "lat": 0.4966,
        "lon": 29.4654,
        "admin1": "Nord-Kivu",
        "admin2": "Beni",
    }
    missing = await client.get("/api/v1/places/atlantis", headers=viewer_headers)
    assert missing.status_code == 404
    nul = await client.get("/api/v1/places/beni%00", headers=viewer_headers)
    assert invalid_fields(nul) == ["place_id"]


async def test_geojson_has_every_place_at_longitude_latitude(
    client: httpx.AsyncClient, demo: None, viewer_headers: Headers
) -> None:
    response = await client.get("/api/v1/places.geojson", headers=viewer_headers)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/geo+json")
    collection = response.json()
    assert collection["type"] == "FeatureCollection"
    assert len(collection["features"]) == 150
    beni = next(f for f in collection["features"] if f["id"] == "beni")
    assert beni["geometry"] == {"type": "Point", "coordinates": [29.4654, 0.4966]}
    assert beni["properties"] == {
        "id": "beni",
        "name": "Beni",
        "admin1": "Nord-Kivu",
        "admin2": "Beni",
    }
    assert (await client.get("/api/v1/places.geojson")).status_code == 401


async def test_created_place_is_found_at_once(
    client: httpx.AsyncClient, demo: None, admin_headers: Headers, viewer_headers: Headers
) -> None:
    assert "kasanga" not in await search(client, viewer_headers, "Kasanga")  # cache built
    created = await client.post("/api/v1/places", headers=admin_headers, json=NEW)
    assert created.status_code == 201, created.text
    assert created.json()["alt_names"] == ["Kasangha"]
    assert (await search(client, viewer_headers, "Kasanga"))[0] == "kasanga"
    geo = (await client.get("/api/v1/places.geojson", headers=viewer_headers)).json()
    assert "kasanga" in {f["id"] for f in geo["features"]}

    again = await client.post("/api/v1/places", headers=admin_headers, json=NEW)
    assert again.status_code == 409


async def test_changed_and_deleted_places_reach_search_at_once(
    client: httpx.AsyncClient, demo: None, admin_headers: Headers, viewer_headers: Headers
) -> None:
    assert await search(client, viewer_headers, "Kabasha") == []
    patched = await client.patch(
        "/api/v1/places/bunia", headers=admin_headers, json={"alt_names": ["Kabasha"]}
    )
    assert patched.status_code == 200
    assert (patched.json()["name"], patched.json()["lat"]) == ("Bunia", 1.5667)
    assert await search(client, viewer_headers, "Kabasha") == ["bunia"]

    body = {"name": "Goma-ville", "lat": -1.68, "lon": 29.22, "admin1": "Nord-Kivu", "admin2": ""}
    replaced = await client.put("/api/v1/places/goma", headers=admin_headers, json=body)
    assert replaced.status_code == 200
    assert replaced.json() == {"id": "goma", "alt_names": [], **body, "admin2": None}
    assert (await search(client, viewer_headers, "Goma-ville"))[0] == "goma"

    deleted = await client.delete("/api/v1/places/goma", headers=admin_headers)
    assert deleted.status_code == 204
    assert (await client.get("/api/v1/places/goma", headers=admin_headers)).status_code == 404
    assert "goma" not in await search(client, viewer_headers, "Goma-ville")

    entries = (await client.get("/api/v1/audit", headers=admin_headers)).json()["items"]
    assert [(e["action"], e["target_id"]) for e in entries] == [
        ("place.delete", "goma"),
        ("place.update", "goma"),
        ("place.update", "bunia"),
    ]
    assert entries[2]["detail"] == {"fields": ["alt_names"]}


async def test_a_focal_points_home_cannot_be_deleted(
    client: httpx.AsyncClient, demo: None, admin_headers: Headers
) -> None:
    response = await client.delete("/api/v1/places/mavivi", headers=admin_headers)
    assert response.status_code == 409
    assert "home_place_id" in response.json()["detail"]
    assert (await client.get("/api/v1/places/mavivi", headers=admin_headers)).status_code == 200


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"lat": 95}, "lat"),
        ({"lon": -180.5}, "lon"),
        ({"lat": 0, "lon": 0}, "lon"),
        ({"name": " "}, "name"),
        ({"admin2": "Beni\x00"}, "admin2"),  # PostgreSQL refuses NUL in text
        ({"id": "a b"}, "id"),
        ({"id": "x" * 65}, "id"),
        ({"kind": "village"}, "kind"),
    ],
)
async def test_bad_place_names_the_field(
    client: httpx.AsyncClient, admin_headers: Headers, change: dict[str, Any], field: str
) -> None:
    response = await client.post("/api/v1/places", headers=admin_headers, json={**NEW, **change})
    assert invalid_fields(response) == [field]


async def test_bad_place_change_names_the_field(
    client: httpx.AsyncClient, demo: None, admin_headers: Headers
) -> None:
    url = "/api/v1/places/beni"
    for change in ({"name": None}, {"lat": 91}):
        response = await client.patch(url, headers=admin_headers, json=change)
        assert invalid_fields(response) == list(change)
    # Only both together would be 0,0: the stored longitude counts.
    assert (await client.patch(url, headers=admin_headers, json={"lat": 0})).status_code == 200
    response = await client.patch(url, headers=admin_headers, json={"lon": 0})
    assert invalid_fields(response) == ["lon"]
    body = {"name": "Beni", "lat": 0.49}
    assert invalid_fields(await client.put(url, headers=admin_headers, json=body)) == ["lon"]


async def test_unknown_place_is_404(client: httpx.AsyncClient, admin_headers: Headers) -> None:
    url = "/api/v1/places/atlantis"
    assert (await client.patch(url, headers=admin_headers, json={"lat": 1})).status_code == 404
    put = await client.put(url, headers=admin_headers, json={"name": "A", "lat": 1, "lon": 2})
    assert put.status_code == 404
    assert (await client.delete(url, headers=admin_headers)).status_code == 404


async def test_viewers_read_places_but_only_admins_write(
    client: httpx.AsyncClient, demo: None, viewer_headers: Headers
) -> None:
    assert (await client.get("/api/v1/places/beni", headers=viewer_headers)).status_code == 200
    writes = [
        client.post("/api/v1/places", headers=viewer_headers, json=NEW),
        client.patch("/api/v1/places/beni", headers=viewer_headers, json={"lat": 1}),
        client.put("/api/v1/places/beni", headers=viewer_headers, json=NEW),
        client.delete("/api/v1/places/beni", headers=viewer_headers),
    ]
    for write in writes:
        assert (await write).status_code == 403
