"""What an alert shows of its paging is the paging its incident's reports are counted on."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.escalation import repository as escalations
from app.escalation.models import Escalation
from app.kit.config import Settings
from app.kit.db import unit_of_work
from tests.escalation.support import CLA_BENI, FOCAL_MAVIVI, gateway, ref_in
from tests.support import make_key

pytestmark = pytest.mark.usefixtures("engine")  # tables emptied first


async def test_a_report_shows_the_paging_its_incident_s_reports_are_counted_on(
    settings: Settings,
) -> None:
    """An incident can hold a stopped escalation beside its running one (a report's own
    paging, stopped when it was counted on another's). A report of it without a paging of its
    own shows the incident's, the newest (`of_incident`): on PostgreSQL, where a row written
    again moves in the table, the rows' order used to decide which one was shown."""
    async with gateway(settings) as gw:
        first = ref_in((await gw.sms(FOCAL_MAVIVI, "Hommes armes vus a Mavivi")).text)
        await gw.wait_for(lambda: len(gw.sent_to(CLA_BENI)) == 1)
        second = ref_in((await gw.sms("+243810000104", "Hommes armes a Mavivi")).text)
        third = ref_in((await gw.sms("+243810000103", "Mavivi, hommes armes")).text)
        a1, a2, a3 = [await gw.alert(r) for r in (first, second, third)]
        assert a1.incident_id == a2.incident_id == a3.incident_id is not None
        async with unit_of_work(gw.sessionmaker) as session:
            running = await session.scalar(select(Escalation))
            assert running is not None
            # The second report's own paging, stopped when it was counted on the first's
            # (as a correction that moves a report into a paged incident leaves it).
            session.add(
                Escalation(
                    alert_id=a2.id,
                    incident_id=a1.incident_id,
                    policy_name=running.policy_name,
                    policy=running.policy,
                    severity=running.severity,
                    state="stopped",
                    stopped_reason=f"paged with alert {a1.id}",
                )
            )
        for _ in range(3):  # the running paging's row written again (its counts)
            async with unit_of_work(gw.sessionmaker) as session:
                stmt = select(Escalation).where(Escalation.alert_id == a1.id)
                running = await session.scalar(stmt)
                assert running is not None
                running.new_reports += 1
        async with gw.sessionmaker() as session:
            counted_on = await escalations.of_incident(session, a1.incident_id)
        assert counted_on is not None
        viewer = {"Authorization": f"Bearer {await make_key(gw.sessionmaker, 'viewer')}"}
        listed = (await gw.client.get("/api/v1/alerts", headers=viewer)).json()["items"]
        shown = {item["ref"]: item["paging"]["state"] for item in listed}
        assert shown[third] == counted_on.state
        assert (shown[first], shown[second]) == ("active", "stopped"), "their own"
