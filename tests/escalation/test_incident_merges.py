"""Two incidents merged by the operations room are one event: it has one paging. Taken on
either side, nobody is paged for it any more; a later report of it is counted on the paging
that goes on."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from app.alerts.models import Alert, Incident
from app.escalation.models import Escalation
from app.kit.clock import utcnow
from app.kit.config import Settings
from app.kit.db import unit_of_work
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

FOCAL_MBAU = "+243810000104"
FOCAL_ERINGETI = "+243810000103"
# Every step and repeat of the critical policy (JOC at 5 min, repeats every 10 min, three).
LATER_STEPS = (301, 901, 1501, 2101, 3000)


async def _escalations(gw: Gateway) -> dict[int, Escalation]:
    async with gw.sessionmaker() as s:
        return {e.alert_id: e for e in (await s.scalars(select(Escalation))).all()}


async def _paged(gw: Gateway, text: str, phone: str) -> Alert:
    """A report whose first pages went out to the zone's liaisons."""
    before = len(gw.sent_to(CLA_OICHA))
    alert = await gw.alert(ref_in((await gw.sms(phone, text)).text))
    await gw.wait_for(lambda: len(gw.sent_to(CLA_OICHA)) > before)
    return alert


async def _two_events(gw: Gateway) -> tuple[Alert, Alert]:
    """Mavivi attacked; 23 km north, Mayimoya attacked: two incidents, each being paged."""
    mavivi = await _paged(gw, "Attaque en cours a Mavivi", FOCAL_MAVIVI)
    mayimoya = await _paged(gw, "Attaque en cours a Mayimoya", FOCAL_MBAU)
    assert mavivi.incident_id != mayimoya.incident_id
    assert mavivi.severity == mayimoya.severity == "critical"
    escalations = await _escalations(gw)
    assert escalations[mavivi.id].state == escalations[mayimoya.id].state == "active"
    return mavivi, mayimoya


async def _merge(gw: Gateway, source: Alert, target: Alert) -> None:
    """The operations room: the same armed group, one event (source's incident into
    target's)."""
    operator = {"Authorization": f"Bearer {await make_key(gw.sessionmaker, 'operator')}"}
    merged = await gw.client.post(
        f"/api/v1/incidents/{source.incident_id}/merge",
        json={"into": target.incident_id, "note": "the same group moving north"},
        headers=operator,
    )
    assert merged.status_code == 200, merged.text


async def _pages_after_the_steps(gw: Gateway) -> list[str]:
    """Run every later step of the paging; the pages written meanwhile (to anyone, sent
    or not), and those left to send, as 'phone: body'."""
    before = {d.id for d in await gw.outbox(purpose="page")}
    for seconds in LATER_STEPS:
        await gw.advance(seconds)
    return [
        f"{d.recipient}: {d.body}"
        for d in await gw.outbox(purpose="page")
        if d.id not in before or d.status == "pending"
    ]


@pytest.mark.parametrize("taken", ["surviving", "absorbed"])
async def test_a_merged_event_taken_by_a_liaison_is_paged_no_more(
    settings: Settings, taken: str
) -> None:
    """Merged, then a liaison answers the page of either report: the event is theirs. No
    JOC page at 5 minutes, no repeat, for the one or the other."""
    async with gateway(settings) as gw:
        mavivi, mayimoya = await _two_events(gw)
        await _merge(gw, mavivi, mayimoya)

        answered = mayimoya if taken == "surviving" else mavivi
        assert "pris" in (await gw.sms(CLA_BENI, f"OK {answered.ref[2:]}")).text

        assert await _pages_after_the_steps(gw) == []
        assert not gw.sent_to(JOC_NORD_KIVU)
        escalations = await _escalations(gw)
        assert {e.state for e in escalations.values()} == {"stopped"}
        # Both villages hear that their alert was taken: the event is someone's.
        told = {d.recipient for d in await gw.outbox(purpose="reporter_ack")}
        assert told == {FOCAL_MAVIVI, FOCAL_MBAU}


