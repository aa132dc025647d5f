"""A focal point's reliability: counted from verification outcomes, shown, weighed, no filter."""

from __future__ import annotations

import itertools
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from app.alerts import repository as repo
from app.alerts.models import Alert
from app.alerts.reliability import Reliability, weigh
from app.alerts.status import AlertStatus
from app.kit.clock import utcnow
from app.kit.config import Settings
from app.kit.db import unit_of_work
from app.people.models import Reporter
from tests.escalation.support import CLA_BENI, FOCAL_MAVIVI, Gateway, gateway, ref_in
from tests.support import make_key

pytestmark = pytest.mark.usefixtures("engine")  # tables emptied first

FOCAL_MBAU = "+243810000104"


async def _headers(gw: Gateway, role: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {await make_key(gw.sessionmaker, role)}"}


async def _report(gw: Gateway, phone: str, text: str) -> Alert:
    return await gw.alert(ref_in((await gw.sms(phone, text)).text))


async def _act(gw: Gateway, headers: dict[str, str], alert_id: int, **body: Any) -> Any:
    response = await gw.client.post(
        f"/api/v1/alerts/{alert_id}/actions", json=body, headers=headers
    )
    assert response.status_code == 200, response.text
    return response.json()


async def _record(gw: Gateway, headers: dict[str, str], phone: str, outcomes: list[str]) -> None:
    """One alert of `phone` per outcome: confirmed, not_confirmed, unreachable, false_alarm."""
    for n, outcome in enumerate(outcomes):
        alert = await _report(gw, phone, f"Pillage au marche numero {n} de Mavivi")
        if outcome == "false_alarm":
            await _act(gw, headers, alert.id, action="false_alarm")
        else:
            await _act(gw, headers, alert.id, action="verify", how="callback", result=outcome)


async def test_counts_match_the_outcomes_recorded_over_180_days(settings: Settings) -> None:
    async with gateway(settings) as gw:
        operator = await _headers(gw, "operator")
        outcomes = ["confirmed", "confirmed", "not_confirmed", "unreachable", "false_alarm"]
        await _record(gw, operator, FOCAL_MAVIVI, outcomes)
        # A confirmed alert of 200 days ago is out of the window.
        old = await _report(gw, FOCAL_MAVIVI, "Pillage a Mavivi il y a longtemps")
        await _act(gw, operator, old.id, action="verify", result="confirmed")
        async with unit_of_work(gw.sessionmaker) as s:
            stmt = update(Alert).where(Alert.id == old.id)
            await s.execute(stmt.values(received_at=utcnow() - timedelta(days=200)))
        latest = await _report(gw, FOCAL_MAVIVI, "Hommes armes vus a Mavivi")

        detail = await gw.client.get(f"/api/v1/alerts/{latest.id}", headers=operator)
        expected = {"days": 180, "confirmed": 2, "false_alarm": 1, "not_confirmed": 1}
        assert detail.json()["reporter_reliability"] == expected
        listed = await gw.client.get("/api/v1/alerts", headers=operator)
        assert {tuple(a["reporter_reliability"].values()) for a in listed.json()["items"]} == {
            tuple(expected.values())
        }
        viewer = await gw.client.get(
            f"/api/v1/alerts/{latest.id}", headers=await _headers(gw, "viewer")
        )
        assert viewer.json()["reporter_reliability"] is None, "for the operations room only"
        admin = await _headers(gw, "admin")
        reporters = (await gw.client.get("/api/v1/reporters", headers=admin)).json()["items"]
        [mavivi] = [r for r in reporters if r["phone"] == FOCAL_MAVIVI]
        assert mavivi["reliability"] == expected
        [other] = [r for r in reporters if r["phone"] == FOCAL_MBAU]
        assert other["reliability"] == {
            **expected,
            "confirmed": 0,
            "false_alarm": 0,
            "not_confirmed": 0,
        }
        one = await gw.client.get(f"/api/v1/reporters/{mavivi['id']}", headers=admin)
        assert one.json()["reliability"] == expected


async def test_false_alarms_weigh_the_score_and_corroboration_but_never_hide_an_alert(
    settings: Settings,
) -> None:
    async with gateway(settings) as gw:
        operator = await _headers(gw, "operator")
        await _record(gw, operator, FOCAL_MAVIVI, ["false_alarm", "false_alarm", "not_confirmed"])
        first = await _report(gw, FOCAL_MBAU, "Attaque en cours a Mavivi")
        doubtful = await _report(gw, FOCAL_MAVIVI, "Attaque en cours a Mavivi maintenant")

        assert doubtful.severity == first.severity == "critical", "severity stays triage's"
        assert doubtful.score < first.score
        assert any("2 false alarm(s), 1 not confirmed → score -" in r for r in doubtful.reasons)
        assert doubtful.incident_id == first.incident_id
        assert doubtful.cap_certainty != "Observed"
        assert any("not counted as observed" in r for r in doubtful.reasons)
        # Still an alert: it is in the list, and its incident is paged as critical.
        items = (await gw.client.get("/api/v1/alerts", headers=operator)).json()["items"]
        assert doubtful.id in [a["id"] for a in items]
        await gw.wait_for(lambda: any("CRITIQUE" in t for t in gw.sent_to(CLA_BENI)))


async def test_a_trusted_reporter_scores_higher_with_the_reason(settings: Settings) -> None:
    async with gateway(settings) as gw:
        operator = await _headers(gw, "operator")
        await _record(gw, operator, FOCAL_MAVIVI, ["confirmed", "confirmed", "confirmed"])
        fresh = await _report(gw, FOCAL_MBAU, "Hommes armes vus pres de Mavivi")
        trusted = await _report(gw, FOCAL_MAVIVI, "Hommes armes vus pres de Mavivi ce soir")
        assert trusted.severity == fresh.severity
        assert trusted.score > fresh.score
        assert any("3 confirmed" in r and "score +" in r for r in trusted.reasons)


@pytest.mark.parametrize(
    ("history", "score", "moved"),
    [
        (Reliability(), 60.0, 60.0),
        (Reliability(confirmed=1, false_alarm=1), 60.0, 60.0),
        (Reliability(false_alarm=3), 60.0, 51.0),
        (Reliability(false_alarm=9), 60.0, 50.0),  # never below its band: paging is unchanged
        (Reliability(confirmed=2), 60.0, 64.0),
        (Reliability(confirmed=9), 70.0, 74.9),  # never above its band
    ],
)
def test_weigh_stays_within_the_band(history: Reliability, score: float, moved: float) -> None:
    assert weigh(score, 50.0, history)[0] == moved


async def test_counts_read_only_judged_alerts_and_equal_a_count_of_every_alert(
    session: AsyncSession,
) -> None:
    # The query reads the partial index of verdicts (confirmed, not confirmed, false alarm):
    # what it leaves out must add nothing. Every status with every verification result, two
    # reporters with some of each, one with none judged, and alerts out of the window.
    now = utcnow()
    reporters = [Reporter(phone=f"+24381000090{n}") for n in range(3)]
    session.add_all(reporters)
    await session.flush()
    results = [None, "confirmed", "not_confirmed", "unreachable"]
    rows = []
    for n, (status, result, days) in enumerate(
        itertools.product(list(AlertStatus), results, [1, 400])
    ):
        judged = result is not None or status == AlertStatus.FALSE_ALARM
        for reporter in reporters[: 1 + n // 2 % 2] if judged else reporters:
            rows.append(_alert(reporter.id, f"R-{len(rows)}", status, result, now, days))
    session.add_all(rows)
    await session.commit()

    since = now - timedelta(days=180)
    ids = [r.id for r in reporters]
    expected: dict[int, tuple[int, int, int]] = {}
    for rid in ids:
        mine = [a for a in rows if a.reporter_id == rid and a.received_at >= since]
        fa = AlertStatus.FALSE_ALARM
        c = sum(a.verified_result == "confirmed" and a.status != fa for a in mine)
        f = sum(a.status == fa for a in mine)
        nc = sum(a.verified_result == "not_confirmed" and a.status != fa for a in mine)
        if c or f or nc:
            expected[rid] = (c, f, nc)
    assert set(expected) == set(ids[:2]) and expected[ids[0]] != (0, 0, 0)
    assert await repo.reliability_counts(session, ids, since) == expected


def _alert(
    reporter_id: int, ref: str, status: AlertStatus, result: str | None, now: Any, days: int
) -> Alert:
    at = now - timedelta(days=days)
    return Alert(
        ref=ref,
        status=status,
        reporter_id=reporter_id,
        from_phone="+243810000900",
        category="ATTACK",
        severity="high",
        severity_rank=2,
        cap_urgency="Immediate",
        cap_severity="Severe",
        cap_certainty="Likely",
        verified_result=result,
        received_at=at,
        last_message_at=at,
    )
