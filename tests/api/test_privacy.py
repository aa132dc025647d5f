"""No full phone number reaches a viewer: every list, detail, export and the stream."""

from __future__ import annotations

import asyncio
import json
import re
from datetime import datetime

import httpx
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.alerts.formats.common import EVENT_NAMES
from app.alerts.models import Alert
from app.kit.config import Settings
from app.kit.db import unit_of_work
from app.outbox.models import CHANNEL_WEBHOOK, Delivery, WebhookSubscription
from app.outbox.service import apply_result
from app.people.models import Liaison, Reporter
from app.providers.types import SendResult
from tests.harness.gateway import running
from tests.harness.server import live_server
from tests.support import PUBLIC_URL, make_key, post_twilio, sign, sms_form

SMS = "/webhooks/twilio/sms"
REPORTS = [
    ("+243810000101", "Attaque en cours a Mavivi"),
    ("+243810000113", "Kalehe: des hommes armes pillent le marche"),
    ("+243990000001", "Des hommes armes a Oicha"),  # an unregistered number
    # A call-back number written in the text is personal data too.
    ("+243810000116", "Attaque a Kalehe, rappelez-moi au 0990 000 002"),
]
NUMBER_IN_TEXT = "+243990000002"
NOT_A_GET_OF_DATA = {"/api/v1/stream"}  # streamed: tests/changes checks it is masked


def _digits(phone: str) -> str:
    # The national part is enough to identify someone: "+243 81 000 0101" or "0810000101".
    return re.sub(r"\D", "", phone)[-9:]


def _texts(response: httpx.Response) -> list[str]:
    """Every value of an answer as text (JSON strings and numbers, CSV cells, XML texts)."""
    try:
        data = response.json()
    except ValueError:
        text = response.text
        if response.headers.get("content-type", "").startswith("text/html"):
            # A drawing's coordinates ("M299.0L100.0") are no text a person reads.
            text = re.sub(r"<svg\b.*?</svg>", " ", text, flags=re.DOTALL)
        return re.split(r"[,;<>\"\n\t]", text)
    out: list[str] = []
    stack = [data]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
        else:
            out.append(str(item))
    return out


def _values(response: httpx.Response) -> list[str]:
    """The digits of every value in an answer, so that "+243 81 000 0101" is caught as well
    as "+243810000101"."""
    return [re.sub(r"\D", "", piece) for piece in _texts(response)]


def _data_paths(app: FastAPI, ids: dict[str, object]) -> list[str]:
    """Every GET of the API that answers with data, its ids filled in."""
    return [
        template.format(**ids)
        for template, methods in app.openapi()["paths"].items()
        if "get" in methods and template.startswith("/api/") and template not in NOT_A_GET_OF_DATA
    ]


async def _ids(sessionmaker: async_sessionmaker[AsyncSession]) -> dict[str, object]:
    async with sessionmaker() as s:
        alert = await s.scalar(select(Alert).where(Alert.incident_id.is_not(None)).limit(1))
        assert alert is not None
        reporter = await s.scalar(select(Reporter).limit(1))
        liaison = await s.scalar(select(Liaison).limit(1))
        delivery = await s.scalar(select(Delivery).limit(1))
    return {
        "alert_id": alert.id,
        "incident_id": alert.incident_id,
        "reporter_id": reporter.id if reporter else 1,
        "liaison_id": liaison.id if liaison else 1,
        "delivery_id": delivery.id if delivery else 1,
        "place_id": alert.place_id or "mavivi",
        "key_id": 1,
        "policy_id": 1,
        "subscription_id": 1,
        "channel_id": 1,
    }


async def _phones(sessionmaker: async_sessionmaker[AsyncSession]) -> set[str]:
    async with sessionmaker() as s:
        numbers = set((await s.scalars(select(Reporter.phone))).all())
        numbers |= set((await s.scalars(select(Liaison.phone))).all())
    return {_digits(p) for p in numbers | {phone for phone, _ in REPORTS} | {NUMBER_IN_TEXT}}


