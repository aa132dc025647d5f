"""Alerts entered by hand (POST /api/v1/alerts): the same road as an SMS."""

from __future__ import annotations

import logging
import re
from typing import Any

import pytest
from sqlalchemy import select

from app.alerts.models import AlertEvent, Incident
from app.flows import manual
from app.kit.config import Settings
from app.people.models import Reporter
from tests.escalation.support import (
    CLA_BENI,
    CLA_OICHA,
    FOCAL_MAVIVI,
    JOC_NORD_KIVU,
    Gateway,
    gateway,
    ref_in,
)
from tests.support import make_key

pytestmark = pytest.mark.usefixtures("engine")  # tables emptied first

RADIO = "Message radio: attaque en cours a Mavivi, les ADF ont tue 3 personnes"


async def _enter(gw: Gateway, **body: Any) -> Any:
    headers = {"Authorization": f"Bearer {await make_key(gw.sessionmaker, 'operator')}"}
    return await gw.client.post("/api/v1/alerts", json=body, headers=headers)


def _paging(pages: list[Any], ref: str) -> list[tuple[str, str]]:
    """Who got which page, the alert's reference and its time left out (two alerts received a
    moment apart may straddle a minute: 19:59 and 20:00)."""
    return sorted(
        (p.recipient, re.sub(r"\b\d{2}:\d{2}\b", "HH:MM", p.body.replace(ref[2:], "REF")))
        for p in pages
    )


async def test_a_radio_alert_pages_the_zone_exactly_like_an_sms(settings: Settings) -> None:
    async with gateway(settings) as gw:
        sms_ref = ref_in((await gw.sms(FOCAL_MAVIVI, RADIO)).text)
        sms_alert = await gw.alert(sms_ref)
        sms_pages = await gw.outbox(alert_id=sms_alert.id, purpose="page")
        await gw.sms(CLA_BENI, f"FIN {sms_ref[2:]}")  # closed: the next one is a new incident

        response = await _enter(gw, text=RADIO, source="radio", reporter=FOCAL_MAVIVI)

        assert response.status_code == 201, response.text
        read = response.json()
        assert response.headers["location"] == f"/api/v1/alerts/{read['id']}"
        assert (read["kind"], read["source"]) == ("manual", "radio")
        assert (read["category"], read["severity"]) == (sms_alert.category, sms_alert.severity)
        assert read["place"]["id"] == "mavivi" and read["incident_id"] is not None
        assert read["from_phone"] == FOCAL_MAVIVI
        pages = await gw.outbox(alert_id=read["id"], purpose="page")
        assert _paging(pages, read["ref"]) == _paging(sms_pages, sms_ref)
        assert {p.recipient for p in pages} == {CLA_BENI, CLA_OICHA}
        await gw.wait_for(lambda: any(read["ref"] in t for t in gw.sent_to(CLA_OICHA)))
        await gw.advance(301)
        await gw.wait_for(lambda: bool(gw.sent_to(JOC_NORD_KIVU)))
        # The reporter hears back as if they had texted; the trail says who entered it.
        [receipt] = await gw.outbox(alert_id=read["id"], recipient=FOCAL_MAVIVI)
        assert receipt.purpose == "receipt" and read["ref"] in receipt.body
        trail = [(e["action"], e["actor"]) for e in read["events"]]
        assert trail[0][0] == "created" and trail[0][1].startswith("apikey:")
        assert ("escalation_started", "system") in trail


async def test_a_report_entered_by_hand_corroborates_an_sms_one(settings: Settings) -> None:
    async with gateway(settings) as gw:
        first = await gw.alert(ref_in((await gw.sms(FOCAL_MAVIVI, RADIO)).text))
        response = await _enter(
            gw, text="Visite: des tirs a Mavivi ce matin", source="visit", reporter=999_999
        )
        assert response.status_code == 422 and "reporter" in response.text
        async with gw.sessionmaker() as s:
            oicha = await s.scalar(select(Reporter).where(Reporter.phone == "+243810000102"))
        assert oicha is not None
        response = await _enter(
            gw, text="Visite: des tirs a Mavivi ce matin", source="visit", reporter=oicha.id
        )
        assert response.status_code == 201, response.text
        assert response.json()["incident_id"] == first.incident_id
        assert len(await gw.outbox(alert_id=response.json()["id"], purpose="page")) == 0


async def test_a_report_by_hand_without_a_number_is_no_new_reporter(settings: Settings) -> None:
    async with gateway(settings) as gw:
        first = await gw.alert(ref_in((await gw.sms(FOCAL_MAVIVI, RADIO)).text))
        response = await _enter(gw, text="Radio: des tirs a Mavivi ce matin", source="radio")
        assert response.status_code == 201, response.text
        assert response.json()["incident_id"] == first.incident_id
        async with gw.sessionmaker() as s:
            incident = await s.get(Incident, first.incident_id)
        assert incident is not None
        # Two reports, one number: the radio operator's report has none to count.
        assert (incident.report_count, incident.reporter_count) == (2, 1)


