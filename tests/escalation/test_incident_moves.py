"""An alert that leaves its incident (detached by the operations room as another event, or
moved far by a correction) takes its paging with it, and the event left behind is paged as
its own: neither is left to a paging that is not theirs."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.alerts.models import Alert
from app.escalation.models import Escalation
from app.kit.config import Settings
from tests.escalation.support import CLA_BENI, CLA_OICHA, FOCAL_MAVIVI, Gateway, gateway, ref_in
from tests.support import make_key

pytestmark = pytest.mark.usefixtures("engine")  # tables emptied first

FOCAL_2 = "+243810000104"
FOCAL_3 = "+243810000103"


async def _escalations(gw: Gateway) -> dict[int, Escalation]:
    async with gw.sessionmaker() as s:
        return {e.alert_id: e for e in (await s.scalars(select(Escalation))).all()}


async def _two_reports_of_one_event(gw: Gateway, second: str) -> tuple[Alert, int, int]:
    """Mavivi's report, paged; a second report joins its incident. (A, B's id, the
    incident's id)."""
    a_ref = ref_in((await gw.sms(FOCAL_MAVIVI, "Attaque en cours a Mavivi")).text)
    await gw.wait_for(lambda: bool(gw.sent_to(CLA_OICHA)))
    b_ref = ref_in((await gw.sms(FOCAL_2, second)).text)
    a, b = await gw.alert(a_ref), await gw.alert(b_ref)
    assert a.incident_id == b.incident_id and a.incident_id is not None
    assert b.id not in await _escalations(gw), "counted on A's paging, not paged apart"
    return a, b.id, a.incident_id


async def test_a_report_detached_as_another_event_is_paged_as_its_own(settings: Settings) -> None:
    async with gateway(settings) as gw:
        operator = {"Authorization": f"Bearer {await make_key(gw.sessionmaker, 'operator')}"}
        _a, b, incident = await _two_reports_of_one_event(
            gw, "Enlevement a Mavivi, 4 femmes prises"
        )
        detached = await gw.client.post(
            f"/api/v1/incidents/{incident}/alerts/{b}/detach", headers=operator
        )
        assert detached.status_code == 200, detached.text

        escalations = await _escalations(gw)
        assert b in escalations and escalations[b].incident_id == detached.json()["id"]
        assert await gw.outbox(alert_id=b, purpose="page"), "the other event is paged"


async def test_when_the_taken_lead_is_detached_the_event_it_leaves_is_paged(
    settings: Settings,
) -> None:
    """A liaison took A; the operations room finds A was another event. The reports left
    behind were counted on A's paging, which is taken: their event is now nobody's."""
    async with gateway(settings) as gw:
        operator = {"Authorization": f"Bearer {await make_key(gw.sessionmaker, 'operator')}"}
        a, b, incident = await _two_reports_of_one_event(gw, "Attaque a Mavivi, les ADF tirent")
        await gw.sms(CLA_BENI, f"OK {a.ref[2:]}")
        detached = await gw.client.post(
            f"/api/v1/incidents/{incident}/alerts/{a.id}/detach", headers=operator
        )
        assert detached.status_code == 200, detached.text

        escalations = await _escalations(gw)
        assert escalations[a.id].incident_id == detached.json()["id"], "A's paging went with A"
        assert b in escalations and escalations[b].incident_id == incident
        assert await gw.outbox(alert_id=b, purpose="page"), "the event left behind is paged"
        # A third report of that event is counted on B's paging, not on A's (taken).
        counted_on_a = escalations[a.id].new_reports
        await gw.sms(FOCAL_3, "Mavivi attaque par des hommes armes")
        escalations = await _escalations(gw)
        assert escalations[b].new_reports == 1
        assert escalations[a.id].new_reports == counted_on_a