async def test_an_event_taken_before_the_merge_stops_the_other_paging(
    settings: Settings,
) -> None:
    """CLA Beni took Mavivi's alert; the operations room then finds Mayimoya's attack is the
    same group: that event is taken too. Its paging stops, its trail says why, and a later
    report of it is counted on the taken paging, not paged again."""
    async with gateway(settings) as gw:
        mavivi, mayimoya = await _two_events(gw)
        assert "pris" in (await gw.sms(CLA_BENI, f"OK {mavivi.ref[2:]}")).text
        await _merge(gw, mayimoya, mavivi)

        assert await _pages_after_the_steps(gw) == []
        escalations = await _escalations(gw)
        assert escalations[mayimoya.id].state == "stopped"
        operator = {"Authorization": f"Bearer {await make_key(gw.sessionmaker, 'operator')}"}
        events = await gw.client.get(f"/api/v1/alerts/{mayimoya.id}/events", headers=operator)
        trail = [e["action"] for e in events.json()]
        assert trail[-2:] == ["incident_merged", "escalation_merged"], trail
        assert events.json()[-1]["detail"]["into_alert"] == mavivi.id

        await gw.sms(FOCAL_ERINGETI, "Attaque a Mavivi, les ADF tirent encore")
        assert await _pages_after_the_steps(gw) == []
        escalations = await _escalations(gw)
        assert escalations[mavivi.id].new_reports == 1
        assert escalations[mayimoya.id].new_reports == 0


async def test_a_report_after_the_merge_is_counted_on_the_paging_that_goes_on(
    settings: Settings,
) -> None:
    """Mayimoya's paging (high: the liaisons, then the JOC) ran every step unanswered; Mavivi's
    attack is being paged. Merged into Mayimoya's incident, the event's paging is Mavivi's:
    a new report of Mayimoya is counted on it ("+1" in its next page), not on the paging
    that ended."""
    async with gateway(settings) as gw:
        mayimoya = await _paged(gw, "Hommes armes vus a Mayimoya", FOCAL_MBAU)
        assert mayimoya.severity == "high"
        await gw.advance(901)
        await gw.wait_for(lambda: len(gw.sent_to(JOC_NORD_KIVU)) == 1)
        mavivi = await _paged(gw, "Attaque en cours a Mavivi", FOCAL_MAVIVI)
        assert mavivi.incident_id != mayimoya.incident_id
        escalations = await _escalations(gw)
        assert (escalations[mayimoya.id].state, escalations[mavivi.id].state) == (
            "done",
            "active",
        )
        await _merge(gw, mavivi, mayimoya)

        report = await gw.alert(
            ref_in((await gw.sms(FOCAL_ERINGETI, "Hommes armes a Mayimoya")).text)
        )
        assert report.incident_id == mayimoya.incident_id

        escalations = await _escalations(gw)
        counted = {a: e.new_reports for a, e in escalations.items() if e.new_reports}
        assert counted == {mavivi.id: 1}, "counted once, on the paging that goes on"
        assert report.id not in escalations, "not paged apart"
        await gw.advance(301)
        await gw.wait_for(lambda: len(gw.sent_to(JOC_NORD_KIVU)) == 2)
        assert gw.sent_to(JOC_NORD_KIVU)[1].startswith(mavivi.ref)
        assert "(+1 rapport)" in gw.sent_to(JOC_NORD_KIVU)[1]


