"""The runtime's escalation loop (app/flows/escalation_step.py) runs the steps once due."""

from __future__ import annotations

import pytest
from sqlalchemy import update

from app.escalation.models import Escalation
from app.kit.clock import utcnow
from app.kit.config import Settings
from app.kit.db import unit_of_work
from tests.escalation.support import CLA_BENI, FOCAL_MAVIVI, JOC_NORD_KIVU, gateway

pytestmark = pytest.mark.usefixtures("engine")  # tables emptied first


async def test_the_escalation_loop_pages_the_next_step_once_it_is_due(settings: Settings) -> None:
    async with gateway(settings, worker_poll_seconds=0.2) as gw:
        runtime = gw.app.state.runtime
        assert "escalation" in runtime.supervisor.loops
        await gw.sms(FOCAL_MAVIVI, "Attaque en cours a Mavivi, les ADF ont tue 3 personnes")
        await gw.wait_for(lambda: bool(gw.sent_to(CLA_BENI)))
        # The next step (the JOC) waits for the policy's minutes: its loop sleeps meanwhile.
        assert 0 < await runtime.escalations.seconds_to_next() <= 0.2
        assert not gw.sent_to(JOC_NORD_KIVU)

        async with unit_of_work(gw.sessionmaker) as session:
            await session.execute(update(Escalation).values(next_due_at=utcnow()))

        await gw.wait_for(lambda: bool(gw.sent_to(JOC_NORD_KIVU)), within=5.0)
