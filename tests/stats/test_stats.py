"""Statistics: counts, acknowledgement and resolution times, reporters, silent focal points."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.alerts.models import Alert, AlertEvent
from app.kit.clock import utcnow
from app.kit.db import unit_of_work
from app.people.models import Reporter
from app.stats.service import durations
from tests.support import post_twilio, sms_form

SMS = "/webhooks/twilio/sms"
CLA_BENI = "+243820000201"
MAVIVI, OICHA, ERINGETI, MBAU, KAMANGO, KASINDI = (f"+2438100001{n:02}" for n in range(1, 7))
RUTSHURU, KITSHANGA, MINOVA = "+243810000107", "+243810000108", "+243810000113"
UNKNOWN = "+243990000001"

T = datetime(2025, 3, 1, 8, 0, tzinfo=UTC)
DAY = {"since": "2025-03-01T00:00:00Z", "until": "2025-03-02T08:00:00Z"}
Sessions = async_sessionmaker[AsyncSession]


async def _report(client: httpx.AsyncClient, phone: str, body: str) -> httpx.Response:
    response = await post_twilio(client, SMS, sms_form(phone, body))
    assert response.status_code == 200, response.text
    return response


async def _alert_of(sessionmaker: Sessions, phone: str) -> Alert:
    """The latest alert from `phone`."""
    async with sessionmaker() as s:
        stmt = select(Alert).where(Alert.from_phone == phone).order_by(Alert.id.desc())
        alert = (await s.scalars(stmt.limit(1))).one()
    return alert


async def _received(sessionmaker: Sessions, phone: str, at: datetime) -> int:
    """Date the latest alert from `phone` and its events; returns its id."""
    alert = await _alert_of(sessionmaker, phone)
    async with unit_of_work(sessionmaker) as s:
        await s.execute(update(Alert).where(Alert.id == alert.id).values(received_at=at))
        await s.execute(update(AlertEvent).where(AlertEvent.alert_id == alert.id).values(at=at))
    return alert.id


async def _event_at(sessionmaker: Sessions, alert_id: int, action: str, at: datetime) -> None:
    """Re-date the (real) event `action` of the alert."""
    async with unit_of_work(sessionmaker) as s:
        stmt = update(AlertEvent).where(AlertEvent.alert_id == alert_id)
        stmt = stmt.where(AlertEvent.action == action)
        assert (await s.execute(stmt.values(at=at))).rowcount == 1  # type: ignore[attr-defined]


async def _operator_did(
    sessionmaker: Sessions, alert_id: int, before: str, after: str, at: datetime
) -> None:
    """What an operator's action leaves: the new status and its event (named after it)."""
    async with unit_of_work(sessionmaker) as s:
        alert = await s.get(Alert, alert_id)
        assert alert is not None and alert.status == before
        alert.status = after
        s.add(
            AlertEvent(
                alert_id=alert_id,
                at=at,
                actor="apikey:1",
                action=after,
                from_status=before,
                to_status=after,
            )
        )


async def _network(client: httpx.AsyncClient, sessionmaker: Sessions) -> None:
    """Six alerts on 1 March 2025 from 08:00 (five taken, two resolved), two older ones."""
    for phone, body in [
        (MAVIVI, "Attaque en cours a Mavivi"),
        (OICHA, "Enlevement de 3 personnes a Oicha"),
        (ERINGETI, "Attaque a Eringeti"),
        (RUTSHURU, "Rutshuru: menaces contre les enseignants"),
        (KASINDI, "Kasindi calme aujourd'hui, rien a signaler"),
        (UNKNOWN, "hommes armes vus"),
        (MINOVA, "Minova: menaces contre les enseignants"),
        (KITSHANGA, "Attaque a Kitshanga"),
    ]:
        await _report(client, phone, body)
    mavivi = await _alert_of(sessionmaker, MAVIVI)
    kasindi = await _alert_of(sessionmaker, KASINDI)
    # A liaison takes and closes two of them by SMS.
    await _report(client, CLA_BENI, f"OK {mavivi.ref}")
    await _report(client, CLA_BENI, f"FIN {mavivi.ref} calme revenu")
    await _report(client, CLA_BENI, f"FAUX {kasindi.ref}")

    ids = {}
    for minute, phone in enumerate([MAVIVI, OICHA, ERINGETI, RUTSHURU, KASINDI, UNKNOWN]):
        ids[phone] = await _received(sessionmaker, phone, T + timedelta(minutes=minute))
    await _received(sessionmaker, MINOVA, T - timedelta(days=1))
    await _received(sessionmaker, KITSHANGA, T - timedelta(days=10))

    def after(phone: str, seconds: int) -> datetime:
        return T + timedelta(minutes=list(ids).index(phone), seconds=seconds)

    await _event_at(sessionmaker, ids[MAVIVI], "acknowledged", after(MAVIVI, 60))
    await _event_at(sessionmaker, ids[MAVIVI], "resolved", after(MAVIVI, 3600))
    # Closed as a false alarm straight from new: taken then, though nobody said OK.
    await _event_at(sessionmaker, ids[KASINDI], "false_alarm", after(KASINDI, 600))
    oicha, eringeti, rutshuru = ids[OICHA], ids[ERINGETI], ids[RUTSHURU]
    await _operator_did(sessionmaker, oicha, "new", "acknowledged", after(OICHA, 120))
    await _operator_did(sessionmaker, oicha, "acknowledged", "resolved", after(OICHA, 7200))
    await _operator_did(sessionmaker, eringeti, "new", "verified", after(ERINGETI, 180))
    await _operator_did(sessionmaker, rutshuru, "new", "acknowledged", after(RUTSHURU, 240))