async def test_a_new_report_of_a_merged_event_is_not_paged_twice(settings: Settings) -> None:
    """Both events being paged, merged: one paging goes on (the surviving incident's), the
    other's pages not yet sent are cancelled, and a later report is counted on it alone."""
    async with gateway(settings) as gw:
        mavivi, mayimoya = await _two_events(gw)
        await _merge(gw, mavivi, mayimoya)

        escalations = await _escalations(gw)
        assert escalations[mayimoya.id].state == "active"
        assert escalations[mavivi.id].state == "stopped"
        await gw.sms(FOCAL_ERINGETI, "Attaque a Mayimoya, ils brulent les maisons")
        escalations = await _escalations(gw)
        counted = {a: e.new_reports for a, e in escalations.items() if e.new_reports}
        assert counted == {mayimoya.id: 1}

        pages = await _pages_after_the_steps(gw)
        assert pages and all(mayimoya.ref in page for page in pages), pages


async def test_a_critical_event_merged_into_a_high_one_keeps_its_critical_paging(
    settings: Settings,
) -> None:
    """Armed men seen at Mayimoya (high: the JOC after 15 min); Mavivi attacked (critical:
    the JOC after 5). Merged into Mayimoya's incident, the event is paged as the critical
    one: the JOC hears of it at 5 minutes, and nothing of the high paging's steps."""
    async with gateway(settings) as gw:
        mayimoya = await _paged(gw, "Hommes armes vus a Mayimoya", FOCAL_MBAU)
        mavivi = await _paged(gw, "Attaque en cours a Mavivi", FOCAL_MAVIVI)
        assert (mayimoya.severity, mavivi.severity) == ("high", "critical")
        await _merge(gw, mavivi, mayimoya)

        escalations = await _escalations(gw)
        assert (escalations[mavivi.id].state, escalations[mayimoya.id].state) == (
            "active",
            "stopped",
        )
        assert escalations[mavivi.id].incident_id == mayimoya.incident_id
        await gw.advance(301)
        await gw.wait_for(lambda: len(gw.sent_to(JOC_NORD_KIVU)) == 1)
        assert gw.sent_to(JOC_NORD_KIVU)[0].startswith(mavivi.ref)
        await gw.advance(902)  # the critical repeat; the high paging's JOC step is not sent
        await gw.wait_for(lambda: len(gw.sent_to(JOC_NORD_KIVU)) == 2)
        assert [page.split()[0] for page in gw.sent_to(JOC_NORD_KIVU)] == [mavivi.ref] * 2


async def test_reports_counted_on_the_paging_that_stops_are_told_by_the_one_kept(
    settings: Settings,
) -> None:
    """A second report of Mavivi waits to be told in its paging's next page ("+1"); merged
    into Mayimoya's event, whose paging goes on, the JOC's page of it still tells it."""
    async with gateway(settings) as gw:
        mavivi, mayimoya = await _two_events(gw)
        report = await gw.alert(
            ref_in((await gw.sms(FOCAL_ERINGETI, "Attaque a Mavivi, ils tirent")).text)
        )
        assert report.incident_id == mavivi.incident_id
        assert (await _escalations(gw))[mavivi.id].new_reports == 1

        await _merge(gw, mavivi, mayimoya)
        await gw.advance(301)

        await gw.wait_for(lambda: len(gw.sent_to(JOC_NORD_KIVU)) == 1)
        (joc,) = gw.sent_to(JOC_NORD_KIVU)
        assert joc.startswith(mayimoya.ref) and "(+1 rapport)" in joc


async def test_a_report_from_the_absorbed_incident_s_place_joins_the_merged_event(
    settings: Settings,
) -> None:
    """Mavivi's incident merged into Mayimoya's, 23 km away (beyond the range in which reports
    join): a later report of Mavivi is a report of that event. It joins the surviving
    incident and is counted on its paging; no third incident, no paging of its own."""
    async with gateway(settings) as gw:
        mavivi, mayimoya = await _two_events(gw)
        await _merge(gw, mavivi, mayimoya)

        report = await gw.alert(
            ref_in((await gw.sms(FOCAL_ERINGETI, "Attaque a Mavivi, ils tirent encore")).text)
        )

        assert report.incident_id == mayimoya.incident_id
        escalations = await _escalations(gw)
        assert report.id not in escalations, "not paged apart"
        counted = {a: e.new_reports for a, e in escalations.items() if e.new_reports}
        assert counted == {mayimoya.id: 1}


