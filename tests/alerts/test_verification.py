"""Verification with an outcome, and the call-back that describes a FLASH (through the API)."""

from __future__ import annotations

from typing import Any

import pytest

from app.kit.config import Settings
from tests.escalation.support import FOCAL_MAVIVI, Gateway, gateway, ref_in
from tests.support import call_form, make_key, post_twilio

pytestmark = pytest.mark.usefixtures("engine")  # tables emptied first


async def _act(gw: Gateway, alert_id: int, **body: Any) -> Any:
    headers = {"Authorization": f"Bearer {await make_key(gw.sessionmaker, 'operator')}"}
    return await gw.client.post(f"/api/v1/alerts/{alert_id}/actions", json=body, headers=headers)


@pytest.mark.parametrize(
    ("how", "result", "status", "action"),
    [
        ("callback", "confirmed", "verified", "verified"),
        ("patrol", "not_confirmed", "acknowledged", "verification_not_confirmed"),
        ("callback", "unreachable", "acknowledged", "verification_unreachable"),
    ],
)
async def test_verify_records_how_and_the_result(
    settings: Settings, how: str, result: str, status: str, action: str
) -> None:
    async with gateway(settings) as gw:
        alert = await gw.alert(ref_in((await gw.sms(FOCAL_MAVIVI, "Pillage a Mavivi")).text))
        response = await _act(gw, alert.id, action="verify", how=how, result=result)
        assert response.status_code == 200, response.text
        read = response.json()
        assert read["status"] == status
        assert (read["verification"]["how"], read["verification"]["result"]) == (how, result)
        [event] = [e for e in read["events"] if e["action"] == action]
        assert event["detail"] == {"how": how, "result": result}
        assert read["paging"]["state"] == "stopped", "someone is on it"


async def test_how_and_result_only_go_with_verify(settings: Settings) -> None:
    async with gateway(settings) as gw:
        alert = await gw.alert(ref_in((await gw.sms(FOCAL_MAVIVI, "Pillage a Mavivi")).text))
        response = await _act(gw, alert.id, action="acknowledge", result="confirmed")
        assert response.status_code == 422 and "verify" in response.text
        response = await _act(gw, alert.id, action="verify", result="maybe")
        assert response.status_code == 422 and "result" in response.text


async def test_a_flash_verified_with_what_the_call_back_told_is_triaged_and_joined(
    settings: Settings,
) -> None:
    async with gateway(settings) as gw:
        oicha = await gw.alert(ref_in((await gw.sms("+243810000102", "Attaque ADF a Oicha")).text))
        await post_twilio(gw.client, "/webhooks/twilio/voice", call_form(FOCAL_MAVIVI))
        flash = await gw.alert()
        assert flash.category == "FLASH"

        response = await _act(
            gw,
            flash.id,
            action="verify",
            how="callback",
            result="confirmed",
            summary="Les ADF attaquent Oicha maintenant, deux personnes enlevees",
        )

        assert response.status_code == 200, response.text
        read = response.json()
        assert read["status"] == "verified"
        assert (read["category"], read["place"]["id"]) == ("ATTACK", "oicha")
        assert read["numbers"]["abducted"] == 2
        assert read["incident_id"] == oicha.incident_id
        assert read["correction"]["original"]["category"] == "FLASH"
        assert read["summary"].startswith("Les ADF attaquent Oicha")
        assert "described" in [e["action"] for e in read["events"]]


async def test_a_category_given_with_the_call_back_wins_over_triage(settings: Settings) -> None:
    async with gateway(settings) as gw:
        await post_twilio(gw.client, "/webhooks/twilio/voice", call_form(FOCAL_MAVIVI))
        flash = await gw.alert()
        response = await _act(
            gw,
            flash.id,
            action="verify",
            how="callback",
            summary="des hommes sont venus a Mavivi cette nuit",
            category="LOOTING",
        )
        assert response.status_code == 200, response.text
        assert response.json()["category"] == "LOOTING"