async def _stats(
    client: httpx.AsyncClient, headers: dict[str, str], **params: Any
) -> dict[str, Any]:
    response = await client.get("/api/v1/stats", headers=headers, params=params)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def _nonzero(counts: list[dict[str, Any]]) -> dict[str | None, int]:
    return {c["key"]: c["count"] for c in counts if c["count"]}


async def test_counts_shares_and_times(
    demo: None, client: httpx.AsyncClient, sessionmaker: Sessions, viewer_headers: dict[str, str]
) -> None:
    await _network(client, sessionmaker)
    stats = await _stats(client, viewer_headers, **DAY)

    assert stats["total"] == 6
    assert _nonzero(stats["by_status"]) == {
        "new": 1,
        "acknowledged": 1,
        "verified": 1,
        "resolved": 2,
        "false_alarm": 1,
    }
    assert [c["key"] for c in stats["by_status"]][:2] == ["resolved", "new"]
    assert _nonzero(stats["by_category"]) == {
        "ATTACK": 2,
        "ABDUCTION": 1,
        "THREAT": 1,
        "OTHER": 1,
        "ARMED_PRESENCE": 1,
    }
    assert stats["by_severity"] == [
        {"key": "critical", "count": 3},
        {"key": "high", "count": 1},
        {"key": "medium", "count": 1},
        {"key": "low", "count": 1},
    ]
    assert stats["by_territoire"] == [
        {"key": "Beni", "count": 4},
        {"key": "Rutshuru", "count": 1},
        {"key": None, "count": 1},
    ]
    assert stats["acknowledged"] == {"count": 5, "share": pytest.approx(5 / 6)}
    assert stats["resolved"] == {"count": 2, "share": pytest.approx(2 / 6)}
    # Taken after 60, 120, 180, 240 and 600 s.
    assert stats["time_to_acknowledge"] == {
        "count": 5,
        "median_seconds": 180.0,
        "p90_seconds": pytest.approx(456.0),
    }
    # Resolved after 1 and 2 hours.
    assert stats["time_to_resolve"] == {
        "count": 2,
        "median_seconds": 5400.0,
        "p90_seconds": pytest.approx(6840.0),
    }


async def test_reports_per_reporter_with_masked_numbers(
    demo: None, client: httpx.AsyncClient, sessionmaker: Sessions, viewer_headers: dict[str, str]
) -> None:
    await _network(client, sessionmaker)
    await _report(client, MAVIVI, "Des hommes armes a Mavivi ce soir")  # received now
    await _received(sessionmaker, MAVIVI, T + timedelta(hours=3))
    response = await client.get("/api/v1/stats", headers=viewer_headers, params=DAY)

    reporters = response.json()["reporters"]
    assert [(r["name"], r["count"]) for r in reporters[:1]] == [("Focal point Mavivi", 2)]
    assert {r["count"] for r in reporters[1:]} == {1}
    mavivi = reporters[0]
    assert mavivi["phone"] == "+243••••••101"
    assert (mavivi["home_place_name"], mavivi["admin2"], mavivi["role"]) == (
        "Mavivi",
        "Beni",
        "focal_point",
    )
    # A number first seen texting is counted under itself, as unregistered.
    [unknown] = [r for r in reporters if r["role"] == "unregistered"]
    assert unknown["phone"] == "+243••••••001" and unknown["home_place_id"] is None
    assert response.json()["unattributed"] == 0
    for phone in (MAVIVI, OICHA, UNKNOWN, KITSHANGA):
        assert phone not in response.text

    # A reporter struck off the register leaves their alerts without one.
    async with unit_of_work(sessionmaker) as s:
        await s.execute(delete(Reporter).where(Reporter.id == unknown["reporter_id"]))
    after = await _stats(client, viewer_headers, **DAY)
    assert after["unattributed"] == 1
    assert "unregistered" not in {r["role"] for r in after["reporters"]}


