"""The loop: human-verified alerts exported as triage labels; triage agreement in statistics."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from app.kit.config import Settings
from app.people.models import Liaison, Reporter
from tests.escalation.support import CLA_BENI, FOCAL_MAVIVI, Gateway, gateway, ref_in
from tests.support import call_form, make_key, post_twilio
from tests.test_triage_cli import _kengele

pytestmark = pytest.mark.usefixtures("engine")  # tables emptied first

CALL_ME = "+243990000002"
FOCAL_OICHA = "+243810000102"


def _digits_of_every_value(item: Any) -> list[str]:
    """The digits of every value of a JSON document, as the privacy test reads answers."""
    out, stack = [], [item]
    while stack:
        value = stack.pop()
        if isinstance(value, dict):
            stack.extend(value.values())
            stack.extend(value.keys())
        elif isinstance(value, list):
            stack.extend(value)
        else:
            out.append(re.sub(r"\D", "", str(value)))
    return out


async def _verified_history(gw: Gateway) -> dict[str, str]:
    """Alerts as an operations room leaves them; returns {what: ref}."""
    operator = {"Authorization": f"Bearer {await make_key(gw.sessionmaker, 'operator')}"}

    async def act(ref: str, **body: Any) -> None:
        alert = await gw.alert(ref)
        response = await gw.client.post(
            f"/api/v1/alerts/{alert.id}/actions", json=body, headers=operator
        )
        assert response.status_code == 200, response.text

    refs = {}
    refs["confirmed"] = ref_in(
        (await gw.sms(FOCAL_MAVIVI, "Attaque en cours a Mavivi, rappelez-moi au 0990 000 002")).text
    )
    await act(refs["confirmed"], action="verify", how="callback", result="confirmed")
    refs["corrected"] = ref_in((await gw.sms(FOCAL_OICHA, "Hommes armes vus a Oicha")).text)
    await act(refs["corrected"], action="correct", category="LOOTING")
    refs["false"] = ref_in((await gw.sms("+243810000103", "Attaque a Eringeti")).text)
    await act(refs["false"], action="false_alarm")
    refs["unverified"] = ref_in((await gw.sms("+243810000104", "Pillage a Mbau")).text)
    refs["coordinates"] = ref_in((await gw.sms("+243810000105", "Incendie a Kamango")).text)
    await act(refs["coordinates"], action="correct", place={"lat": 0.65, "lon": 29.9, "name": "x"})
    await post_twilio(gw.client, "/webhooks/twilio/voice", call_form("+243810000106"))
    refs["flash"] = (await gw.alert()).ref
    await gw.sms(CLA_BENI, f"INFO {refs['flash'][2:]} ADF ont enleve 2 personnes a Kasindi")
    return refs


async def test_export_labels_has_no_phone_number_and_round_trips_through_triage(
    settings: Settings, tmp_path: Path
) -> None:
    async with gateway(settings) as gw:
        refs = await _verified_history(gw)
        async with gw.sessionmaker() as s:
            phones = set((await s.scalars(select(Reporter.phone))).all())
            phones |= set((await s.scalars(select(Liaison.phone))).all())
        db = settings.database_url

        code, out, err = await _kengele("triage", "export-labels", database_url=db)

        assert code == 0, err
        labels = {item["id"]: item for item in map(json.loads, out.splitlines())}
        assert set(labels) == {refs["confirmed"], refs["corrected"], refs["flash"]}
        assert "3 labelled alert(s) exported; 1 left out" in err
        national = {re.sub(r"\D", "", p)[-9:] for p in phones | {CALL_ME}}
        for item in labels.values():
            leaked = [p for p in national for v in _digits_of_every_value(item) if p in v]
            assert not leaked, item
            assert {"id", "body", "lang", "expect"} <= set(item)
            assert set(item["expect"]) == {"category", "severity", "place"}
        assert labels[refs["confirmed"]]["expect"] == {
            "category": "ATTACK",
            "severity": "critical",
            "place": "mavivi",
        }
        assert "rappelez-moi au" in labels[refs["confirmed"]]["body"]
        assert labels[refs["corrected"]]["expect"]["category"] == "LOOTING"
        flash = labels[refs["flash"]]
        assert flash["body"] == "ADF ont enleve 2 personnes a Kasindi"
        assert (flash["expect"]["category"], flash["expect"]["place"]) == ("ABDUCTION", "kasindi")

        # The file reads back: `kengele triage --jsonl` and `triage eval` take its lines.
        file = tmp_path / "labels.jsonl"
        file.write_text(out, encoding="utf-8")
        code, out, err = await _kengele("triage", "--jsonl", str(file), database_url=db)
        assert code == 0, err
        results = {r["id"]: r for r in map(json.loads, out.splitlines())}
        assert set(results) == set(labels)
        for ref in (refs["confirmed"], refs["flash"]):
            got = results[ref]
            assert (got["category"], got["severity"], got["place"]["id"]) == tuple(
                labels[ref]["expect"].values()
            )
        assert results[refs["corrected"]]["category"] == "ARMED_PRESENCE", "humans disagreed"
        # `triage eval` scores the engine on them: the corrected alert is its miss.
        right = sum(results[r]["category"] == labels[r]["expect"]["category"] for r in labels)
        assert right < len(labels)
        code, report, err = await _kengele("triage", "eval", str(file), database_url=db)
        assert code == 0, err
        lines = report.splitlines()
        assert lines[0] == f"{len(labels)} messages"
        assert lines[1].startswith("category") and f"({right}/{len(labels)})" in lines[1]

        code, out, _ = await _kengele(
            "triage", "export-labels", "--since", "2999-01-01", database_url=db
        )
        assert (code, out) == (0, "")
        code, _, err = await _kengele(
            "triage", "export-labels", "--since", "yesterday", database_url=db
        )
        assert code == 2 and "since" in err


async def test_stats_show_triage_agreement_per_month(settings: Settings) -> None:
    async with gateway(settings) as gw:
        refs = await _verified_history(gw)
        viewer = {"Authorization": f"Bearer {await make_key(gw.sessionmaker, 'viewer')}"}
        stats = (await gw.client.get("/api/v1/stats", headers=viewer)).json()
        month = (await gw.alert(refs["confirmed"])).received_at.strftime("%Y-%m")
        # confirmed (unchanged), corrected (category changed), coordinates (place changed);
        # the FLASH had no words for triage to judge.
        [agreement] = stats["triage_agreement"]
        assert (agreement["month"], agreement["verified"]) == (month, 3)
        kept = {k: agreement[k]["count"] for k in ("category", "severity", "place", "all")}
        assert kept == {"category": 2, "severity": 3, "place": 2, "all": 1}
        assert agreement["all"]["share"] == pytest.approx(1 / 3)