async def test_a_report_of_an_absorbed_incident_whose_event_is_closed_opens_a_new_one(
    settings: Settings,
) -> None:
    """The merged event resolved and closed: a new report of the absorbed incident's place is a
    new event, paged."""
    async with gateway(settings) as gw:
        mavivi, mayimoya = await _two_events(gw)
        await _merge(gw, mavivi, mayimoya)
        operator = {"Authorization": f"Bearer {await make_key(gw.sessionmaker, 'operator')}"}
        for alert in (mavivi, mayimoya):
            resolved = await gw.client.post(
                f"/api/v1/alerts/{alert.id}/actions",
                json={"action": "resolve", "note": "the group left"},
                headers=operator,
            )
            assert resolved.status_code == 200, resolved.text

        report = await _paged(gw, "Attaque a Mavivi, ils sont revenus", FOCAL_ERINGETI)

        assert report.incident_id not in (mavivi.incident_id, mayimoya.incident_id)
        assert (await _escalations(gw))[report.id].state == "active"


async def test_a_report_of_the_absorbed_place_joins_as_long_as_the_merged_event_goes_on(
    settings: Settings,
) -> None:
    """Mavivi's last report is 7 hours old (beyond the 6-hour window), but the event it was
    merged into had a report an hour ago: a new report of Mavivi is still of that event."""
    async with gateway(settings) as gw:
        mavivi, mayimoya = await _two_events(gw)
        await _merge(gw, mavivi, mayimoya)
        now = utcnow()
        async with unit_of_work(gw.sessionmaker) as s:
            for incident_id, hours in ((mavivi.incident_id, 7), (mayimoya.incident_id, 1)):
                await s.execute(
                    update(Incident)
                    .where(Incident.id == incident_id)
                    .values(last_at=now - timedelta(hours=hours))
                )

        report = await gw.alert(
            ref_in((await gw.sms(FOCAL_ERINGETI, "Attaque a Mavivi, ils tirent encore")).text)
        )

        assert report.incident_id == mayimoya.incident_id


async def test_a_report_of_an_incident_merged_twice_joins_where_the_event_is_now(
    settings: Settings,
) -> None:
    """Mavivi's incident merged into Mayimoya's, which the operations room then merges into
    Eringeti's: a later report of Mavivi joins Eringeti's incident, the one still open."""
    async with gateway(settings) as gw:
        mavivi, mayimoya = await _two_events(gw)
        eringeti = await _paged(gw, "Attaque en cours a Eringeti", FOCAL_ERINGETI)
        assert eringeti.incident_id not in (mavivi.incident_id, mayimoya.incident_id)
        await _merge(gw, mavivi, mayimoya)
        await _merge(gw, mayimoya, eringeti)

        report = await gw.alert(
            ref_in((await gw.sms(FOCAL_MBAU, "Attaque a Mavivi, ils tirent encore")).text)
        )

        assert report.incident_id == eringeti.incident_id
        async with gw.sessionmaker() as s:
            first = await s.get(Incident, mavivi.incident_id)
        assert first is not None and first.merged_into_id == eringeti.incident_id