async def test_an_sms_joining_an_incident_opened_by_hand_without_a_number_is_its_reporter(
    settings: Settings,
) -> None:
    """The other order: the incident opened by a report with no number counts no reporter,
    and the first number that joins it counts one (a joining report counts on from there)."""
    async with gateway(settings) as gw:
        response = await _enter(gw, text="Radio: des tirs a Mavivi ce matin", source="radio")
        assert response.status_code == 201, response.text
        joined = await gw.alert(ref_in((await gw.sms(FOCAL_MAVIVI, RADIO)).text))
        assert joined.incident_id == response.json()["incident_id"]
        async with gw.sessionmaker() as s:
            incident = await s.get(Incident, joined.incident_id)
        assert incident is not None
        assert (incident.report_count, incident.reporter_count) == (2, 1)


async def test_an_area_given_by_hand_keeps_its_level(settings: Settings) -> None:
    async with gateway(settings) as gw:
        response = await _enter(
            gw, text="Des hommes armes ont ete vus", source="radio", place="territoire-masisi"
        )
        assert response.status_code == 201, response.text
        place = response.json()["place"]
        assert (place["id"], place["level"]) == ("territoire-masisi", "territoire")


async def test_given_category_severity_and_place_win_without_a_reporter(
    settings: Settings,
) -> None:
    async with gateway(settings) as gw:
        response = await _enter(
            gw,
            text="Appel du chef de village: ils sont partis vers la foret",
            source="call",
            place="Eringeti",
            category="ABDUCTION",
            severity="critical",
        )
        assert response.status_code == 201, response.text
        read = response.json()
        assert (read["category"], read["severity"]) == ("ABDUCTION", "critical")
        assert (read["place"]["id"], read["location_source"]) == ("eringeti", "human")
        assert read["place"]["level"] is None
        assert read["reporter_id"] is None and read["from_phone"] == ""
        assert any("given by apikey:" in r for r in read["reasons"])
        await gw.wait_for(lambda: bool(gw.sent_to(CLA_BENI)))
        async with gw.sessionmaker() as s:
            created = await s.scalar(select(AlertEvent).where(AlertEvent.action == "created"))
        assert created is not None and created.actor.startswith("apikey:")


async def test_a_new_number_is_remembered_and_gets_its_receipt(settings: Settings) -> None:
    async with gateway(settings) as gw:
        response = await _enter(
            gw,
            text="Attaque a Oicha",
            source="call",
            reporter="0991234567",
            place={"lat": 0.7001, "lon": 29.5172, "name": "Marche d'Oicha"},
        )
        assert response.status_code == 201, response.text
        read = response.json()
        assert read["place"]["name"] == "Marche d'Oicha" and read["place"]["admin2"] == "Beni"
        assert read["place"]["id"] is None
        await gw.wait_for(lambda: bool(gw.sent_to("+243991234567")))
        assert read["ref"] in gw.sent_to("+243991234567")[0]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"source": "radio"}, "text"),
        ({"text": "x", "source": "pigeon"}, "source"),
        ({"text": "x", "source": "radio", "reporter": "not a phone"}, "reporter"),
        ({"text": "x", "source": "radio", "place": "Zzyzxville"}, "place"),
        ({"text": "x", "source": "radio", "category": "FLASH"}, "category"),
        ({"text": "x", "source": "radio", "severity": "huge"}, "severity"),
    ],
)
async def test_bad_entries_are_422_naming_the_field(
    settings: Settings, body: dict[str, Any], field: str
) -> None:
    async with gateway(settings) as gw:
        response = await _enter(gw, **body)
        assert response.status_code == 422, response.text
        assert field in response.text
        assert (
            await gw.client.get(
                "/api/v1/alerts",
                headers={"Authorization": f"Bearer {await make_key(gw.sessionmaker, 'viewer')}"},
            )
        ).json()["items"] == []


async def test_an_entry_triage_cannot_read_is_filed_unread_not_a_server_error(
    settings: Settings, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """Triage raises on the operator's text (a bug): the alert is filed unread, with the
    category and severity the operator gave, and paged, as an SMS triage cannot read is; a
    500 would have the operator retry into the same error while nobody is paged."""

    def broken(*_args: Any, **_kwargs: Any) -> Any:
        raise ValueError("a text triage cannot read")

    monkeypatch.setattr(manual, "triage_message", broken)
    async with gateway(settings) as gw:
        with caplog.at_level(logging.ERROR, logger="app.flows.manual"):
            response = await _enter(
                gw, text=RADIO, source="radio", reporter=FOCAL_MAVIVI, severity="critical"
            )

        assert response.status_code == 201, response.text
        read = response.json()
        assert read["severity"] == "critical"
        assert any("triage failed" in reason for reason in read["reasons"]), read["reasons"]
        assert "triage failed on an alert entered by hand (ValueError)" in caplog.text
        assert RADIO not in caplog.text
        assert await gw.outbox(alert_id=read["id"], purpose="page") != []
