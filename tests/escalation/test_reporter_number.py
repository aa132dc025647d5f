"""The reporter's number goes to the liaisons of the alert's zone, and nowhere else:
not to JOC officers, not to a policy's list of numbers, not to webhooks."""

from __future__ import annotations

import json
import re

import pytest

from app.kit.config import Settings
from app.outbox.models import CHANNEL_WEBHOOK
from tests.escalation.support import (
    CLA_BENI,
    CLA_OICHA,
    FOCAL_MAVIVI,
    JOC_NORD_KIVU,
    gateway,
    ref_in,
)
from tests.escalation.test_events import Receiver, _subscribe

pytestmark = pytest.mark.usefixtures("engine")  # tables emptied first

CALL_ME = "+243990000002"  # written in the report as "0990 000 002"
REPORT = "Attaque en cours a Mavivi, rappelez-moi au 0990 000 002"


def _digits(text: str) -> str:
    return re.sub(r"\D", "", text)


def _shows(text: str, phone: str) -> bool:
    """Whether `text` holds the national part of `phone`, in any spacing."""
    return _digits(phone)[-9:] in _digits(text)


async def test_zone_liaisons_get_the_numbers_the_joc_and_webhooks_do_not(
    settings: Settings, admin_headers: dict[str, str]
) -> None:
    receiver = Receiver()
    async with gateway(settings, webhook_allow_private=True) as gw:
        await _subscribe(gw, admin_headers, receiver)
        ref = ref_in((await gw.sms(FOCAL_MAVIVI, REPORT)).text)
        await gw.wait_for(lambda: bool(gw.sent_to(CLA_BENI) and gw.sent_to(CLA_OICHA)))
        for page in (gw.sent_to(CLA_BENI)[0], gw.sent_to(CLA_OICHA)[0]):
            assert _shows(page, FOCAL_MAVIVI), "a liaison of the zone calls the reporter back"
        # The policy's second step: the JOC, five minutes later.
        await gw.advance(301)
        await gw.wait_for(lambda: bool(gw.sent_to(JOC_NORD_KIVU)))
        joc = gw.sent_to(JOC_NORD_KIVU)[0]
        assert joc.startswith(ref)
        assert not _shows(joc, FOCAL_MAVIVI) and not _shows(joc, CALL_ME), joc
        await gw.wait_for(lambda: len(receiver.accepted) >= 2, within=20)
        webhooks = [d.body for d in await gw.outbox(channel=CHANNEL_WEBHOOK)]
        assert webhooks
        for body in [*webhooks, *(json.dumps(e) for e in receiver.accepted.values())]:
            assert not _shows(body, FOCAL_MAVIVI) and not _shows(body, CALL_ME), body


async def test_a_policys_list_of_numbers_gets_no_reporter_number(
    settings: Settings, admin_headers: dict[str, str]
) -> None:
    async with gateway(settings) as gw:
        policy = {
            "name": "joc-list",
            "priority": 1,
            "match": {"admin1": ["Nord-Kivu"]},
            "steps": [
                {
                    "after_seconds": 0,
                    "notify": {"phones": [JOC_NORD_KIVU, CLA_BENI]},
                    "channels": ["sms"],
                }
            ],
        }
        created = await gw.client.post("/api/v1/policies", json=policy, headers=admin_headers)
        assert created.status_code == 201, created.text
        await gw.sms(FOCAL_MAVIVI, REPORT)
        await gw.wait_for(lambda: bool(gw.sent_to(JOC_NORD_KIVU) and gw.sent_to(CLA_BENI)))
        joc = gw.sent_to(JOC_NORD_KIVU)[0]
        assert not _shows(joc, FOCAL_MAVIVI) and not _shows(joc, CALL_ME), joc
        # A liaison of Beni named in the list is still a liaison of the zone.
        assert _shows(gw.sent_to(CLA_BENI)[0], FOCAL_MAVIVI)


async def test_an_alert_with_no_zone_reaches_the_joc_without_the_number(
    settings: Settings,
) -> None:
    unknown = "+243899990055"
    async with gateway(settings) as gw:
        await gw.sms(unknown, "attaque maintenant, venez vite")
        await gw.wait_for(lambda: bool(gw.sent_to(JOC_NORD_KIVU)))
        assert not _shows(gw.sent_to(JOC_NORD_KIVU)[0], unknown)


async def test_the_setting_keeps_the_number_out_of_every_page(settings: Settings) -> None:
    async with gateway(settings, page_includes_reporter_phone=False) as gw:
        await gw.sms(FOCAL_MAVIVI, "Attaque en cours a Mavivi")
        await gw.wait_for(lambda: bool(gw.sent_to(CLA_BENI)))
        assert not _shows(gw.sent_to(CLA_BENI)[0], FOCAL_MAVIVI)