@pytest.mark.parametrize("by", ["api", "sms"])
async def test_a_merged_event_whose_kept_lead_is_called_a_false_alarm_pages_the_absorbed_one(
    settings: Settings, by: str
) -> None:
    """Mavivi and Mayimoya merged, Mavivi's paging kept, Mayimoya's stopped. Mavivi's report
    is called a false alarm (by the operations room, or by CLA Beni's FAUX): Mayimoya's
    report, still new, leads the event's paging again, its own paging started anew and made
    the incident's (a later report is counted on it, not paged apart)."""
    async with gateway(settings) as gw:
        mavivi, mayimoya = await _two_events(gw)
        await _merge(gw, mayimoya, mavivi)
        assert (await _escalations(gw))[mayimoya.id].state == "stopped"

        if by == "api":
            operator = {"Authorization": f"Bearer {await make_key(gw.sessionmaker, 'operator')}"}
            closed = await gw.client.post(
                f"/api/v1/alerts/{mavivi.id}/actions",
                json={"action": "false_alarm", "note": "rumeur"},
                headers=operator,
            )
            assert closed.status_code == 200, closed.text
        else:
            await gw.sms(CLA_BENI, f"FAUX {mavivi.ref[2:]}")
        assert (await gw.alert(mavivi.ref)).status == "false_alarm"

        escalations = await _escalations(gw)
        assert escalations[mayimoya.id].state == "active"
        assert escalations[mayimoya.id].incident_id == mavivi.incident_id
        later = await gw.alert(
            ref_in((await gw.sms(FOCAL_ERINGETI, "Attaque en cours a Mavivi, ils brulent")).text)
        )
        assert later.incident_id == mavivi.incident_id
        escalations = await _escalations(gw)
        assert later.id not in escalations, "counted on the event's paging, not paged apart"
        assert escalations[mayimoya.id].new_reports == 1


async def test_merging_in_an_event_of_false_reports_only_does_not_raise_the_event(
    settings: Settings,
) -> None:
    """A rumour of three dead at Mavivi (critical), its incident's only report, is called a
    false alarm. Armed men seen at Mayimoya (high). Merged into Mayimoya's incident, the
    rumour's incident does not make the event critical."""
    async with gateway(settings) as gw:
        operator = {"Authorization": f"Bearer {await make_key(gw.sessionmaker, 'operator')}"}
        rumour = await gw.alert(
            ref_in((await gw.sms(FOCAL_MAVIVI, "Hommes armes a Mavivi, 3 morts")).text)
        )
        seen = await gw.alert(
            ref_in((await gw.sms(FOCAL_MBAU, "Hommes armes vus a Mayimoya")).text)
        )
        assert rumour.incident_id != seen.incident_id and seen.severity == "high"
        closed = await gw.client.post(
            f"/api/v1/alerts/{rumour.id}/actions", json={"action": "false_alarm"}, headers=operator
        )
        assert closed.status_code == 200, closed.text

        await _merge(gw, rumour, seen)

        incident = await gw.client.get(f"/api/v1/incidents/{seen.incident_id}", headers=operator)
        assert incident.json()["severity"] == "high"


async def test_a_false_lead_s_heir_whose_own_paging_runs_goes_on_where_it_is(
    settings: Settings,
) -> None:
    """As above, but the heir's own paging is still running when the lead is called false (a
    state no path is known to leave, set here by hand): it goes on where it is, made the
    event's paging, not started again from its first step."""
    async with gateway(settings) as gw:
        mavivi, mayimoya = await _two_events(gw)
        await _merge(gw, mayimoya, mavivi)
        started = utcnow() - timedelta(minutes=2)
        async with unit_of_work(gw.sessionmaker) as s:
            await s.execute(
                update(Escalation)
                .where(Escalation.alert_id == mayimoya.id)
                .values(state="active", started_at=started)
            )
        pages = len(await gw.outbox(purpose="page", alert_id=mayimoya.id))
        operator = {"Authorization": f"Bearer {await make_key(gw.sessionmaker, 'operator')}"}

        closed = await gw.client.post(
            f"/api/v1/alerts/{mavivi.id}/actions", json={"action": "false_alarm"}, headers=operator
        )

        assert closed.status_code == 200, closed.text
        heir = (await _escalations(gw))[mayimoya.id]
        assert (heir.state, heir.incident_id) == ("active", mavivi.incident_id)
        assert heir.started_at == started
        assert len(await gw.outbox(purpose="page", alert_id=mayimoya.id)) == pages
