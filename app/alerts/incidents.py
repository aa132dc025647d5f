"""Alerts joined into incidents: the nearest related open incident within range and time
(corroboration), or a new one; an incident's counts when its alerts change."""

from __future__ import annotations

from datetime import datetime, timedelta
from hashlib import blake2b
from math import cos, floor, radians

from sqlalchemy.ext.asyncio import AsyncSession

from app.alerts import corroboration
from app.alerts import repository as repo
from app.alerts.models import Alert, Incident
from app.alerts.status import OPEN, AlertStatus
from app.geo.distance import haversine_km
from app.kit import hooks
from app.kit.config import Settings
from app.kit.crypto import lookup_hash

KM_PER_DEGREE = 111.32
_OPENED = "alerts.incidents.opened"


async def open_incident_for(session: AsyncSession, alert: Alert) -> Incident:
    """A new incident of which this alert is the only report."""
    incident = Incident(
        category=alert.category,
        severity=alert.severity,
        severity_rank=alert.severity_rank,
        status="open" if alert.status in OPEN else "closed",
        place_id=alert.place_id,
        place_name=alert.place_name,
        lat=alert.lat,
        lon=alert.lon,
        admin1=alert.admin1,
        admin2=alert.admin2,
        place_level=alert.place_level,
        first_at=alert.received_at,
        last_at=alert.received_at,
        report_count=1,
        # Numbers, as a joining report counts them: an alert entered by hand without one
        # is a report, not a reporter.
        reporter_count=1 if alert.from_phone else 0,
    )
    session.add(incident)
    await session.flush()
    hooks.transaction(session).setdefault(_OPENED, set()).add(incident.id)
    alert.incident_id = incident.id
    return incident


def opened_here(session: AsyncSession, incident_id: int) -> bool:
    """Whether this transaction opened the incident (nothing else refers to it yet)."""
    return incident_id in hooks.transaction(session).get(_OPENED, ())


async def corroborate(session: AsyncSession, alert: Alert, settings: Settings) -> Incident | None:
    """Join a stored alert to the nearest related open incident within range (its trail
    says so), or open a new one."""
    incident, joined = await join_incident(session, alert, settings)
    if joined and incident is not None:
        corroborated(session, alert, incident)
    return incident


async def join_incident(
    session: AsyncSession, alert: Alert, settings: Settings
) -> tuple[Incident | None, bool]:
    """The incident of an alert, stored or not yet: the nearest related open one within
    range, its counts taken (True), or a new one (False); None if its category makes none.

    Run before a new alert is inserted, its row goes in with the incident and the final
    certainty at once; `corroborated` writes the trail's event once the alert has its id.
    """
    if not corroboration.joins_incidents(alert.category):
        return None, False
    incident = None
    if alert.lat is not None and alert.lon is not None:
        # Locked as found: concurrent reports count one by one.
        incident = await _nearest_incident(session, alert, settings)
        if incident is None:
            # Before the areas are held (an incident is locked before them, as a correction
            # locks its alert's incident before it looks for another).
            incident = await _absorbing_incident(session, alert, settings)
        if incident is None:
            # None to join: reports of one area and time that find none look again one
            # after the other, so that of two villages reporting at once, the second joins
            # the incident the first opened instead of opening its own.
            keys = area_keys(alert.lat, alert.lon, alert.received_at, settings)
            if await repo.hold_areas(session, keys):
                incident = await _nearest_incident(session, alert, settings)
    if incident is None or incident.status != "open":
        return await open_incident_for(session, alert), False
    phone_hash = alert.from_phone_hash or (
        lookup_hash(alert.from_phone) if alert.from_phone else None
    )
    alert.incident_id = incident.id
    rises = alert.severity_rank > incident.severity_rank
    await repo.count_joining_report(
        session,
        incident,
        phone_hash=phone_hash,
        but=alert.id,
        report_count=incident.report_count + 1,
        last_at=max(incident.last_at, alert.received_at),
        category=corroboration.leading_category(incident.category, alert.category),
        severity=alert.severity if rises else incident.severity,
        severity_rank=alert.severity_rank if rises else incident.severity_rank,
    )
    return incident, True


