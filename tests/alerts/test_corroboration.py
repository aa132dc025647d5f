"""Corroboration: reports of one event near one place join one incident."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.alerts.corroboration import related
from app.alerts.models import Alert, Incident
from app.escalation.models import Escalation
from app.kit.changes import Change
from tests.support import all_processed, post_twilio, sms_form, wait_until

SMS = "/webhooks/twilio/sms"


async def _report(client: httpx.AsyncClient, phone: str, body: str) -> None:
    assert (await post_twilio(client, SMS, sms_form(phone, body))).status_code == 200


async def _at_once(
    client: httpx.AsyncClient,
    sessionmaker: async_sessionmaker[AsyncSession],
    reports: list[tuple[str, str]],
) -> None:
    """Post reports all at once and wait until each is processed: by its webhook, or, past
    the few a process's webhooks process at once (KENGELE_INLINE_AT_ONCE), by the loop."""
    await asyncio.gather(*(_report(client, phone, body) for phone, body in reports))

    await wait_until(lambda: all_processed(sessionmaker), within=10, what="every report processed")


async def test_nearby_related_reports_join_one_incident(
    client: httpx.AsyncClient, demo: None, session: AsyncSession
) -> None:
    # Mavivi and Ngadi are ~4 km apart; shots heard and people killed are one event.
    await _report(client, "+243810000101", "Bcp de coups de feu entendus a Ngadi maintenant")
    await _report(client, "+243810000104", "Attaque a Ngadi, 3 morts")
    await _report(client, "+243899990009", "Attaque a Mavivi maintenant")

    [incident] = (await session.scalars(select(Incident))).all()
    assert (incident.report_count, incident.reporter_count) == (3, 3)
    assert (incident.category, incident.severity) == ("ATTACK", "critical")
    alerts = (await session.scalars(select(Alert).order_by(Alert.id))).all()
    assert {a.incident_id for a in alerts} == {incident.id}
    assert alerts[-1].cap_certainty == "Observed", "corroborated alerts are more certain"


async def test_each_report_joining_an_incident_is_a_change_pollers_see(
    client: httpx.AsyncClient, demo: None, session: AsyncSession
) -> None:
    """The incident's counts change with each report: a new version, and a number in the
    change log that the row carries (polling "after N" and the stream follow it)."""
    await _report(client, "+243810000101", "Attaque a Mavivi maintenant")
    [incident] = (await session.scalars(select(Incident))).all()
    first_seq = incident.change_seq
    await _report(client, "+243810000104", "Attaque a Mavivi, 2 morts")
    await _report(client, "+243899990009", "Attaque a Mavivi, les ADF")

    await session.rollback()  # a new snapshot: the reports committed meanwhile
    [incident] = (await session.scalars(select(Incident))).all()
    assert (incident.report_count, incident.reporter_count, incident.version) == (3, 3, 3)
    logged = (
        await session.scalars(
            select(Change.seq)
            .where(Change.event == "incident.updated", Change.entity_id == incident.id)
            .order_by(Change.seq)
        )
    ).all()
    assert len(logged) == 3 and logged[0] == first_seq
    assert incident.change_seq == logged[-1] > first_seq