async def test_silent_focal_points(
    demo: None, client: httpx.AsyncClient, sessionmaker: Sessions, viewer_headers: dict[str, str]
) -> None:
    await _network(client, sessionmaker)
    async with unit_of_work(sessionmaker) as s:
        # Registered two months before; Baraka's focal point only on the day (not silent yet).
        await s.execute(update(Reporter).values(created_at=T - timedelta(days=60)))
        await s.execute(
            update(Reporter).where(Reporter.home_place_id == "baraka").values(created_at=T)
        )
        await s.execute(update(Reporter).where(Reporter.phone == MBAU).values(opted_out=True))
        await s.execute(update(Reporter).where(Reporter.phone == KAMANGO).values(active=False))

    silent = (await _stats(client, viewer_headers, **DAY))["silent"]
    assert silent["days"] == 7  # the setting
    # 20 focal points: 5 reported that day, Minova the day before, Kamango is inactive,
    # Baraka's was registered that day.
    assert silent["count"] == len(silent["reporters"]) == 12
    *never, kitshanga = silent["reporters"]
    assert {r["last_report_at"] for r in never} == {None}
    assert {r["days_silent"] for r in never} == {None}
    assert kitshanga["name"] == "Focal point Kitshanga"
    assert datetime.fromisoformat(kitshanga["last_report_at"]) == T - timedelta(days=10)
    assert kitshanga["days_silent"] == 11  # until is a day after T
    assert (kitshanga["phone"], kitshanga["admin2"]) == ("+243••••••108", "Masisi")
    [mbau] = [r for r in never if r["name"] == "Focal point Mbau"]
    assert mbau["opted_out"] is True
    assert "Focal point Kamango" not in {r["name"] for r in never}

    longer = (await _stats(client, viewer_headers, silent_days=12, **DAY))["silent"]
    assert (longer["days"], longer["count"]) == (12, 11)
    assert "Focal point Kitshanga" not in {r["name"] for r in longer["reporters"]}

    # By the focal point's home: in Beni only Mbau is silent (Kamango is inactive).
    beni = (await _stats(client, viewer_headers, admin2="BENI", **DAY))["silent"]
    assert [r["name"] for r in beni["reporters"]] == ["Focal point Mbau"]
    sud_kivu = (await _stats(client, viewer_headers, admin1="sud-kivu", **DAY))["silent"]
    assert sorted(r["home_place_id"] for r in sud_kivu["reporters"]) == ["uvira", "walungu"]


async def test_filters_by_province_and_territoire(
    demo: None, client: httpx.AsyncClient, sessionmaker: Sessions, viewer_headers: dict[str, str]
) -> None:
    await _network(client, sessionmaker)

    beni = await _stats(client, viewer_headers, admin2="BENI", **DAY)
    assert (beni["admin2"], beni["total"]) == ("BENI", 4)
    assert beni["by_territoire"] == [{"key": "Beni", "count": 4}]
    assert beni["resolved"] == {"count": 2, "share": 0.5}
    # Taken after 60, 120, 180 and 600 s.
    assert beni["time_to_acknowledge"] == {
        "count": 4,
        "median_seconds": 150.0,
        "p90_seconds": pytest.approx(474.0),
    }
    assert {r["admin2"] for r in beni["reporters"]} == {"Beni"}

    nord_kivu = await _stats(client, viewer_headers, admin1="nord-kivu", **DAY)
    assert _nonzero(nord_kivu["by_territoire"]) == {"Beni": 4, "Rutshuru": 1}

    quiet = await _stats(client, viewer_headers, admin2="Masisi", **DAY)
    assert quiet["total"] == 0
    assert _nonzero(quiet["by_status"]) == {} and len(quiet["by_status"]) == 5
    assert quiet["acknowledged"] == {"count": 0, "share": None}
    assert quiet["time_to_resolve"] == {"count": 0, "median_seconds": None, "p90_seconds": None}
    assert quiet["reporters"] == []