async def test_no_full_number_reaches_a_viewer(
    app: FastAPI, demo: None, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    viewer = {"Authorization": f"Bearer {await make_key(sessionmaker, 'viewer')}"}
    app.state.settings = app.state.settings.model_copy(update={"api_rate_per_minute": 100_000})
    async with running(app) as client:
        for phone, text in REPORTS:
            assert (await post_twilio(client, SMS, sms_form(phone, text))).status_code == 200
        ids = await _ids(sessionmaker)
        phones = await _phones(sessionmaker)
        checked: list[str] = []
        for path in _data_paths(app, ids):
            for query in ("", "?hxl=1" if path.endswith(".csv") else "?q=a"):
                response = await client.get(path + query, headers=viewer)
                assert response.status_code < 500, (path, response.text)
                leaked = [p for p in phones for value in _values(response) if p in value]
                assert not leaked, f"{path}{query} shows full numbers to a viewer"
            checked.append(path)
        # The lists, details and exports that carry reporters' numbers were all reached.
        for wanted in ("/api/v1/alerts", "/api/v1/alerts.csv", "/api/v1/alerts.geojson"):
            assert wanted in checked
        # CAP and Atom leave the operations room: no number in them, whoever asks.
        async with sessionmaker() as s:
            # Texts are encrypted: no SQL LIKE on them, the filter is here.
            texted = next(a for a in await s.scalars(select(Alert)) if "0990" in a.body)
        operator_key = {"Authorization": f"Bearer {await make_key(sessionmaker, 'operator')}"}
        for path in (f"/api/v1/alerts/{texted.id}.cap", "/api/v1/feed.atom"):
            shared = await client.get(path, headers=operator_key)
            assert shared.status_code == 200
            assert not [p for p in phones for v in _values(shared) if p in v], path
        reporter_phone = REPORTS[0][0]
        operator = {"Authorization": f"Bearer {await make_key(sessionmaker, 'operator')}"}
        full = await client.get("/api/v1/alerts", headers=operator)
        assert reporter_phone in full.text, "operators see numbers: the check above can fail"
        masked = await client.get("/api/v1/alerts", headers=viewer)
        assert "+243••••••101" in masked.text


async def test_reveal_gives_the_number_and_records_who_asked(
    client: httpx.AsyncClient, demo: None, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    operator_key = await make_key(sessionmaker, "operator")
    operator = {"Authorization": f"Bearer {operator_key}"}
    viewer = {"Authorization": f"Bearer {await make_key(sessionmaker, 'viewer')}"}
    admin = {"Authorization": f"Bearer {await make_key(sessionmaker, 'admin')}"}
    await post_twilio(client, SMS, sms_form(*REPORTS[0]))
    alert = (await client.get("/api/v1/alerts", headers=viewer)).json()["items"][0]
    reporter_id = alert["reporter_id"]
    assert (
        await client.post(f"/api/v1/reporters/{reporter_id}/reveal", headers=viewer)
    ).status_code == 403
    revealed = await client.post(f"/api/v1/reporters/{reporter_id}/reveal", headers=operator)
    assert revealed.status_code == 200
    assert revealed.json()["phone"] == REPORTS[0][0]
    audit = (await client.get("/api/v1/audit", headers=admin)).json()
    entries = audit["items"] if isinstance(audit, dict) else audit
    reveal = next(e for e in entries if e["action"] == "reveal_phone")
    assert reveal["target_id"] == str(reporter_id)
    assert "test-operator" in reveal["actor"]


# The numbers as people write them (issue 9): with dots, slashes, spaces, dashes, parentheses,
# a country code or a trunk 0, grouped in twos, threes or fours. Each one is a distinct number.
WRITTEN = [
    "081.000.01.09",
    "+243.810.000.119",
    "+243/810 000 129",
    "0810 000 139",
    "081-000-0149",
    "(081) 000 01 59",
    "+243 (0)81 000 0169",
    "+243-81-000-01-79",
    "00243 810 000 189",
    "0810000199",
]
CLA_BENI = "+243820000201"
TOKEN = "s3cr3t-t0ken"


def _national(written: str) -> str:
    return re.sub(r"\D", "", written)[-9:]


def _runs(value: str) -> list[str]:
    """The digit sequences of a text: digits joined only by what people write between them."""
    return [re.sub(r"\D", "", run) for run in re.findall(r"\d(?:[ .\-/()+]*\d)*", value)]


def _is_time(value: str) -> bool:
    try:
        datetime.fromisoformat(value)
    except ValueError:
        return False
    return True


# A provider's message id such as the console's "console-ac81000e-3219-…": random hex, not a
# number anyone wrote (its digits matched a number's by chance once in a few hundred runs).
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def _too_much_of(written: str, values: list[str]) -> list[str]:
    """The values that hold more than 3 digits of the number in sequence."""
    digits = _national(written)
    windows = {digits[i : i + 4] for i in range(len(digits) - 3)}
    return [
        value
        for value in values
        if not _is_time(value)
        and any(w in run for run in _runs(_UUID.sub(" ", value)) for w in windows)
    ]


async def _sms(client: httpx.AsyncClient, phone: str, text: str) -> httpx.Response:
    form = sms_form(phone, text)
    headers = {"X-Twilio-Signature": sign(SMS, form, base=PUBLIC_URL)}
    response = await client.post(SMS, data=form, headers=headers)
    assert response.status_code == 200, response.text
    return response


async def _stream_values(base: str, key: str, last_action: str) -> list[str]:
    """What a viewer's live stream replays from the start, up to the `last_action`'s change."""
    values: list[str] = []
    headers = {"Authorization": f"Bearer {key}", "Last-Event-ID": "0"}
    async with (
        httpx.AsyncClient(base_url=base, timeout=20) as client,
        client.stream("GET", "/api/v1/stream", headers=headers) as response,
    ):
        assert response.status_code == 200

        async def read() -> None:
            async for line in response.aiter_lines():
                if line.startswith("data: "):
                    data = json.loads(line.removeprefix("data: "))
                    values.extend(_texts(httpx.Response(200, json=data)))
                    if (data.get("alert") or {}).get("assignee") and last_action in line:
                        return

        await asyncio.wait_for(read(), 15)
    return values


async def test_numbers_written_any_way_reach_no_viewer(
    app: FastAPI, demo: None, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    app.state.settings = app.state.settings.model_copy(update={"api_rate_per_minute": 100_000})
    viewer_key = await make_key(sessionmaker, "viewer")
    viewer = {"Authorization": f"Bearer {viewer_key}"}
    operator = {"Authorization": f"Bearer {await make_key(sessionmaker, 'operator')}"}
    in_body, in_note, in_assignee, in_info = WRITTEN[:4], WRITTEN[4:6], WRITTEN[6], WRITTEN[7:]
    async with live_server(app) as base, httpx.AsyncClient(base_url=base, timeout=20) as client:
        for n, written in enumerate(in_body):
            await _sms(client, REPORTS[n][0], f"Attaque a Mavivi le 29/12/2024, appelez {written}")
        alerts = (await client.get("/api/v1/alerts", headers=operator)).json()["items"]
        alert_id, ref = alerts[0]["id"], alerts[0]["ref"]
        for written in in_info:
            reply = await _sms(client, CLA_BENI, f"INFO {ref} le chef au {written}")
            assert ref in reply.text
        actions = f"/api/v1/alerts/{alert_id}/actions"
        for written in in_note:
            note = {"action": "note", "note": f"Rappele le temoin au {written} a 21:30"}
            assert (await client.post(actions, headers=operator, json=note)).status_code == 200
        assign = {"action": "assign", "assignee": f"Capt. Amani {in_assignee}"}
        answer = await client.post(actions, headers=operator, json=assign)
        assert answer.status_code == 200
        # Operators see the numbers as written: the check below can fail.
        seen = (await client.get(f"/api/v1/alerts/{alert_id}", headers=operator)).text
        for written in [*in_note, in_assignee, *in_info]:
            assert written in seen, written
        assert _too_much_of(in_assignee, _texts(answer))

        ids = {**await _ids(sessionmaker), "alert_id": alert_id}
        values: dict[str, list[str]] = {}
        for path in _data_paths(app, ids):
            response = await client.get(path, headers=viewer)
            assert response.status_code < 500, (path, response.text)
            values[path] = _texts(response)
        values["/api/v1/stream"] = await _stream_values(base, viewer_key, "Amani")
    for wanted in (
        "/api/v1/alerts",
        f"/api/v1/alerts/{alert_id}",
        f"/api/v1/alerts/{alert_id}/events",
        f"/api/v1/alerts/{alert_id}.cap",
        "/api/v1/alerts.csv",
        "/api/v1/alerts.geojson",
        "/api/v1/feed.atom",
        "/api/v1/stream",
    ):
        assert wanted in values, wanted
    for path, texts in values.items():
        for written in WRITTEN:
            shown = _too_much_of(written, texts)
            assert not shown, f"{path} shows digits of {written} to a viewer: {shown}"
    assert any("Amani" in text for text in values["/api/v1/stream"])
    assert any("•" in text for text in values[f"/api/v1/alerts/{alert_id}/events"])


async def test_viewers_see_a_webhook_by_its_name_never_its_url_or_answer(
    client: httpx.AsyncClient, demo: None, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    async with unit_of_work(sessionmaker) as s:
        subscription = WebhookSubscription(
            url=f"https://user:pw@hooks.example.org/in?token={TOKEN}",
            event_types=["alert.created"],
            secret="whsec_x",
            description="Salle JOC Beni",
        )
        s.add(subscription)
        await s.flush()
        s.add(
            Delivery(
                channel=CHANNEL_WEBHOOK,
                purpose="event",
                status="dead",
                subscription_id=subscription.id,
                recipient=subscription.url,
                body="{}",
                event_type="alert.created",
                last_error=f"HTTP 500: bad token {TOKEN}, call 0810000109; "
                f"see https://hooks.example.org/in?token={TOKEN}",
            )
        )
    viewer = {"Authorization": f"Bearer {await make_key(sessionmaker, 'viewer')}"}
    operator = {"Authorization": f"Bearer {await make_key(sessionmaker, 'operator')}"}
    admin = {"Authorization": f"Bearer {await make_key(sessionmaker, 'admin')}"}
    [seen] = (await client.get("/api/v1/deliveries", headers=viewer)).json()["items"]
    assert (seen["recipient"], seen["last_error"]) == ("Salle JOC Beni", "HTTP 500")
    detail = await client.get(f"/api/v1/deliveries/{seen['id']}", headers=viewer)
    assert detail.json()["recipient"] == "Salle JOC Beni"
    # Operators see where it goes and why it failed, without the URL's secrets.
    [full] = (await client.get("/api/v1/deliveries", headers=operator)).json()["items"]
    assert full["recipient"] == "https://hooks.example.org/in?[redacted]"
    assert full["last_error"].startswith("HTTP 500: bad token")
    assert "pw@" not in full["last_error"] and "token=" not in full["last_error"]
    # Only the admins' webhooks API gives the URL as registered.
    [registered] = (await client.get("/api/v1/webhooks", headers=admin)).json()
    assert TOKEN in registered["url"]


async def test_a_dead_webhook_tells_other_systems_no_answer_or_address(
    settings: Settings, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    async with unit_of_work(sessionmaker) as s:
        listener = WebhookSubscription(
            url="https://ops.example.org/kengele",
            event_types=["delivery.dead"],
            secret="whsec_y",
            description="JOC",
        )
        s.add(listener)
        dying = Delivery(
            channel=CHANNEL_WEBHOOK,
            purpose="event",
            recipient=f"https://hooks.example.org/in?token={TOKEN}",
            body="{}",
            event_type="alert.created",
            attempts=1,
            max_attempts=1,
        )
        s.add(dying)
        await s.flush()
        answer = f"HTTP 400: token {TOKEN} refused, call 0810000109"
        result = SendResult(ok=False, retryable=False, http_status=400, error=answer)
        await apply_result(s, settings, dying, result, worker="w", duration_ms=1.0)
    async with sessionmaker() as s:
        event = await s.scalar(select(Delivery).where(Delivery.event_type == "delivery.dead"))
    assert event is not None
    told = json.loads(event.body)["data"]
    assert told["last_error"] == "HTTP 400" and told["id"] == dying.id
    assert TOKEN not in event.body and "0810000109" not in event.body


async def test_a_partner_gets_shared_exports_with_no_number_no_text_and_coarse_places(
    app: FastAPI, demo: None, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    partner = {"Authorization": f"Bearer {await make_key(sessionmaker, 'partner')}"}
    async with running(app) as client:
        for phone, text in REPORTS:
            assert (await post_twilio(client, SMS, sms_form(phone, text))).status_code == 200
        phones = await _phones(sessionmaker)
        async with sessionmaker() as s:
            alerts = (await s.scalars(select(Alert))).all()
        # Every word of a report longer than a place name would tell what it said.
        words = {w.lower() for a in alerts for w in re.findall(r"[A-Za-z]{6,}", a.body)}
        words -= {(a.place_name or "").lower() for a in alerts}
        # ... but not the names of the categories ("Attaque armée", "Présence d'hommes armés").
        words = {w for w in words if not any(w in n.lower() for n in EVENT_NAMES.values())}
        assert {"pillent", "rappelez"} <= words
        mavivi = next(a for a in alerts if a.place_name == "Mavivi")
        for path in ("/api/v1/alerts.csv?shared=1", "/api/v1/alerts.geojson?shared=1"):
            response = await client.get(path, headers=partner)
            assert response.status_code == 200, response.text
            values = _texts(response)
            assert not [p for p in phones for v in _values(response) if p in v], path
            said = [w for w in words for v in values if w in v.lower()]
            assert not said, f"{path} quotes the reports: {said}"
            assert "Mavivi" not in response.text, "a village is named by its territoire"
        csv_lines = (await client.get("/api/v1/alerts.csv?shared=1", headers=partner)).text
        header, tags = csv_lines.lstrip("\ufeff").splitlines()[:2]
        for tag in ("#date", "#adm1+name", "#adm2+name", "#loc+name", "#geo+lat", "#geo+lon"):
            assert tag in tags
        assert "#event+category" in tags and "#severity" in tags
        assert "reporter" not in header and "body" not in header
        collection = (await client.get("/api/v1/alerts.geojson?shared=1", headers=partner)).json()
        assert collection["hxl"]["adm2_name"] == "#adm2+name"
        [feature] = [f for f in collection["features"] if f["properties"]["ref"] == mavivi.ref]
        # Mavivi is put at the centroid of the territoire of Beni (the demo gazetteer).
        assert feature["geometry"]["coordinates"] == [29.55, 0.65]
        assert feature["properties"]["loc_name"] == "Beni"
        assert feature["properties"]["geo_precision"] == "territoire"
        # Nothing else is open to a partner, not even the full exports.
        for path in (
            "/api/v1/alerts.csv",
            "/api/v1/alerts.geojson",
            "/api/v1/alerts",
            f"/api/v1/alerts/{mavivi.id}",
            "/api/v1/feed.atom",
            "/api/v1/stats",
            "/api/v1/me",
        ):
            assert (await client.get(path, headers=partner)).status_code == 403, path


async def test_shared_coordinates_can_be_rounded_instead(
    app: FastAPI, demo: None, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    app.state.settings = app.state.settings.model_copy(
        update={"share_location": "round", "share_decimals": 1}
    )
    viewer = {"Authorization": f"Bearer {await make_key(sessionmaker, 'viewer')}"}
    async with running(app) as client:
        phone, text = REPORTS[0]
        assert (await post_twilio(client, SMS, sms_form(phone, text))).status_code == 200
        async with sessionmaker() as s:
            alert = await s.scalar(select(Alert))
        assert alert is not None and alert.lat is not None and alert.lon is not None
        collection = (await client.get("/api/v1/alerts.geojson?shared=1", headers=viewer)).json()
    [feature] = collection["features"]
    assert feature["geometry"]["coordinates"] == [round(alert.lon, 1), round(alert.lat, 1)]
    assert feature["properties"]["geo_precision"] == "1 decimals"


async def test_a_shared_export_cannot_be_filtered_by_village(
    app: FastAPI, demo: None, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    partner = {"Authorization": f"Bearer {await make_key(sessionmaker, 'partner')}"}
    async with running(app) as client:
        phone, text = REPORTS[0]
        assert (await post_twilio(client, SMS, sms_form(phone, text))).status_code == 200
        async with sessionmaker() as s:
            alert = await s.scalar(select(Alert))
        assert alert is not None and alert.place_name == "Mavivi" and alert.place_id
        for path in ("/api/v1/alerts.csv?shared=1", "/api/v1/alerts.geojson?shared=1"):
            # Asking village by village would tell which village each alert came from.
            response = await client.get(f"{path}&place={alert.place_id}", headers=partner)
            assert response.status_code == 400, path
            assert "place" in response.json()["detail"]
            # The territoire is as fine as a shared export goes: that filter stays.
            response = await client.get(f"{path}&admin2=Beni", headers=partner)
            assert response.status_code == 200 and alert.ref in response.text, path
