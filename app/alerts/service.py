"""Decisions about alerts: creation, repeats, status moves; what other domains read of them.

Joining alerts into incidents is app/alerts/incidents.py."""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from app.alerts import chain, reliability
from app.alerts import repository as repo
from app.alerts.filters import AlertFilter
from app.alerts.formats.shared import Precision
from app.alerts.incidents import corroborated, join_incident, opened_here
from app.alerts.models import SEVERITY_RANK, Alert, AlertEvent, Incident
from app.alerts.refs import new_ref
from app.alerts.schemas import AlertEventRead
from app.alerts.status import (
    EVENTS,
    TRANSITIONS,
    AlertStatus,
    StatusAction,
    TransitionNotAllowed,
)
from app.geo import service as places
from app.kit.config import Settings
from app.kit.errors import BadRequest
from app.kit.pagination import MAX_SEQ, decode_id, decode_time_id, encode_cursor
from app.kit.repository import get_or_raise
from app.triage.engine import cap_certainty
from app.triage.scoring import band_floor
from app.triage.types import TriageResult


def transition(
    session: AsyncSession,
    alert: Alert,
    action: StatusAction,
    *,
    actor: str,
    note: str | None = None,
    detail: dict[str, object] | None = None,
) -> AlertStatus:
    """Move the alert as `action` does from its status (app/alerts/status.py), or refuse it
    (409); the move goes into the audit trail. Returns the status it left."""
    before = alert.status
    after = TRANSITIONS[before].get(action)
    if after is None:
        raise TransitionNotAllowed(action, before)
    alert.status = after
    repo.add_event(
        session,
        alert,
        actor=actor,
        action=EVENTS[action],
        note=note,
        detail=detail,
        from_status=before,
        to_status=after,
    )
    return before


async def by_ref(session: AsyncSession, ref: str) -> Alert | None:
    """The alert with this reference (the one in its receipt and pages)."""
    return await repo.by_ref(session, ref)


async def get(session: AsyncSession, alert_id: int) -> Alert | None:
    """The alert with this id."""
    return await repo.get(session, alert_id)


async def page_delivered(session: AsyncSession, alert_id: int) -> None:
    """A page of the alert reached a liaison's phone. What is shown of the alert changed
    (`paging.pages_delivered`): pollers and the stream see it as a change of the alert."""
    await repo.touch(session, alert_id)


def incident_opened_here(session: AsyncSession, incident_id: int) -> bool:
    """Whether this transaction opened the incident (no escalation can refer to it yet)."""
    return opened_here(session, incident_id)


async def lock(session: AsyncSession, alert_id: int) -> Alert | None:
    """The alert, row-locked until the end of the transaction."""
    return await repo.lock(session, alert_id)


def held(session: AsyncSession, alert: Alert) -> None:
    """An alert another statement loaded row-locked (an escalation's lead, locked with it):
    its trail is appended to as `lock`'s would be, without a lock of its own."""
    chain.locked(session, alert.id)


async def lock_incident(session: AsyncSession, incident_id: int) -> Incident | None:
    """The incident, row-locked until the end of the transaction."""
    return await repo.lock_incident(session, incident_id)


async def of_incident(session: AsyncSession, incident_id: int) -> Sequence[Alert]:
    """The alerts of an incident, oldest first."""
    return await repo.alerts_of_incident(session, incident_id)


# Appending to the alert's audit trail (a note, the paging) is the repository's, as it is;
# a change of status goes through transition().
add_event = repo.add_event


@dataclass(frozen=True)
class AlertRows:
    """A page of alerts with its cursors (escalation's reads turn it into an AlertPage)."""

    alerts: Sequence[Alert]
    next_cursor: str | None
    sync_cursor: str


async def alert_rows(
    session: AsyncSession,
    filters: AlertFilter,
    *,
    current: int,
    updated_after: str | None,
    cursor: str | None,
    limit: int,
) -> AlertRows:
    """Alerts newest first (after `cursor`), or those changed since `updated_after` (a
    sync_cursor) in the order of their changes; `current` is the last change number, read
    before the alerts (the sync cursor of a page of the newest)."""
    if updated_after is not None:
        after = decode_id(updated_after, MAX_SEQ) if updated_after else 0
        alerts = await repo.changed_alerts(session, filters, after=after, limit=limit)
        last = alerts[-1].change_seq if alerts else after
        sync = encode_cursor(last)
        return AlertRows(alerts, sync if len(alerts) == limit else None, sync)
    before = decode_time_id(cursor) if cursor else None
    alerts = await repo.list_alerts(session, filters, before=before, limit=limit)
    next_cursor = None
    if len(alerts) == limit:
        next_cursor = encode_cursor(alerts[-1].received_at, alerts[-1].id)
    return AlertRows(alerts, next_cursor, encode_cursor(current))