async def test_when_the_taken_lead_is_moved_far_the_event_it_leaves_is_paged(
    settings: Settings,
) -> None:
    """The same when a liaison corrects the place of the alert they took to a village far
    away (LIEU): the reports of Mavivi are an event nobody has taken."""
    async with gateway(settings) as gw:
        a, b, incident = await _two_reports_of_one_event(gw, "Attaque a Mavivi, les ADF tirent")
        await gw.sms(CLA_BENI, f"OK {a.ref[2:]}")
        await gw.sms(CLA_BENI, f"LIEU {a.ref[2:]} Eringeti")
        moved = await gw.alert(a.ref)
        assert moved.incident_id != incident

        escalations = await _escalations(gw)
        assert escalations[a.id].incident_id == moved.incident_id
        assert b in escalations and escalations[b].incident_id == incident
        assert await gw.outbox(alert_id=b, purpose="page"), "the event left behind is paged"


async def _correct_place(gw: Gateway, alert_id: int, place: str) -> None:
    operator = {"Authorization": f"Bearer {await make_key(gw.sessionmaker, 'operator')}"}
    done = await gw.client.post(
        f"/api/v1/alerts/{alert_id}/actions",
        json={"action": "correct", "place": place},
        headers=operator,
    )
    assert done.status_code == 200, done.text


async def test_a_report_moved_into_an_event_paged_already_is_counted_there(
    settings: Settings,
) -> None:
    """B joined Mavivi's event; corrected to Eringeti, where another event is being paged,
    it is counted on that paging: the liaisons are not paged twice for one event."""
    async with gateway(settings) as gw:
        eringeti = await gw.alert(
            ref_in((await gw.sms(FOCAL_3, "Attaque en cours a Eringeti")).text)
        )
        _a, b, _incident = await _two_reports_of_one_event(gw, "Attaque a Mavivi, les ADF tirent")
        await _correct_place(gw, b, "Eringeti")

        moved = await gw.alert(await _ref_of(gw, b))
        assert moved.incident_id == eringeti.incident_id
        escalations = await _escalations(gw)
        assert b not in escalations and escalations[eringeti.id].new_reports == 1
        assert await gw.outbox(alert_id=b, purpose="page") == []


async def test_an_alert_moved_into_an_event_whose_false_lead_handed_its_paging_on_is_counted(
    settings: Settings,
) -> None:
    """Mavivi's lead was called a false alarm, its other report still new: nobody had taken
    the event, so that report now leads its paging. An alert corrected to Mavivi joins that
    incident and is counted on that paging, not paged apart."""
    async with gateway(settings) as gw:
        operator = {"Authorization": f"Bearer {await make_key(gw.sessionmaker, 'operator')}"}
        a, b, _incident = await _two_reports_of_one_event(gw, "Attaque a Mavivi, les ADF tirent")
        closed = await gw.client.post(
            f"/api/v1/alerts/{a.id}/actions", json={"action": "false_alarm"}, headers=operator
        )
        assert closed.status_code == 200, closed.text
        assert (await _escalations(gw))[b].state == "active", "the event's other report leads"
        c = await gw.alert(ref_in((await gw.sms(FOCAL_3, "Attaque en cours a Eringeti")).text))
        await _correct_place(gw, c.id, "Mavivi")

        escalations = await _escalations(gw)
        assert escalations[c.id].state == "stopped"
        assert escalations[b].state == "active" and escalations[b].new_reports == 1


async def test_an_alert_moved_into_an_event_whose_lead_was_closed_keeps_its_paging(
    settings: Settings,
) -> None:
    """Mavivi's event was taken (an OK to its second report), then its lead called a false
    alarm: the other report, taken, leads no paging. An alert corrected to Mavivi joins that
    incident: the closed lead's paging cannot count it, so it keeps its own."""
    async with gateway(settings) as gw:
        operator = {"Authorization": f"Bearer {await make_key(gw.sessionmaker, 'operator')}"}
        a, b, _incident = await _two_reports_of_one_event(gw, "Attaque a Mavivi, les ADF tirent")
        taken = await gw.client.post(
            f"/api/v1/alerts/{b}/actions", json={"action": "acknowledge"}, headers=operator
        )
        assert taken.status_code == 200, taken.text
        closed = await gw.client.post(
            f"/api/v1/alerts/{a.id}/actions", json={"action": "false_alarm"}, headers=operator
        )
        assert closed.status_code == 200, closed.text
        assert b not in await _escalations(gw), "the taken report is paged by nobody"
        c = await gw.alert(ref_in((await gw.sms(FOCAL_3, "Attaque en cours a Eringeti")).text))
        await _correct_place(gw, c.id, "Mavivi")

        escalations = await _escalations(gw)
        assert escalations[c.id].state == "active", "a new alert nobody pages"


