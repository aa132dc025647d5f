"""Decisions about alerts: creation, repeats, corroboration into incidents."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from math import cos, radians

from sqlalchemy.ext.asyncio import AsyncSession

from app.alerts import corroboration, reliability
from app.alerts import repository as repo
from app.alerts.models import OPEN_ALERT_STATUSES, SEVERITY_RANK, Alert, Incident
from app.alerts.refs import new_ref
from app.alerts.schemas import AlertRead, PagingRead, ReliabilityRead
from app.escalation.repository import paging_states
from app.geo.distance import haversine_km
from app.kit.config import Settings
from app.triage.engine import cap_certainty
from app.triage.scoring import band_floor
from app.triage.types import TriageResult

KM_PER_DEGREE = 111.32


async def alert_reads(
    session: AsyncSession, alerts: Sequence[Alert], *, mask_phone: bool
) -> list[AlertRead]:
    """Alerts as the operations room sees them, with how far their paging went."""
    states = await paging_states(session, alerts)
    histories: dict[int, reliability.Reliability] = {}
    if not mask_phone:  # a focal point's record is for the operations room only
        ids = sorted({a.reporter_id for a in alerts if a.reporter_id is not None})
        histories = await reliability.of_reporters(session, ids)
    reads = []
    for alert in alerts:
        read = AlertRead.of(alert, mask_phone=mask_phone)
        state = states.get(alert.id)
        if state is not None:
            read.paging = PagingRead(**asdict(state))
        if alert.reporter_id is not None and not mask_phone:
            history = histories.get(alert.reporter_id, reliability.Reliability())
            read.reporter_reliability = ReliabilityRead.of(history)
        reads.append(read)
    return reads


@dataclass(frozen=True)
class NewAlert:
    """What the pipeline knows of a report before it becomes an alert."""

    kind: str
    from_phone: str
    body: str
    reporter_id: int | None
    verified_reporter: bool
    received_at: datetime
    result: TriageResult
    # How an alert entered by hand came in (call, radio, visit, other); None for SMS and flashes.
    source: str | None = None


async def unique_ref(session: AsyncSession) -> str:
    """A reference no alert has yet."""
    while True:
        ref = new_ref()
        if not await repo.ref_exists(session, ref):
            return ref


async def find_resend(
    session: AsyncSession, phone: str, body: str, at: datetime, settings: Settings
) -> Alert | None:
    """The alert this text repeats (same sender, same text, within the panic-resend window)."""
    since = at - timedelta(minutes=settings.duplicate_window_minutes)
    return await repo.recent_same_text(session, phone, body, since)


async def find_flash(
    session: AsyncSession, phone: str, at: datetime, settings: Settings
) -> Alert | None:
    """The missed-call alert a new flash from `phone` belongs to, if any."""
    since = at - timedelta(minutes=settings.flash_window_minutes)
    return await repo.recent_flash(session, phone, since)


def fold_repeat(session: AsyncSession, alert: Alert, at: datetime, *, actor: str) -> None:
    """Count one more message (a resend, another flash) on an existing alert."""
    alert.message_count += 1
    alert.last_message_at = max(alert.last_message_at, at)
    repo.add_event(
        session, alert, actor=actor, action="repeated", detail={"count": alert.message_count}
    )


async def create_alert(
    session: AsyncSession, new: NewAlert, settings: Settings, *, actor: str
) -> Alert:
    """Store a triaged report as an alert and attach it to an incident."""
    result = new.result
    place = result.place
    alert = Alert(
        ref=await unique_ref(session),
        kind=new.kind,
        source=new.source,
        status="new",
        reporter_id=new.reporter_id,
        from_phone=new.from_phone,
        body=new.body,
        language=result.language,
        category=result.category,
        severity=result.severity,
        severity_rank=SEVERITY_RANK[result.severity],
        score=result.score,
        cap_urgency=result.cap_urgency,
        cap_severity=result.cap_severity,
        cap_certainty=result.cap_certainty,
        killed=result.numbers.killed,
        wounded=result.numbers.wounded,
        abducted=result.numbers.abducted,
        attackers=result.numbers.attackers,
        reasons=list(result.reasons),
        place_id=(place.id or None) if place else None,
        place_name=place.name if place else None,
        lat=place.lat if place else None,
        lon=place.lon if place else None,
        admin1=place.admin1 if place else None,
        admin2=place.admin2 if place else None,
        place_level=place.area_level if place else None,
        location_source=result.location_source,
        location_confidence=result.location_confidence,
        message_count=1,
        received_at=new.received_at,
        last_message_at=new.received_at,
    )
    history = None
    if new.reporter_id is not None:
        found = await reliability.of_reporters(session, [new.reporter_id], new.received_at)
        history = found.get(new.reporter_id)
    if history is not None:
        alert.score, why = reliability.weigh(alert.score, band_floor(result.severity), history)
        alert.reasons = [*alert.reasons, why] if why else alert.reasons
    session.add(alert)
    await session.flush()
    repo.add_event(
        session,
        alert,
        actor=actor,
        action="created",
        detail={"category": alert.category, "severity": alert.severity, "ref": alert.ref},
    )
    incident = await corroborate(session, alert, settings)
    if incident is not None and incident.reporter_count > 1:
        if history is not None and history.unreliable():
            note = "not counted as observed: the reporter's alerts were often not confirmed"
            alert.reasons = [*alert.reasons, f"corroborates incident {incident.id}, {note}"]
        else:
            alert.cap_certainty = cap_certainty(verified=new.verified_reporter, corroborated=True)
            alert.reasons = [*alert.reasons, f"corroborates incident {incident.id}"]
    return alert


async def open_incident_for(session: AsyncSession, alert: Alert) -> Incident:
    """A new incident of which this alert is the only report."""
    incident = Incident(
        category=alert.category,
        severity=alert.severity,
        severity_rank=alert.severity_rank,
        status="open" if alert.status in OPEN_ALERT_STATUSES else "closed",
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
        reporter_count=1,
    )
    session.add(incident)
    await session.flush()
    alert.incident_id = incident.id
    return incident


async def corroborate(session: AsyncSession, alert: Alert, settings: Settings) -> Incident | None:
    """Join the nearest related open incident within range, or open a new one."""
    if not corroboration.joins_incidents(alert.category):
        return None
    incident = None
    if alert.lat is not None and alert.lon is not None:
        incident = await _nearest_incident(session, alert, settings)
    if incident is not None:
        # Locked: concurrent reports count one by one, and a merge in between is followed.
        incident = await repo.lock_incident(session, incident.id)
        if incident is not None and incident.merged_into_id is not None:
            incident = await repo.lock_incident(session, incident.merged_into_id)
    if incident is None or incident.status != "open":
        return await open_incident_for(session, alert)
    alert.incident_id = incident.id
    await session.flush()
    incident.report_count += 1
    incident.reporter_count = await repo.distinct_reporters(session, incident.id)
    incident.last_at = max(incident.last_at, alert.received_at)
    incident.category = corroboration.leading_category(incident.category, alert.category)
    if alert.severity_rank > incident.severity_rank:
        incident.severity, incident.severity_rank = alert.severity, alert.severity_rank
    repo.add_event(
        session,
        alert,
        actor="system",
        action="corroborated",
        detail={"incident_id": incident.id, "reports": incident.report_count},
    )
    return incident


async def _nearest_incident(
    session: AsyncSession, alert: Alert, settings: Settings
) -> Incident | None:
    assert alert.lat is not None and alert.lon is not None
    radius = settings.corroboration_radius_km
    lat_delta = radius / KM_PER_DEGREE
    lon_delta = radius / (KM_PER_DEGREE * max(cos(radians(alert.lat)), 0.01))
    candidates = await repo.open_incidents_near(
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
    """Counts, times and severity of an incident from the alerts it holds now."""
    alerts = await repo.alerts_of_incident(session, incident.id)
    incident.report_count = len(alerts)
    incident.reporter_count = len({a.from_phone for a in alerts})
    if alerts:
        incident.first_at = min(a.received_at for a in alerts)
        incident.last_at = max(a.received_at for a in alerts)
        top = max(alerts, key=lambda a: a.severity_rank)
        incident.severity, incident.severity_rank = top.severity, top.severity_rank


async def human_verified(
    session: AsyncSession, *, since: datetime | None, until: datetime | None = None
) -> Sequence[Alert]:
    """Alerts humans confirmed or corrected (no false alarm), received in [since, until),
    oldest first."""
    return await repo.human_verified(session, since=since, until=until)