async def share_precision(session: AsyncSession, settings: Settings) -> Precision:
    """How coarse the places of shared exports are (KENGELE_SHARE_LOCATION)."""
    centroids = {}
    if settings.share_location == "territoire":
        centroids = await places.territoire_centroids(session)
    return Precision(settings.share_location, settings.share_decimals, centroids)


def check_shared_filters(filters: AlertFilter, settings: Settings) -> None:
    """Refuse a filter finer than the places of shared exports (BadRequest): asked village by
    village, an export put at its territoire would tell each alert's village."""
    if filters.place_id and settings.share_location == "territoire":
        raise BadRequest(
            "place: shared exports go no finer than the territoire; filter by admin2 instead"
        )


async def get_alert(session: AsyncSession, alert_id: int) -> Alert:
    """The alert with this id (404 when there is none)."""
    return await get_or_raise(session, Alert, alert_id, "alert")


async def get_incident(session: AsyncSession, incident_id: int) -> Incident:
    """The incident with this id (404 when there is none)."""
    return await get_or_raise(session, Incident, incident_id, "incident")


async def alert_events(
    session: AsyncSession, alert_id: int, *, mask_phone: bool
) -> list[AlertEventRead]:
    """The audit trail of an alert, oldest first."""
    events = await repo.events(session, alert_id)
    context = {"mask_phone": mask_phone}
    return [AlertEventRead.model_validate(e, context=context) for e in events]


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
    """The alert this text repeats (same sender, same text, within the panic-resend window).

    A sender's reports are filed one after the other from here on (until the transaction
    ends): a panic resend arriving in the same instant as the first finds it, and is folded
    into it, instead of making an alert and pages of its own."""
    await repo.hold_sender(session, sender_key(phone))
    since = at - timedelta(minutes=settings.duplicate_window_minutes)
    return await repo.recent_same_text(session, phone, body, since)


async def find_flash(
    session: AsyncSession, phone: str, at: datetime, settings: Settings
) -> Alert | None:
    """The missed-call alert a new flash from `phone` belongs to, if any (a sender's flashes
    are filed one after the other, as `find_resend` says)."""
    await repo.hold_sender(session, sender_key(phone))
    since = at - timedelta(minutes=settings.flash_window_minutes)
    return await repo.recent_flash(session, phone, since)


def sender_key(phone: str) -> int:
    """A phone number as a signed 32-bit number (a lock's key; two numbers may share one,
    which only makes their reports wait on each other)."""
    key = zlib.crc32(phone.encode())
    return key - (1 << 32) if key >= 1 << 31 else key


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
        status=AlertStatus.NEW,
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
    # The incident first: the alert's row then goes in once, complete.
    incident, joined = await join_incident(session, alert, settings)
    if incident is not None and incident.reporter_count > 1:
        if history is not None and history.unreliable():
            note = "not counted as observed: the reporter's alerts were often not confirmed"
            alert.reasons = [*alert.reasons, f"corroborates incident {incident.id}, {note}"]
        else:
            alert.cap_certainty = cap_certainty(verified=new.verified_reporter, corroborated=True)
            alert.reasons = [*alert.reasons, f"corroborates incident {incident.id}"]
    session.add(alert)
    await session.flush()
    chain.started(session, alert.id)
    repo.add_event(
        session,
        alert,
        actor=actor,
        action="created",
        detail={"category": alert.category, "severity": alert.severity, "ref": alert.ref},
    )
    if joined and incident is not None:
        corroborated(session, alert, incident)
    return alert


async def forget_place(session: AsyncSession, place_id: str) -> None:
    """Alerts and incidents let go of a place about to be removed (they keep its name and
    position). Through the ORM, not the foreign key's ON DELETE SET NULL: each change is
    numbered, so pollers and the stream see the alerts lose their place id."""
    for row in await repo.located_at(session, place_id):
        row.place_id = None
    await session.flush()


async def human_verified(
    session: AsyncSession, *, since: datetime | None, until: datetime | None = None
) -> Sequence[Alert]:
    """Alerts humans confirmed or corrected (no false alarm), received in [since, until),
    oldest first."""
    return await repo.human_verified(session, since=since, until=until)


async def newest_alerts(session: AsyncSession, filters: AlertFilter, limit: int) -> Sequence[Alert]:
    """The newest alerts that pass the filters (the exports' rows)."""
    return await repo.list_alerts(session, filters, before=None, limit=limit)


async def events_of(session: AsyncSession, alert_id: int) -> Sequence[AlertEvent]:
    """The audit trail of an alert as stored, oldest first (the exports read it raw)."""
    return await repo.events(session, alert_id)


# Incidents newest first (before the id `before`): the repository's query, as it is.
incidents = repo.list_incidents