async def test_a_report_counted_on_another_paging_then_detached_is_paged_again(
    settings: Settings,
) -> None:
    """Eringeti's alert, corrected to Mavivi, was counted on Mavivi's paging (its own
    stopped). Detached again as another event, nobody has taken it: it is paged."""
    async with gateway(settings) as gw:
        operator = {"Authorization": f"Bearer {await make_key(gw.sessionmaker, 'operator')}"}
        a_ref = ref_in((await gw.sms(FOCAL_MAVIVI, "Attaque en cours a Mavivi")).text)
        await gw.wait_for(lambda: bool(gw.sent_to(CLA_OICHA)))
        c = await gw.alert(ref_in((await gw.sms(FOCAL_3, "Attaque en cours a Eringeti")).text))
        await _correct_place(gw, c.id, "Mavivi")
        a = await gw.alert(a_ref)
        assert (await _escalations(gw))[c.id].state == "stopped"

        detached = await gw.client.post(
            f"/api/v1/incidents/{a.incident_id}/alerts/{c.id}/detach", headers=operator
        )
        assert detached.status_code == 200, detached.text
        escalations = await _escalations(gw)
        assert escalations[c.id].state == "active"
        assert escalations[c.id].incident_id == detached.json()["id"]


async def _ref_of(gw: Gateway, alert_id: int) -> str:
    async with gw.sessionmaker() as s:
        found = await s.get(Alert, alert_id)
    assert found is not None
    return found.ref


async def _into_a_taken_false_event(gw: Gateway) -> tuple[Alert, Alert, dict[str, str]]:
    """A (Mavivi) is being paged as its own event. Mayimoya's event: F leads it, G reports it
    too; F was taken, then called a false alarm (nothing handed on: the event was in hand; its
    incident stays open with G). A's place is put right as Mayimoya: it joins that event.
    (A, F, an operator's headers)."""
    operator = {"Authorization": f"Bearer {await make_key(gw.sessionmaker, 'operator')}"}
    a = await gw.alert(ref_in((await gw.sms(FOCAL_MAVIVI, "Attaque en cours a Mavivi")).text))
    f = await gw.alert(ref_in((await gw.sms(FOCAL_2, "Attaque en cours a Mayimoya")).text))
    g = await gw.alert(ref_in((await gw.sms(FOCAL_3, "Attaque en cours a Mayimoya")).text))
    assert g.incident_id == f.incident_id != a.incident_id
    for action in ("acknowledge", "false_alarm"):
        done = await gw.client.post(
            f"/api/v1/alerts/{f.id}/actions", json={"action": action}, headers=operator
        )
        assert done.status_code == 200, done.text
    await _correct_place(gw, a.id, "Mayimoya")
    assert (await gw.alert(a.ref)).incident_id == f.incident_id
    return a, f, operator


async def test_a_report_moved_into_an_event_whose_paging_lead_is_closed_leads_it(
    settings: Settings,
) -> None:
    """A, moved into Mayimoya's event (whose paging was F's, taken and false), goes on being
    paged: its paging is the event's now. A later report of Mayimoya is counted on it, not
    paged apart beside it."""
    async with gateway(settings) as gw:
        a, f, _ = await _into_a_taken_false_event(gw)
        assert (await _escalations(gw))[a.id].state == "active"

        n = await gw.alert(
            ref_in((await gw.sms(FOCAL_2, "Attaque en cours a Mayimoya, ils tirent")).text)
        )

        assert n.incident_id == f.incident_id
        escalations = await _escalations(gw)
        assert n.id not in escalations, "counted on A's paging"
        assert escalations[a.id].new_reports == 1