def corroborated(session: AsyncSession, alert: Alert, incident: Incident) -> None:
    """The event of a stored alert joining an incident."""
    repo.add_event(
        session,
        alert,
        actor="system",
        action="corroborated",
        detail={"incident_id": incident.id, "reports": incident.report_count},
    )


def area_keys(lat: float, lon: float, at: datetime, settings: Settings) -> list[int]:
    """The areas a report at (lat, lon, at) holds while it looks for an incident: the cells
    of a grid (2 × the radius a side) that meet the box it searches, each in the window's
    stretch of time `at` falls in and the one before. Two reports that could join the same
    incident (within the radius and the window of each other) share one: the cell of one
    lies in the other's box, in a stretch both hold. As sorted 32-bit numbers."""
    radius = settings.corroboration_radius_km
    lat_delta = radius / KM_PER_DEGREE
    lon_delta = radius / (KM_PER_DEGREE * max(cos(radians(lat)), 0.01))
    side = 2 * lat_delta
    stretch = int(at.timestamp() // (settings.corroboration_window_hours * 3600))
    rows = range(floor((lat - lat_delta) / side), floor((lat + lat_delta) / side) + 1)
    cols = range(floor((lon - lon_delta) / side), floor((lon + lon_delta) / side) + 1)
    return sorted(
        {_key(row, col, t) for row in rows for col in cols for t in (stretch - 1, stretch)}
    )


def _key(row: int, col: int, stretch: int) -> int:
    digest = blake2b(f"{row},{col},{stretch}".encode(), digest_size=4).digest()
    return int.from_bytes(digest, "big", signed=True)


async def _absorbing_incident(
    session: AsyncSession, alert: Alert, settings: Settings
) -> Incident | None:
    """With no open incident to join: the open incident active within the window into which
    an operator merged the nearest related incident within range, locked (the operations
    room found the two one event, so a later report of the absorbed one's place is a report
    of it, as long as the event goes on)."""
    merged = await _nearest_incident(session, alert, settings, merged=True)
    if merged is None or merged.merged_into_id is None:
        return None
    return await repo.lock_incident(session, merged.merged_into_id)


async def _nearest_incident(
    session: AsyncSession, alert: Alert, settings: Settings, *, merged: bool = False
) -> Incident | None:
    """The nearest related open incident within range and time, locked (the others found in
    the box stay locked too: usually there are none); or, `merged`, the nearest merged by an
    operator into an incident open and active within the window, not locked."""
    assert alert.lat is not None and alert.lon is not None
    radius = settings.corroboration_radius_km
    lat_delta = radius / KM_PER_DEGREE
    lon_delta = radius / (KM_PER_DEGREE * max(cos(radians(alert.lat)), 0.01))
    find = repo.merged_incidents_near if merged else repo.lock_open_incidents_near
    candidates = await find(
        session,
        lat=alert.lat,
        lon=alert.lon,
        lat_delta=lat_delta,
        lon_delta=lon_delta,
        since=alert.received_at - timedelta(hours=settings.corroboration_window_hours),
        categories=sorted(corroboration.related(alert.category)),
    )
    best: tuple[float, Incident] | None = None
    for incident in candidates:
        if incident.lat is None or incident.lon is None:
            continue
        distance = haversine_km(alert.lat, alert.lon, incident.lat, incident.lon)
        if distance <= radius and (best is None or distance < best[0]):
            best = (distance, incident)
    return best[1] if best else None


async def recount(session: AsyncSession, incident: Incident) -> None:
    """Counts, times and severity of an incident from the alerts it holds now: the reports
    received (false alarms among them), and the severity of those not called false alarms
    (a rumour of deaths does not make the event critical); of them all when every one was."""
    alerts = await repo.alerts_of_incident(session, incident.id)
    incident.report_count = len(alerts)
    incident.reporter_count = len({a.from_phone for a in alerts if a.from_phone})
    if alerts:
        incident.first_at = min(a.received_at for a in alerts)
        incident.last_at = max(a.received_at for a in alerts)
        believed = [a for a in alerts if a.status != AlertStatus.FALSE_ALARM] or alerts
        top = max(believed, key=lambda a: a.severity_rank)
        incident.severity, incident.severity_rank = top.severity, top.severity_rank
