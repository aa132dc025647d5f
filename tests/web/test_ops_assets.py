"""The operations page is light and self-contained: every asset comes from the gateway."""

from __future__ import annotations

import re
from urllib.parse import urljoin, urlsplit

import httpx
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncEngine

from app.kit.config import Settings
from tests.harness.gateway import running
from tests.support import PUBLIC_URL

LIMIT = 500_000
# XML namespace names are identifiers, never fetched.
NAMESPACES = {"http://www.w3.org/2000/svg"}
REFERENCES = [
    re.compile(r"""\b(?:src|href|action|poster|data)\s*=\s*["']([^"']+)["']""", re.I),
    re.compile(r"""(?<![\w.])url\(\s*["']?([^"')]+)["']?\s*\)""", re.I),
    re.compile(r"""@import\s+["']([^"']+)["']""", re.I),
    re.compile(r"""\bfetch\(\s*["'`]([^"'`]+)["'`]"""),
    re.compile(r"""\bimport\s*\(?\s*["']([^"']+)["']"""),
]
ABSOLUTE = re.compile(r"""(?:https?:)?//[A-Za-z0-9.-]+\.[A-Za-z]{2,}[^\s"'`)<>]*""")


def references(text: str) -> set[str]:
    """Every URL an asset asks the browser to load."""
    return {m.group(1).strip() for pattern in REFERENCES for m in pattern.finditer(text)}


def outside_links(text: str) -> set[str]:
    """Absolute or protocol-relative URLs to another host, wherever they appear in the text."""
    found = {m.group(0) for m in ABSOLUTE.finditer(text)}
    return {u for u in found if u not in NAMESPACES and not u.startswith(PUBLIC_URL + "/")}


async def test_page_and_every_asset_stay_under_500_kb_and_inside_the_gateway(
    client: httpx.AsyncClient,
) -> None:
    seen: dict[str, int] = {}
    todo = [PUBLIC_URL + "/ops/"]
    outside: dict[str, set[str]] = {}
    while todo:
        url = todo.pop()
        path = urlsplit(url).path
        if path in seen:
            continue
        response = await client.get(url, headers={"Accept-Encoding": "identity"})
        assert response.status_code == 200, (url, response.status_code)
        seen[path] = len(response.content)
        if not response.headers["content-type"].startswith(("text/", "image/svg", "application/j")):
            continue
        text = response.text
        outside[path] = outside_links(text)
        for ref in references(text):
            if ref.startswith(("data:", "#", "mailto:")):
                continue
            target = urljoin(url, ref)
            parts = urlsplit(target)
            if f"{parts.scheme}://{parts.netloc}" != PUBLIC_URL:
                outside[path].add(ref)
            elif not parts.path.startswith("/api/"):  # the API's data is not part of the page
                todo.append(target)

    assert {p: o for p, o in outside.items() if o} == {}
    # The page, its script, style sheet, icon, configuration, landmarks and the daily report
    # page were all found and fetched.
    assert {
        "/ops/",
        "/ops/app.js",
        "/ops/app.css",
        "/ops/favicon.svg",
        "/ops/config.json",
        "/ops/landmarks.json",
        "/ops/report",
        "/ops/report.js",
        "/ops/report.css",
    } <= set(seen)
    total = sum(seen.values())
    assert total < LIMIT, f"{total} bytes: {seen}"


async def test_browser_is_told_to_load_nothing_from_elsewhere(client: httpx.AsyncClient) -> None:
    page = await client.get("/ops/")
    policy = page.headers["content-security-policy"]
    directives = dict(d.strip().split(" ", 1) for d in policy.split(";"))
    assert directives["default-src"] == "'none'"
    assert directives["connect-src"] == "'self'"
    assert directives["script-src"] == "'self'"
    assert directives["img-src"] == "'self' data:"
    config = (await client.get("/ops/config.json")).json()
    assert config["tile_url"] == ""


