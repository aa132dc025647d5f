"""A provider failing 30% of the time (500, 429, answers past the client's timeout, dropped
connections): every page is sent, none twice except those whose answer never came back."""

from __future__ import annotations

import pytest

from app.kit.config import Settings
from tests.escalation.support import gateway
from tests.faults.support import Twilio, check_invariants, critical_sms, wait_settled

pytestmark = [pytest.mark.faults, pytest.mark.usefixtures("engine")]


async def test_a_provider_failing_30_percent_of_the_time_still_gets_every_page_once(
    settings: Settings,
) -> None:
    async with gateway(
        settings,
        sms_timeout_seconds=1.0,
        retry_base_seconds=0.1,
        retry_max_seconds=1.0,
        delivery_max_attempts=20,
        corroboration_window_hours=1e-4,  # each report its own incident, paged on its own
    ) as gw:
        gw.fake.chaos(0.3, hang=1.5)
        twilio = Twilio(gw.client)
        for _ in range(30):  # enough pages for every fault kind to come up (one in ~3.3)
            assert await twilio.post(critical_sms()) == 200
        await wait_settled(gw.sessionmaker, within=30)
        pages = await check_invariants(gw.sessionmaker, twilio, gw.fake)
        faults = [r.fault for r in gw.fake.requests if r.fault]
        # The stand-in deals the kinds in turn: four faults or more meet every kind.
        kinds = ["500", "429", "timeout", "reset"]
        assert faults == [kinds[i % 4] for i in range(len(faults))], faults
        assert len(faults) >= 2, faults
        assert len(faults) >= 0.15 * len(gw.fake.requests)
        print(f"{pages} pages, {len(gw.fake.requests)} requests, {len(faults)} faults")