async def test_window_bounds_and_time_zones(
    demo: None, client: httpx.AsyncClient, sessionmaker: Sessions, viewer_headers: dict[str, str]
) -> None:
    await _network(client, sessionmaker)

    naive = await _stats(
        client, viewer_headers, since="2025-03-01T00:00:00", until="2025-03-02T08:00:00"
    )
    assert datetime.fromisoformat(naive["since"]) == datetime(2025, 3, 1, tzinfo=UTC)
    assert naive["total"] == 6
    # [since, until): alerts came at 08:00, 08:01, ... UTC; 10:02 in Goma's zone is 08:02.
    day = "2025-03-01T00:00:00Z"
    assert (await _stats(client, viewer_headers, since=day, until="2025-03-01T10:00:00+02:00"))[
        "total"
    ] == 0
    assert (await _stats(client, viewer_headers, since=day, until="2025-03-01T10:02:00+02:00"))[
        "total"
    ] == 2
    assert (await _stats(client, viewer_headers, since="2025-03-01T08:03:00Z"))["total"] == 3


async def test_default_window_is_the_last_30_days(
    demo: None, client: httpx.AsyncClient, sessionmaker: Sessions, viewer_headers: dict[str, str]
) -> None:
    await _report(client, MAVIVI, "Attaque en cours a Mavivi")
    await _report(client, OICHA, "Attaque a Oicha")
    await _received(sessionmaker, OICHA, utcnow() - timedelta(days=31))

    before = utcnow()
    stats = await _stats(client, viewer_headers)
    since, until = (datetime.fromisoformat(stats[k]) for k in ("since", "until"))
    assert before <= until <= utcnow()
    assert until - since == timedelta(days=30)
    assert stats["total"] == 1 and stats["reporters"][0]["name"] == "Focal point Mavivi"


@pytest.mark.parametrize(
    "params",
    [
        {"since": "2025-03-01T00:00:00Z", "until": "2025-03-01T00:00:00Z"},
        {"since": "2025-03-02T00:00:00Z", "until": "2025-03-01T00:00:00Z"},
        {"since": "2999-01-01T00:00:00Z"},  # after now, the default until
    ],
)
async def test_since_must_come_before_until(
    client: httpx.AsyncClient, viewer_headers: dict[str, str], params: dict[str, str]
) -> None:
    response = await client.get("/api/v1/stats", headers=viewer_headers, params=params)
    assert response.status_code == 422
    assert response.json()["error"] == "ValidationError"
    assert response.json()["detail"][0]["loc"] == ["query", "since"]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"since": "last week"}, "since"),
        ({"since": "0001-01-01T00:00:00+02:00"}, "since"),  # before year 1 in UTC
        ({"until": "9999-12-31T23:59:59-02:00"}, "until"),
        ({"silent_days": "0"}, "silent_days"),
        ({"admin2": "Beni\x00"}, "admin2"),
    ],
)
async def test_bad_parameters_are_named(
    client: httpx.AsyncClient, viewer_headers: dict[str, str], params: dict[str, str], field: str
) -> None:
    response = await client.get("/api/v1/stats", headers=viewer_headers, params=params)
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["query", field]


async def test_the_earliest_window_stops_at_year_1(
    client: httpx.AsyncClient, viewer_headers: dict[str, str]
) -> None:
    stats = await _stats(client, viewer_headers, until="0001-01-10T00:00:00Z", silent_days=3650)
    assert datetime.fromisoformat(stats["since"]) == datetime.min.replace(tzinfo=UTC)
    assert stats["total"] == 0


async def test_stats_need_a_key(client: httpx.AsyncClient) -> None:
    assert (await client.get("/api/v1/stats")).status_code == 401


def test_durations_of_one_alert_and_of_skewed_clocks() -> None:
    one = durations([(T, T + timedelta(seconds=42))])
    assert (one.count, one.median_seconds, one.p90_seconds) == (1, 42.0, 42.0)
    # An event stamped before the receipt (another process's clock) counts as instant.
    skewed = durations([(T, T - timedelta(seconds=5)), (T, T + timedelta(seconds=10))])
    assert (skewed.median_seconds, skewed.p90_seconds) == (5.0, 9.0)
