"""A step run late (the gateway or its database was away) pages once: repeats missed meanwhile
are not sent in a burst, and the next keeps the policy's interval from that page."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from app.escalation.models import Escalation
from app.kit.config import Settings
from tests.escalation.support import CLA_BENI, CLA_OICHA, FOCAL_MAVIVI, JOC_NORD_KIVU, gateway

pytestmark = pytest.mark.usefixtures("engine")  # tables emptied first


async def test_repeats_missed_while_the_gateway_was_away_are_not_sent_in_a_burst(
    settings: Settings,
) -> None:
    """critical-default: liaisons at once, the JOC at 5 min, everyone again every 10 min,
    three times. The gateway is back 30 minutes after the first page (a power cut at the
    office, the database away): its JOC step runs late, once. Catching up the repeats due at
    15 and 25 minutes in the same second would send the liaisons and the JOC three copies of
    one page at once, and spend the repeats that were to keep the alert in front of them."""
    async with gateway(settings) as gw:
        await gw.sms(FOCAL_MAVIVI, "Attaque en cours a Mavivi")
        await gw.wait_for(lambda: bool(gw.sent_to(CLA_OICHA)))
        async with gw.sessionmaker() as s:
            started = await s.scalar(select(Escalation.started_at))
        assert started is not None
        back = started + timedelta(minutes=30)

        assert await gw.advance_to(back) == 1

        assert len(await gw.outbox(recipient=JOC_NORD_KIVU, purpose="page")) == 1
        assert len(await gw.outbox(recipient=CLA_BENI, purpose="page")) == 1
        async with gw.sessionmaker() as s:
            escalation = await s.scalar(select(Escalation))
        assert escalation is not None
        assert (escalation.state, escalation.repeats_done) == ("active", 0)
        assert escalation.next_due_at == back + timedelta(minutes=10)

        # Then the three repeats, ten minutes apart, and the paging ends.
        for minutes in (39, 40, 50, 60, 61, 120):
            await gw.advance_to(back + timedelta(minutes=minutes))
        assert len(await gw.outbox(recipient=JOC_NORD_KIVU, purpose="page")) == 4
        assert len(await gw.outbox(recipient=CLA_BENI, purpose="page")) == 4
        async with gw.sessionmaker() as s:
            escalation = await s.scalar(select(Escalation))
        assert escalation is not None
        assert (escalation.state, escalation.repeats_done) == ("done", 3)
