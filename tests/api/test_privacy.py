"""No full phone number reaches a viewer: every list, detail, export and the stream."""

from __future__ import annotations

import re

import httpx
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.alerts.models import Alert
from app.outbox.models import Delivery
from app.people.models import Liaison, Reporter
from tests.support import make_key, post_twilio, running, sms_form

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


def _values(response: httpx.Response) -> list[str]:
    """The digits of every value in an answer (a JSON string, a CSV cell, an XML text), so
    that "+243 81 000 0101" is caught as well as "+243810000101"."""
    try:
        data = response.json()
    except ValueError:
        pieces = re.split(r"[,;<>\"\n\t]", response.text)
    else:
        pieces = []
        stack = [data]
        while stack:
            item = stack.pop()
            if isinstance(item, dict):
                stack.extend(item.values())
            elif isinstance(item, list):
                stack.extend(item)
            else:
                pieces.append(str(item))
    return [re.sub(r"\D", "", piece) for piece in pieces]


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
        for template, methods in app.openapi()["paths"].items():
            if "get" not in methods or not template.startswith("/api/"):
                continue
            if template in NOT_A_GET_OF_DATA:
                continue
            path = template.format(**ids)
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
            texted = await s.scalar(select(Alert).where(Alert.body.contains("0990")))
        assert texted is not None
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
        assert "+243•••••0101" in masked.text


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
