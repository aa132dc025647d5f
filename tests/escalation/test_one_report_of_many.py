"""The operations room's word on one report of an incident is that report's: one false or
finished report among others does not close the event the others report, nor tell their
reporters that their alert is closed."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.alerts.models import Incident
from app.kit.config import Settings
from tests.escalation.support import CLA_OICHA, FOCAL_MAVIVI, Gateway, gateway, ref_in
from tests.support import make_key

pytestmark = pytest.mark.usefixtures("engine")  # tables emptied first

FOCAL_2 = "+243810000104"
FOCAL_3 = "+243810000103"


async def _a_then_b(gw: Gateway) -> tuple[str, int, int]:
    """Mavivi's report A, paged; report B joins its incident. (A's ref, B's id, incident)."""
    a_ref = ref_in((await gw.sms(FOCAL_MAVIVI, "Attaque en cours a Mavivi")).text)
    await gw.wait_for(lambda: bool(gw.sent_to(CLA_OICHA)))
    b = await gw.alert(ref_in((await gw.sms(FOCAL_2, "Attaque a Mavivi, les ADF tirent")).text))
    assert b.incident_id is not None and b.incident_id == (await gw.alert(a_ref)).incident_id
    return a_ref, b.id, b.incident_id


async def _act(gw: Gateway, alert_id: int, action: str) -> None:
    operator = {"Authorization": f"Bearer {await make_key(gw.sessionmaker, 'operator')}"}
    done = await gw.client.post(
        f"/api/v1/alerts/{alert_id}/actions", json={"action": action}, headers=operator
    )
    assert done.status_code == 200, done.text


async def test_a_false_report_among_others_leaves_their_incident_open(settings: Settings) -> None:
    async with gateway(settings) as gw:
        _a_ref, b, incident = await _a_then_b(gw)
        await _act(gw, b, "false_alarm")
        async with gw.sessionmaker() as s:
            found = await s.get(Incident, incident)
        assert found is not None and found.status == "open"
        # A third report of the live event joins it: no second incident, no second paging.
        c = await gw.alert(
            ref_in((await gw.sms(FOCAL_3, "Mavivi attaque par des hommes armes")).text)
        )
        assert c.incident_id == incident
        async with gw.sessionmaker() as s:
            assert len((await s.scalars(select(Incident))).all()) == 1


async def test_closing_the_last_open_report_closes_the_incident(settings: Settings) -> None:
    async with gateway(settings) as gw:
        a_ref, b, incident = await _a_then_b(gw)
        await _act(gw, b, "false_alarm")
        await _act(gw, (await gw.alert(a_ref)).id, "resolve")
        async with gw.sessionmaker() as s:
            found = await s.get(Incident, incident)
        assert found is not None and found.status == "closed"


async def test_resolving_one_report_tells_its_reporter_only(settings: Settings) -> None:
    async with gateway(settings) as gw:
        a_ref, b, _incident = await _a_then_b(gw)
        b_ref = (await gw.alert()).ref
        await _act(gw, b, "resolve")
        await gw.wait_for(lambda: any(b_ref in m for m in gw.sent_to(FOCAL_2)))
        assert (await gw.alert(a_ref)).status == "new"
        assert not any(a_ref in m for m in gw.sent_to(FOCAL_MAVIVI)), (
            "A's reporter told their alert is closed while nobody has taken it"
        )