@pytest.mark.postgresql  # row locks (SQLite has one writer at a time)
async def test_reports_arriving_at_once_are_each_counted_in_the_incident(
    client: httpx.AsyncClient,
    demo: None,
    session: AsyncSession,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    """Six villages report the same attack in the same second: each report joins the open
    incident and none of the counts is lost (the incident is locked as it is found)."""
    await _report(client, "+243810000101", "Attaque a Mavivi maintenant")
    await _at_once(
        client,
        sessionmaker,
        [(f"+24389999002{n}", f"Attaque a Mavivi, on entend des tirs {n}") for n in range(6)],
    )

    [incident] = (await session.scalars(select(Incident))).all()
    assert (incident.report_count, incident.reporter_count) == (7, 7)
    alerts = (await session.scalars(select(Alert))).all()
    assert len(alerts) == 7 and {a.incident_id for a in alerts} == {incident.id}


@pytest.mark.postgresql  # row locks (SQLite has one writer at a time)
async def test_villages_reporting_one_attack_in_the_same_instant_open_one_incident(
    client: httpx.AsyncClient,
    demo: None,
    session: AsyncSession,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    """No incident yet, and six villages report the same attack at once: the first report
    opens the incident, the others wait for it and join it, so it is paged once."""
    await _at_once(
        client,
        sessionmaker,
        [(f"+24389999003{n}", f"Attaque a Mavivi, on entend des tirs {n}") for n in range(6)],
    )

    incidents = (await session.scalars(select(Incident))).all()
    assert len(incidents) == 1, [i.report_count for i in incidents]
    assert (incidents[0].report_count, incidents[0].reporter_count) == (6, 6)
    escalations = (await session.scalars(select(Escalation))).all()
    assert len(escalations) == 1, "one paging for one event"


async def test_a_resend_in_the_same_instant_as_the_first_is_folded_into_it(
    client: httpx.AsyncClient, demo: None, session: AsyncSession
) -> None:
    """A focal point's phone sends the same text twice at once (a panic resend)."""
    text = "Attaque en cours a Mavivi, les ADF ont tue 3 personnes"
    await asyncio.gather(*(_report(client, "+243810000101", text) for _ in range(2)))

    [alert] = (await session.scalars(select(Alert))).all()
    assert alert.message_count == 2


async def test_far_or_unrelated_reports_open_their_own_incidents(
    client: httpx.AsyncClient, demo: None, session: AsyncSession
) -> None:
    await _report(client, "+243810000101", "Attaque a Mavivi maintenant")
    await _report(client, "+243810000103", "Attaque a Eringeti maintenant")  # ~47 km away
    await _report(client, "+243810000104", "Barua ya vitisho Mavivi")  # a threat letter
    incidents = (await session.scalars(select(Incident).order_by(Incident.id))).all()
    assert [i.category for i in incidents] == ["ATTACK", "ATTACK", "THREAT"]


async def test_greetings_open_no_incident(
    client: httpx.AsyncClient, demo: None, session: AsyncSession
) -> None:
    await _report(client, "+243810000101", "Bonjour")
    alert = await session.scalar(select(Alert))
    assert alert is not None and alert.incident_id is None


async def test_same_reporter_twice_is_one_reporter(
    client: httpx.AsyncClient, demo: None, session: AsyncSession
) -> None:
    await _report(client, "+243810000101", "Attaque a Mavivi maintenant")
    await _report(client, "+243810000101", "Ils ont tue 2 personnes a Mavivi")
    [incident] = (await session.scalars(select(Incident))).all()
    assert (incident.report_count, incident.reporter_count) == (2, 1)


def test_related_is_symmetric() -> None:
    for a, group in ((a, related(a)) for a in ("ATTACK", "CLASH", "THREAT", "FLASH")):
        assert a in group
        for b in group:
            assert a in related(b)
    assert "THREAT" not in related("ATTACK")
    assert related("OTHER") == frozenset()


def test_reports_that_could_join_one_incident_hold_a_common_area() -> None:
    """The areas two reports hold while they look for an incident meet whenever the two are
    within the radius and the window of each other (else the second could miss the first's
    new incident)."""
    import random
    from datetime import UTC, datetime, timedelta

    from app.alerts.incidents import KM_PER_DEGREE, area_keys
    from app.geo.distance import haversine_km
    from app.kit.config import Settings

    settings = Settings(corroboration_radius_km=10.0, corroboration_window_hours=6.0)
    rng = random.Random(7)
    start = datetime(2026, 12, 6, tzinfo=UTC)
    checked = 0
    for _ in range(4000):
        lat, lon = rng.uniform(-5, 5), rng.uniform(26, 31)
        at = start + timedelta(hours=rng.uniform(0, 48))
        lat2 = lat + rng.uniform(-11, 11) / KM_PER_DEGREE
        lon2 = lon + rng.uniform(-11, 11) / KM_PER_DEGREE
        at2 = at + timedelta(hours=rng.uniform(-6, 6))
        if haversine_km(lat, lon, lat2, lon2) > 10.0:
            continue
        checked += 1
        one, two = area_keys(lat, lon, at, settings), area_keys(lat2, lon2, at2, settings)
        assert set(one) & set(two), (lat, lon, at, lat2, lon2, at2)
        assert one == sorted(one) and len(one) <= 16
    assert checked > 2000