async def test_a_tile_layer_is_the_only_outside_source_allowed(
    settings: Settings, engine: AsyncEngine
) -> None:
    from app.main import create_app

    tiles = "https://{s}.tiles.example.org/{z}/{x}/{y}.png"
    app: FastAPI = create_app(settings.model_copy(update={"ops_tile_url": tiles}))
    async with running(app) as client:
        policy = (await client.get("/ops/")).headers["content-security-policy"]
        config = (await client.get("/ops/config.json")).json()
    assert "img-src 'self' data: https://*.tiles.example.org;" in policy
    assert "connect-src 'self';" in policy
    assert config["tile_url"] == tiles


async def test_assets_are_gzipped_and_revalidated_cheaply(client: httpx.AsyncClient) -> None:
    page = (await client.get("/ops/")).text
    [script] = re.findall(r'src="(app\.js\?v=[0-9a-f]+)"', page)
    first = await client.get(f"/ops/{script}", headers={"Accept-Encoding": "gzip"})
    assert first.headers["content-encoding"] == "gzip"
    assert first.num_bytes_downloaded < len(first.content) / 2
    assert "immutable" in first.headers["cache-control"]
    again = await client.get(f"/ops/{script}", headers={"If-None-Match": first.headers["etag"]})
    assert again.status_code == 304
    assert (await client.get("/ops/nothing.js")).status_code == 404
    redirect = await client.get("/ops")
    assert (redirect.status_code, redirect.headers["location"]) == (308, "/ops/")


async def test_the_sign_in_form_can_never_put_the_key_in_a_url(client: httpx.AsyncClient) -> None:
    page = (await client.get("/ops/")).text
    form = re.search(r"<form[^>]*id=\"signin-form\"[^>]*>", page)
    assert form is not None and 'method="post"' in form.group()
    key_input = re.search(r"<input[^>]*id=\"key\"[^>]*>", page)
    assert key_input is not None and "name=" not in key_input.group()


async def test_landmarks_ship_with_the_gateway_and_say_where_they_come_from(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get("/ops/landmarks.json", headers={"Accept-Encoding": "gzip"})
    assert response.status_code == 200
    assert response.headers["content-encoding"] == "gzip"
    data = response.json()
    assert "LGPL" in data["source"] and "public domain" in data["source"]
    named = {lake["name"] for lake in data["lakes"]}
    assert {"Lac Kivu", "Lac Édouard", "Lac Albert", "Lac Tanganyika"} <= named
    kivu = next(lake for lake in data["lakes"] if lake["name"] == "Lac Kivu")
    lons = [p[0] for p in kivu["ring"]]
    lats = [p[1] for p in kivu["ring"]]
    assert len(kivu["ring"]) > 20 and 28.7 < min(lons) < max(lons) < 29.5
    assert -2.6 < min(lats) < max(lats) < -1.5
    assert len(data["borders"]) >= 3 and len(data["rivers"]) >= 5


async def test_landmarks_have_provinces_territoires_and_roads_with_their_licence(
    client: httpx.AsyncClient,
) -> None:
    data = (await client.get("/ops/landmarks.json")).json()
    # Provinces of 2015 (Ituri, Haut-Uele, Tanganyika are no longer Orientale and Katanga).
    names = {p["name"] for p in data["provinces"]["labels"]}
    assert {"Nord-Kivu", "Sud-Kivu", "Ituri", "Haut-Uele", "Tanganyika", "Maniema"} <= names
    assert "Orientale" not in names and "Katanga" not in names
    nord_kivu = next(p["at"] for p in data["provinces"]["labels"] if p["name"] == "Nord-Kivu")
    assert 27.5 < nord_kivu[0] < 29.5 and -1.5 < nord_kivu[1] < 0.5
    assert len(data["provinces"]["lines"]) >= 5
    # Territoires are approximate and roads schematic, and the data file says so, and whence.
    assert "ODbL" in data["source"]
    assert "territoires: approximate" in data["source"] and "roads: schematic" in data["source"]
    assert len(data["territoires"]) >= 20
    roads = {r["name"]: r for r in data["roads"]}
    assert {"RN2", "RN4", "RN27"} <= set(roads)
    assert roads["RN2"]["via"][0] == "Bukavu" and "Goma" in roads["RN2"]["via"]
    goma = roads["RN2"]["line"][roads["RN2"]["via"].index("Goma")]
    assert goma == [29.223, -1.679]  # the gazetteer's coordinates of Goma
