"""The runtime's escalation loop (app/flows/escalation_step.py) runs the steps once due."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select, update
from sqlalchemy.exc import DBAPIError

from app.escalation import service as escalation_service
from app.escalation.models import Escalation
from app.kit.clock import utcnow
from app.kit.config import Settings
from app.kit.db import unit_of_work
from tests.escalation.support import (
    CLA_BENI,
    FOCAL_ERINGETI,
    FOCAL_MAVIVI,
    JOC_NORD_KIVU,
    gateway,
    ref_in,
)

pytestmark = pytest.mark.usefixtures("engine")  # tables emptied first

ATTACK_MAVIVI = "Attaque en cours a Mavivi, les ADF ont tue 3 personnes"
ATTACK_ERINGETI = "Attaque en cours a Eringeti, les ADF ont tue 2 personnes"


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


async def test_an_escalation_whose_step_fails_does_not_hold_back_the_others(
    settings: Settings, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """The due steps of a pass run together. One that raises (a bug, data nobody expected)
    is rolled back alone and tried again a minute later: the other alert's JOC is paged."""
    async with gateway(settings) as gw:
        mavivi = await gw.alert(ref_in((await gw.sms(FOCAL_MAVIVI, ATTACK_MAVIVI)).text))
        eringeti = await gw.alert(ref_in((await gw.sms(FOCAL_ERINGETI, ATTACK_ERINGETI)).text))
        real = escalation_service.run_due

        async def fails_for_mavivi(
            session: Any, s: Any, escalation: Any, alert: Any, now: Any
        ) -> None:
            if alert.id == mavivi.id:
                raise RuntimeError("a step that cannot run")
            await real(session, s, escalation, alert, now)

        monkeypatch.setattr(escalation_service, "run_due", fails_for_mavivi)
        with caplog.at_level(logging.ERROR, logger="app.escalation.service"):
            assert await gw.advance(301) == 1
        await gw.wait_for(lambda: any(eringeti.ref in m for m in gw.sent_to(JOC_NORD_KIVU)))
        assert not any(mavivi.ref in m for m in gw.sent_to(JOC_NORD_KIVU))
        assert f"(alert {mavivi.id}): its step failed" in caplog.text

        monkeypatch.setattr(escalation_service, "run_due", real)
        assert await gw.advance(301) == 0, "tried again a minute later, not at once"
        assert await gw.advance(301 + 61) == 1
        await gw.wait_for(lambda: any(mavivi.ref in m for m in gw.sent_to(JOC_NORD_KIVU)))


class _Deadlock(Exception):
    """What the driver raises for a deadlock: SQLSTATE 40P01."""

    sqlstate = "40P01"


async def test_a_step_aborted_for_a_conflict_is_tried_again_within_seconds(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A step the database aborted as a deadlock's victim (another transaction held what it
    needed) had nothing wrong with it: it is tried again a second later, not a minute (the
    JOC's page of a critical attack a minute late)."""
    async with gateway(settings) as gw:
        mavivi = await gw.alert(ref_in((await gw.sms(FOCAL_MAVIVI, ATTACK_MAVIVI)).text))
        real = escalation_service.run_due

        async def aborted(session: Any, s: Any, escalation: Any, alert: Any, now: Any) -> None:
            raise DBAPIError("UPDATE escalations ...", {}, _Deadlock("deadlock detected"))

        monkeypatch.setattr(escalation_service, "run_due", aborted)
        at = utcnow() + timedelta(seconds=301)
        assert await gw.advance_to(at) == 0
        async with gw.sessionmaker() as s:
            due = await s.scalar(
                select(Escalation.next_due_at).where(Escalation.alert_id == mavivi.id)
            )
        assert due is not None and due <= at + timedelta(seconds=2), due

        monkeypatch.setattr(escalation_service, "run_due", real)
        assert await gw.advance_to(at + timedelta(seconds=2)) == 1
        await gw.wait_for(lambda: any(mavivi.ref in m for m in gw.sent_to(JOC_NORD_KIVU)))
