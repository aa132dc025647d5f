"""Humans correct triage: the operator's `correct` action, its trail, paging and incidents."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select, update

from app.alerts.models import Alert
from app.changes import repository as changes_repo
from app.changes import service as changes
from app.escalation.models import Escalation
from app.kit.clock import utcnow
from app.kit.config import Settings
from app.kit.db import unit_of_work
from app.outbox.models import Delivery
from tests.escalation.support import (
    CLA_BENI,
    CLA_OICHA,
    CLA_RUTSHURU,
    FOCAL_ERINGETI,
    FOCAL_MAVIVI,
    JOC_NORD_KIVU,
    Gateway,
    gateway,
    ref_in,
)
from tests.support import make_key

pytestmark = pytest.mark.usefixtures("engine")  # tables emptied first

CAP = "{urn:oasis:names:tc:emergency:cap:1.2}"


async def _operator(gw: Gateway) -> dict[str, str]:
    return {"Authorization": f"Bearer {await make_key(gw.sessionmaker, 'operator')}"}


async def _act(gw: Gateway, headers: dict[str, str], alert_id: int, **body: Any) -> Any:
    response = await gw.client.post(
        f"/api/v1/alerts/{alert_id}/actions", json=body, headers=headers
    )
    assert response.status_code == 200, response.text
    return response.json()


async def _subscribe(gw: Gateway, headers: dict[str, str]) -> None:
    admin = {"Authorization": f"Bearer {await make_key(gw.sessionmaker, 'admin')}"}
    created = await gw.client.post(
        "/api/v1/webhooks",
        json={"url": "http://127.0.0.1:9/hooks/kengele", "event_types": ["alert.updated"]},
        headers=admin,
    )
    assert created.status_code == 201, created.text


async def test_correct_changes_the_alert_keeps_the_original_and_is_audited_everywhere(
    settings: Settings,
) -> None:
    async with gateway(settings, webhook_allow_private=True) as gw:
        headers = await _operator(gw)
        await _subscribe(gw, headers)
        ref = ref_in((await gw.sms(FOCAL_MAVIVI, "Hommes armes vus a Mavivi")).text)
        alert = await gw.alert(ref)
        cap_before = (await gw.client.get(f"/api/v1/alerts/{alert.id}.cap", headers=headers)).text
        async with gw.sessionmaker() as s:
            seq = await changes_repo.current(s)

        read = await _act(
            gw,
            headers,
            alert.id,
            action="correct",
            category="ABDUCTION",
            killed=2,
            abducted=5,
            summary="Cinq personnes enlevees au champ",
        )

        assert (read["category"], read["numbers"]["abducted"], read["numbers"]["killed"]) == (
            "ABDUCTION",
            5,
            2,
        )
        assert read["summary"] == "Cinq personnes enlevees au champ"
        original = read["correction"]["original"]
        assert (original["category"], original["severity"]) == ("ARMED_PRESENCE", "high")
        assert original["place"]["name"] == "Mavivi" and original["abducted"] is None
        assert read["correction"]["fields"] == ["abducted", "category", "killed", "summary"]
        assert read["correction"]["by"].startswith("apikey:")
        [event] = [e for e in read["events"] if e["action"] == "corrected"]
        assert event["actor"] == read["correction"]["by"]
        assert event["detail"]["before"] == {
            "category": "ARMED_PRESENCE",
            "killed": None,
            "abducted": None,
            "summary": None,
        }
        assert event["detail"]["after"]["category"] == "ABDUCTION"

        # Pollers and the live stream see the change.
        polled = await gw.client.get(
            "/api/v1/alerts", params={"updated_after": ""}, headers=headers
        )
        assert any(a["id"] == alert.id and a["correction"] for a in polled.json()["items"])
        async with gw.sessionmaker() as s:
            streamed = await changes.render(
                s, await changes_repo.after(s, seq, 100), mask_phone=True
            )
        assert "event: alert.updated" in streamed and '"ABDUCTION"' in streamed
        # Webhook receivers get alert.updated with what changed.
        hooks = await gw.outbox(event_type="alert.updated")
        payloads = [json.loads(d.body)["data"] for d in hooks]
        [sent] = [p for p in payloads if "correction" in p]
        assert sent["correction"]["category"] == {"from": "ARMED_PRESENCE", "to": "ABDUCTION"}
        assert sent["alert"]["corrected"] == ["abducted", "category", "killed", "summary"]
        # CAP issues an Update of the first message.
        cap_after = (await gw.client.get(f"/api/v1/alerts/{alert.id}.cap", headers=headers)).text
        assert ET.fromstring(cap_before).findtext(f"{CAP}msgType") == "Alert"
        update = ET.fromstring(cap_after)
        assert update.findtext(f"{CAP}msgType") == "Update"
        assert f"kengele-{ref}," in (update.findtext(f"{CAP}references") or "")
        assert update.findtext(f"{CAP}info/{CAP}description") == (
            "Hommes armes vus a Mavivi\nCinq personnes enlevees au champ"
        )
        assert update.findtext(f"{CAP}info/{CAP}event") != ET.fromstring(cap_before).findtext(
            f"{CAP}info/{CAP}event"
        )


async def test_webhooks_get_a_summary_with_its_phone_numbers_masked(settings: Settings) -> None:
    async with gateway(settings, webhook_allow_private=True) as gw:
        headers = await _operator(gw)
        await _subscribe(gw, headers)
        alert = await gw.alert(ref_in((await gw.sms(FOCAL_MAVIVI, "Pillage a Mavivi")).text))
        summary = "Le chef confirme, rappeler au 0990 000 002"
        read = await _act(gw, headers, alert.id, action="correct", summary=summary)
        assert read["summary"] == summary  # the operations room sees the number
        hooks = await gw.outbox(event_type="alert.updated")
        [sent] = [p for d in hooks if "correction" in (p := json.loads(d.body)["data"])]
        assert sent["alert"]["summary"].startswith("Le chef confirme, rappeler au ")
        assert "990000002" not in re.sub(r"\D", "", json.dumps(sent))


async def test_a_second_correction_keeps_the_first_original(settings: Settings) -> None:
    async with gateway(settings) as gw:
        headers = await _operator(gw)
        alert = await gw.alert(ref_in((await gw.sms(FOCAL_MAVIVI, "Pillage a Mavivi")).text))
        await _act(gw, headers, alert.id, action="correct", category="ATTACK")
        read = await _act(gw, headers, alert.id, action="correct", category="ARSON")
        assert read["correction"]["original"]["category"] == "LOOTING"
        assert read["category"] == "ARSON"


async def test_correction_to_critical_pages_again_and_the_joc_after_the_policy_wait(
    settings: Settings,
) -> None:
    async with gateway(settings) as gw:
        headers = await _operator(gw)
        ref = ref_in((await gw.sms(FOCAL_MAVIVI, "Hommes armes vus a Mavivi")).text)
        await gw.wait_for(lambda: bool(gw.sent_to(CLA_BENI)))
        alert = await gw.alert(ref)
        # Taken already: the JOC must still hear of a critical alert.
        await _act(gw, headers, alert.id, action="acknowledge")

        await _act(gw, headers, alert.id, action="correct", severity="critical")

        pages = await gw.outbox(recipient=CLA_BENI, purpose="page")
        assert len(pages) == 2 and pages[1].body.startswith(f"{ref} CRITIQUE")
        async with gw.sessionmaker() as s:
            escalation = await s.scalar(select(Escalation))
        assert escalation is not None
        assert (escalation.policy_name, escalation.state) == ("critical-default", "active")
        assert await gw.outbox(recipient=JOC_NORD_KIVU) == []
        await gw.advance(301)
        await gw.wait_for(lambda: bool(gw.sent_to(JOC_NORD_KIVU)))
        assert gw.sent_to(JOC_NORD_KIVU)[0].startswith(f"{ref} CRITIQUE")


async def test_correction_to_low_stops_pending_pages(settings: Settings) -> None:
    async with gateway(settings, sms_rate_per_second=0.01, sms_burst=1) as gw:
        headers = await _operator(gw)
        ref = ref_in((await gw.sms(FOCAL_MAVIVI, "Attaque en cours a Mavivi")).text)
        alert = await gw.alert(ref)
        # One page went out; the rate holds the other back.
        await gw.wait_for(lambda: len(gw.fake.requests) >= 1)

        read = await _act(gw, headers, alert.id, action="correct", severity="low")

        assert read["paging"]["state"] == "stopped"
        pages = await gw.outbox(alert_id=alert.id, purpose="page")
        assert pages and all(p.status != "pending" for p in pages)
        assert any(p.status == "cancelled" for p in pages)
        assert await gw.advance(3600) == 0
        assert await gw.outbox(recipient=JOC_NORD_KIVU) == []


async def test_a_place_moved_far_leaves_the_incident_and_pages_the_new_zone(
    settings: Settings,
) -> None:
    async with gateway(settings) as gw:
        headers = await _operator(gw)
        first = ref_in((await gw.sms(FOCAL_MAVIVI, "Attaque en cours a Mavivi")).text)
        second = ref_in((await gw.sms("+243810000104", "Attaque a Mavivi, les ADF tirent")).text)
        lead, other = await gw.alert(first), await gw.alert(second)
        assert lead.incident_id == other.incident_id
        await gw.wait_for(lambda: bool(gw.sent_to(CLA_OICHA)))

        read = await _act(gw, headers, other.id, action="correct", place="Kiwanja")

        assert read["place"]["name"] == "Kiwanja" and read["place"]["admin2"] == "Rutshuru"
        assert read["incident_id"] != lead.incident_id
        assert "incident_moved" in [e["action"] for e in read["events"]]
        incident = (
            await gw.client.get(f"/api/v1/incidents/{lead.incident_id}", headers=headers)
        ).json()
        assert incident["report_count"] == 1
        await gw.wait_for(lambda: bool(gw.sent_to(CLA_RUTSHURU)))
        assert gw.sent_to(CLA_RUTSHURU)[0].startswith(second)


async def test_a_report_of_a_place_misread_before_is_not_taken_to_where_the_first_one_went(
    settings: Settings,
) -> None:
    """The only report of Mavivi was misread: the operator moves it to Kiwanja, its incident
    going with it. A later report of Mavivi is of an event there: a new incident, paged to
    Beni's liaisons, not counted on Kiwanja's (an operator's merge says two incidents are
    one event; a correction says only that a place was misread)."""
    async with gateway(settings) as gw:
        headers = await _operator(gw)
        first = await gw.alert(ref_in((await gw.sms(FOCAL_MAVIVI, "Attaque a Mavivi")).text))
        read = await _act(gw, headers, first.id, action="correct", place="Kiwanja")
        moved_from = (
            await gw.client.get(f"/api/v1/incidents/{first.incident_id}", headers=headers)
        ).json()
        assert moved_from["merged_into_id"] == read["incident_id"]

        later = ref_in((await gw.sms("+243810000104", "Attaque a Mavivi, ils tirent")).text)

        alert = await gw.alert(later)
        assert alert.incident_id not in (first.incident_id, read["incident_id"])
        await gw.wait_for(lambda: any(p.startswith(later) for p in gw.sent_to(CLA_OICHA)))


async def test_a_place_given_as_coordinates_keeps_its_label_and_zone(settings: Settings) -> None:
    async with gateway(settings) as gw:
        headers = await _operator(gw)
        alert = await gw.alert(ref_in((await gw.sms(FOCAL_MAVIVI, "Pillage a Mavivi")).text))
        place = {"lat": 0.5612, "lon": 29.4901, "name": "Champ pres de Mavivi"}
        read = await _act(gw, headers, alert.id, action="correct", place=place)
        assert read["place"]["name"] == "Champ pres de Mavivi"
        assert (read["place"]["admin2"], read["location_source"]) == ("Beni", "human")
        assert read["incident_id"] == alert.incident_id, "a move of a few metres keeps it"
        # A label is shown to everyone (pages, CAP, partners): a number typed in it is masked.
        place = {"lat": 0.5612, "lon": 29.4901, "name": "Chez Amani 0810000109"}
        read = await _act(gw, headers, alert.id, action="correct", place=place)
        assert read["place"]["name"].startswith("Chez Amani +243")
        assert "0000109" not in read["place"]["name"] and "109" in read["place"]["name"]


async def test_a_corrected_place_carries_its_own_level(settings: Settings) -> None:
    async with gateway(settings) as gw:
        headers = await _operator(gw)
        text = "Viol d'une femme a Nyiragongo cette nuit"
        alert = await gw.alert(ref_in((await gw.sms(FOCAL_MAVIVI, text)).text))
        assert alert.place_level == "territoire"
        read = await _act(gw, headers, alert.id, action="correct", place="Kiwanja")
        assert (read["place"]["name"], read["place"]["level"]) == ("Kiwanja", None)
        assert read["correction"]["original"]["place"]["level"] == "territoire"
        read = await _act(gw, headers, alert.id, action="correct", place="territoire-masisi")
        assert (read["place"]["id"], read["place"]["level"]) == ("territoire-masisi", "territoire")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"action": "correct"}, "correct needs"),
        ({"action": "correct", "place": "Nowhere-at-all-xyz"}, "place"),
        ({"action": "correct", "severity": "extreme"}, "severity"),
        ({"action": "correct", "category": "FLASH"}, "category"),
        ({"action": "correct", "killed": -1}, "killed"),
        ({"action": "acknowledge", "category": "ATTACK"}, "category"),
        ({"action": "correct", "place": {"lat": 1.0}}, "lon"),
        ({"action": "correct", "occurred_at": "0001-01-01T00:00:00+02:00"}, "occurred_at"),
        ({"action": "correct", "occurred_at": 1733000000}, "occurred_at"),
    ],
)
async def test_bad_corrections_are_422_naming_the_field(
    settings: Settings, body: dict[str, Any], field: str
) -> None:
    async with gateway(settings) as gw:
        headers = await _operator(gw)
        alert = await gw.alert(ref_in((await gw.sms(FOCAL_MAVIVI, "Pillage a Mavivi")).text))
        response = await gw.client.post(
            f"/api/v1/alerts/{alert.id}/actions", json=body, headers=headers
        )
        assert response.status_code == 422, response.text
        assert field in response.text
        assert (await gw.alert(alert.ref)).category == "LOOTING"


async def test_correct_honours_if_match(settings: Settings) -> None:
    async with gateway(settings) as gw:
        headers = await _operator(gw)
        alert = await gw.alert(ref_in((await gw.sms(FOCAL_MAVIVI, "Pillage a Mavivi")).text))
        stale = {**headers, "If-Match": f'"{alert.version}"'}
        await _act(gw, headers, alert.id, action="note", note="en route")
        response = await gw.client.post(
            f"/api/v1/alerts/{alert.id}/actions",
            json={"action": "correct", "category": "ATTACK"},
            headers=stale,
        )
        assert response.status_code == 412, response.text
        async with gw.sessionmaker() as s:
            hooks = (await s.scalars(select(Delivery))).all()
        assert (await gw.alert(alert.ref)).category == "LOOTING"
        assert all("ATTACK" not in (d.body or "") for d in hooks)


async def test_a_false_alarm_put_right_into_a_paged_event_pages_nobody_again(
    settings: Settings,
) -> None:
    """Armed men seen at Mavivi (high: the liaisons, the JOC after 15 minutes). A report of
    deaths at Kiwanja was called a false alarm; its place is then put right as Mavivi. It
    lies in Mavivi's incident now, but a false alarm neither raises that event to critical
    nor pages anyone again (the JOC's critical step at 5 minutes does not come)."""
    async with gateway(settings) as gw:
        headers = await _operator(gw)
        await gw.sms(FOCAL_MAVIVI, "Hommes armes vus a Mavivi")
        await gw.wait_for(lambda: bool(gw.sent_to(CLA_OICHA)))
        ref = ref_in((await gw.sms("+243810000104", "Attaque a Kiwanja, 4 morts")).text)
        false = await gw.alert(ref)
        assert false.severity == "critical"
        await _act(gw, headers, false.id, action="false_alarm", note="personne n'a vu")
        pages = len(await gw.outbox(purpose="page"))

        read = await _act(gw, headers, false.id, action="correct", place="Mavivi")

        mavivi = await gw.alert((await gw.outbox(purpose="page"))[0].body.split()[0])
        assert read["incident_id"] == mavivi.incident_id
        await gw.advance(301)
        assert len(await gw.outbox(purpose="page")) == pages, "nobody paged again"
        assert await gw.outbox(recipient=JOC_NORD_KIVU) == []


async def test_an_incident_whose_last_open_report_moves_away_closes(settings: Settings) -> None:
    """Two reports of Mavivi, one called a false alarm; the other's place is put right as
    Kiwanja. Mavivi's incident then holds only the false alarm: it closes, as it would had
    the other report been resolved, and a later report of Mavivi is an event of its own,
    paged."""
    async with gateway(settings) as gw:
        headers = await _operator(gw)
        first = await gw.alert(ref_in((await gw.sms(FOCAL_MAVIVI, "Attaque a Mavivi")).text))
        second = await gw.alert(
            ref_in((await gw.sms("+243810000104", "Attaque a Mavivi, les ADF tirent")).text)
        )
        assert first.incident_id == second.incident_id
        await _act(gw, headers, second.id, action="false_alarm", note="pas vrai")

        await _act(gw, headers, first.id, action="correct", place="Kiwanja")

        old = await gw.client.get(f"/api/v1/incidents/{first.incident_id}", headers=headers)
        assert old.json()["status"] == "closed"
        later = await gw.alert(
            ref_in((await gw.sms(FOCAL_ERINGETI, "Attaque a Mavivi, ils reviennent")).text)
        )
        assert later.incident_id != first.incident_id
        await gw.wait_for(lambda: any(p.startswith(later.ref) for p in gw.sent_to(CLA_OICHA)))


async def _paged_to_its_last_step(gw: Gateway) -> Alert:
    """Armed men at Mayimoya (high), paged to the zone, then to the JOC: every step run."""
    lead = await gw.alert(
        ref_in((await gw.sms("+243810000104", "Hommes armes vus a Mayimoya")).text)
    )
    await gw.wait_for(lambda: bool(gw.sent_to(CLA_OICHA)))
    await gw.advance(901)
    await gw.wait_for(lambda: bool(gw.sent_to(JOC_NORD_KIVU)))
    return lead


async def test_an_event_taken_by_a_report_moved_into_it_is_not_paged_again_later(
    settings: Settings,
) -> None:
    """Armed men at Mayimoya: its paging ran every step (the liaisons, the JOC), nobody took
    it. A report of Eringeti is put right as Mayimoya and joins that event; CLA Beni takes it
    by that report's ref. The event is his: a report of Mayimoya after the paging's last step
    is long past is counted, not paged again as an event nobody took."""
    async with gateway(settings) as gw:
        headers = await _operator(gw)
        mayimoya = await _paged_to_its_last_step(gw)
        moved = await gw.alert(
            ref_in((await gw.sms(FOCAL_ERINGETI, "Hommes armes vus a Eringeti")).text)
        )
        read = await _act(gw, headers, moved.id, action="correct", place="Mayimoya")
        assert read["incident_id"] == mayimoya.incident_id

        assert "pris" in (await gw.sms(CLA_BENI, f"OK {moved.ref[2:]}")).text
        pages = len(await gw.outbox(purpose="page"))
        async with unit_of_work(gw.sessionmaker) as s:  # the paging's last step, long ago
            await s.execute(
                update(Escalation)
                .where(Escalation.alert_id == mayimoya.id)
                .values(started_at=utcnow() - timedelta(hours=1))
            )
        await gw.sms(FOCAL_MAVIVI, "Hommes armes encore a Mayimoya")

        assert len(await gw.outbox(purpose="page")) == pages, "not paged again"
        async with gw.sessionmaker() as s:
            paging = await s.scalar(select(Escalation).where(Escalation.alert_id == mayimoya.id))
        assert paging is not None and paging.state == "stopped"


async def test_a_report_that_becomes_one_of_an_event_being_paged_is_paged_with_it(
    settings: Settings,
) -> None:
    """An attack at Mavivi is being paged. Another message of Mavivi, read as OTHER (no
    incident), is raised to high by the operator (paged on its own), then put right as an
    ATTACK: it is a report of the attack now. Its own paging stops and it is counted on the
    event's ("+1"), not paged beside it."""
    async with gateway(settings) as gw:
        headers = await _operator(gw)
        attack = await gw.alert(ref_in((await gw.sms(FOCAL_MAVIVI, "Attaque a Mavivi")).text))
        other = await gw.alert(
            ref_in((await gw.sms("+243810000104", "Reunion du comite a Mavivi demain")).text)
        )
        assert (other.category, other.incident_id) == ("OTHER", None)
        await _act(gw, headers, other.id, action="correct", severity="high")

        read = await _act(gw, headers, other.id, action="correct", category="ATTACK")

        assert read["incident_id"] == attack.incident_id
        async with gw.sessionmaker() as s:
            pagings = {e.alert_id: e for e in (await s.scalars(select(Escalation))).all()}
        assert pagings[other.id].state == "stopped"
        assert pagings[attack.id].new_reports == 1


async def test_a_report_of_a_paged_event_raised_below_its_severity_is_counted_once(
    settings: Settings,
) -> None:
    """A critical attack at Mavivi is being paged; a second report of it is counted ("+1 in
    the next page). The operator lowers that report, then raises it to high, still below
    the event: nothing to page again, and it is still one report, not two."""
    async with gateway(settings) as gw:
        headers = await _operator(gw)
        lead = await gw.alert(
            ref_in((await gw.sms(FOCAL_MAVIVI, "Attaque a Mavivi, 3 morts")).text)
        )
        assert lead.severity == "critical"
        second = await gw.alert(
            ref_in((await gw.sms("+243810000104", "Attaque a Mavivi, ils tirent")).text)
        )
        assert second.incident_id == lead.incident_id
        pages = len(await gw.outbox(purpose="page"))

        await _act(gw, headers, second.id, action="correct", severity="medium")
        await _act(gw, headers, second.id, action="correct", severity="high")

        async with gw.sessionmaker() as s:
            paging = await s.scalar(select(Escalation).where(Escalation.alert_id == lead.id))
        assert paging is not None and paging.new_reports == 1
        assert len(await gw.outbox(purpose="page")) == pages


async def test_a_report_moved_into_a_taken_event_and_raised_pages_the_event_not_itself(
    settings: Settings,
) -> None:
    """Armed men at Mayimoya: CLA Beni takes the event. A report of Eringeti is put right as
    Mayimoya (a report of that event now, its own paging stopped), then raised to critical
    (deaths). The event is raised and paged again at critical, as a critical report joining
    it would be; the moved report's old paging stays stopped, so the event has one paging
    and nobody is paged with the moved report's ref."""
    async with gateway(settings) as gw:
        headers = await _operator(gw)
        mayimoya = await gw.alert(
            ref_in((await gw.sms("+243810000104", "Hommes armes vus a Mayimoya")).text)
        )
        await gw.wait_for(lambda: bool(gw.sent_to(CLA_OICHA)))
        assert "pris" in (await gw.sms(CLA_BENI, f"OK {mayimoya.ref[2:]}")).text
        moved = await gw.alert(
            ref_in((await gw.sms(FOCAL_ERINGETI, "Hommes armes vus a Eringeti")).text)
        )
        read = await _act(gw, headers, moved.id, action="correct", place="Mayimoya")
        assert read["incident_id"] == mayimoya.incident_id
        pages_of_moved = len([p for p in await gw.outbox(purpose="page") if moved.ref in p.body])

        await _act(gw, headers, moved.id, action="correct", severity="critical")

        async with gw.sessionmaker() as s:
            pagings = {e.alert_id: e for e in (await s.scalars(select(Escalation))).all()}
        assert pagings[moved.id].state == "stopped", "no second paging for the event"
        event = pagings[mayimoya.id]
        assert (event.state, event.severity) == ("active", "critical")
        await gw.wait_for(
            lambda: any(p.startswith(f"{mayimoya.ref} CRITIQUE") for p in gw.sent_to(CLA_BENI))
        )
        pages = await gw.outbox(purpose="page")
        assert len([p for p in pages if moved.ref in p.body]) == pages_of_moved


async def _a_rumour_then_a_sighting(gw: Gateway) -> tuple[Alert, Alert]:
    """Three dead at Mavivi (critical, the event's lead), then armed men seen there (high)."""
    rumour = await gw.alert(
        ref_in((await gw.sms("+243810000104", "Hommes armes a Mavivi, 3 morts")).text)
    )
    seen = await gw.alert(ref_in((await gw.sms(FOCAL_MAVIVI, "Hommes armes vus a Mavivi")).text))
    return rumour, seen


async def test_a_report_called_a_false_alarm_no_longer_sets_its_incident_s_severity(
    settings: Settings,
) -> None:
    """A message of Mavivi tells of three dead (critical), then armed men are seen at Mavivi
    (high): one incident, critical. The operations room finds the deaths were a rumour and
    calls that report a false alarm. The event is what the other report says, high, not
    critical; nobody had taken it, so the other report, still new, is paged as its lead.
    Reopened, the false alarm's report counts again."""
    async with gateway(settings) as gw:
        headers = await _operator(gw)
        rumour, seen = await _a_rumour_then_a_sighting(gw)
        assert rumour.incident_id == seen.incident_id
        assert (seen.severity, rumour.severity) == ("high", "critical")
        url = f"/api/v1/incidents/{seen.incident_id}"
        assert (await gw.client.get(url, headers=headers)).json()["severity"] == "critical"

        await _act(gw, headers, rumour.id, action="false_alarm", note="rumeur")

        incident = (await gw.client.get(url, headers=headers)).json()
        assert (incident["severity"], incident["status"]) == ("high", "open")
        async with gw.sessionmaker() as s:
            pagings = {e.alert_id: e for e in (await s.scalars(select(Escalation))).all()}
        assert pagings[rumour.id].state == "stopped"
        assert (pagings[seen.id].state, pagings[seen.id].severity) == ("active", "high")
        await gw.wait_for(
            lambda: any(p.startswith(f"{seen.ref} HAUTE") for p in gw.sent_to(CLA_BENI))
        )
        await _act(gw, headers, rumour.id, action="reopen")
        assert (await gw.client.get(url, headers=headers)).json()["severity"] == "critical"


async def test_a_false_alarm_that_led_an_event_someone_had_taken_pages_nobody_anew(
    settings: Settings,
) -> None:
    """The same two reports, but CLA Beni had taken the event (OK to the first) before it was
    called a false alarm: the event is in hand, its other report is not paged."""
    async with gateway(settings) as gw:
        headers = await _operator(gw)
        rumour, seen = await _a_rumour_then_a_sighting(gw)
        assert "pris" in (await gw.sms(CLA_BENI, f"OK {rumour.ref[2:]}")).text
        pages = len(await gw.outbox(purpose="page"))

        await _act(gw, headers, rumour.id, action="false_alarm", note="rumeur")

        async with gw.sessionmaker() as s:
            assert await s.scalar(select(Escalation).where(Escalation.alert_id == seen.id)) is None
        assert len(await gw.outbox(purpose="page")) == pages


async def test_a_report_raised_in_an_event_whose_paging_ran_out_untaken_pages_it_again(
    settings: Settings,
) -> None:
    """Armed men at Mayimoya: the paging ran every step an hour ago, nobody took the event.
    A second report of it, lowered by the operator, is raised back to high: the event is
    paged again, as a new report of it would page it, not left silent."""
    async with gateway(settings) as gw:
        headers = await _operator(gw)
        lead = await _paged_to_its_last_step(gw)
        second = await gw.alert(
            ref_in((await gw.sms(FOCAL_MAVIVI, "Hommes armes encore a Mayimoya")).text)
        )
        assert second.incident_id == lead.incident_id
        async with unit_of_work(gw.sessionmaker) as s:  # the paging's last step, long ago
            await s.execute(
                update(Escalation)
                .where(Escalation.alert_id == lead.id)
                .values(started_at=utcnow() - timedelta(hours=1))
            )
            paging = await s.scalar(select(Escalation).where(Escalation.alert_id == lead.id))
            assert paging is not None and paging.state == "done"
        pages = len(await gw.outbox(purpose="page"))

        await _act(gw, headers, second.id, action="correct", severity="medium")
        await _act(gw, headers, second.id, action="correct", severity="high")

        assert len(await gw.outbox(purpose="page")) > pages, "the event paged again"
        async with gw.sessionmaker() as s:
            paging = await s.scalar(select(Escalation).where(Escalation.alert_id == lead.id))
        assert paging is not None and paging.state == "active"
