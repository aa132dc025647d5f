"""The operations room's decisions on alerts and incidents, each move of a status through
`transition()` (the paging's reactions are the flow's: app/flows/status.py)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from sqlalchemy.ext.asyncio import AsyncSession

from app.alerts import repository as repo
from app.alerts.corrections import Changes, place_of
from app.alerts.incidents import open_incident_for, recount
from app.alerts.models import Alert, Incident
from app.alerts.schemas import Described
from app.alerts.service import transition
from app.alerts.status import CLOSED, TRANSITIONS, AlertStatus
from app.geo.matcher import Gazetteer
from app.kit.errors import Conflict, NotFound, PreconditionFailed, Unprocessable


def parse_if_match(value: str | None) -> int | None:
    """The version in an If-Match header: an alert's ETag ('"3.9f2c…"'), or '"3"', or '3'.

    None when absent or '*'.
    """
    if value is None or value.strip() in ("", "*"):
        return None
    text = value.strip().removeprefix("W/").strip('"').partition(".")[0]
    if not text.isdigit() or len(text) > 18:
        raise PreconditionFailed(f"If-Match must be the alert's version as its ETag, not {text!r}")
    return int(text)


def changes_of(request: Described, gazetteer: Gazetteer) -> Changes:
    """The correction a request carries, its place looked up (422 when unknown)."""
    return Changes(
        category=request.category,
        severity=request.severity,
        place=place_of(request.place, gazetteer),
        killed=request.killed,
        wounded=request.wounded,
        abducted=request.abducted,
        occurred_at=request.occurred_at,
        summary=request.summary,
    )


def acknowledge(
    session: AsyncSession, alert: Alert, *, actor: str, note: str | None, quiet: bool = False
) -> bool:
    """Someone takes the alert; whether it was new. Taken again, it is noted (unless quiet)."""
    if alert.status != AlertStatus.NEW:
        if not quiet:
            repo.add_event(session, alert, actor=actor, action="acknowledged_again")
        return False
    transition(session, alert, "acknowledge", actor=actor, note=note)
    return True


def verify(
    session: AsyncSession,
    alert: Alert,
    now: datetime,
    *,
    actor: str,
    note: str | None,
    how: str | None,
    result: str,
) -> None:
    """The outcome of a check of the report (the alert taken first): confirmed, the alert is
    verified; not confirmed or the reporter unreachable, it is recorded and stays open."""
    alert.verified_how, alert.verified_result, alert.verified_at = how, result, now
    detail: dict[str, object] = {"how": how, "result": result}
    if result == "confirmed" and "verify" in TRANSITIONS[alert.status]:
        transition(session, alert, "verify", actor=actor, note=note, detail=detail)
        return
    action = "verified" if result == "confirmed" else f"verification_{result}"
    repo.add_event(session, alert, actor=actor, action=action, detail=detail, note=note)


async def close(
    session: AsyncSession,
    alert: Alert,
    action: Literal["resolve", "false_alarm"],
    *,
    actor: str,
    note: str | None,
) -> bool:
    """Resolve an alert or call it a false alarm (locked by the caller with its incident);
    its incident closes with its last open report (one false report among others does not
    close the event the others report: a new report would open another incident and page
    again). False when it was closed already."""
    if alert.status in CLOSED:
        return False
    transition(session, alert, action, actor=actor, note=note)
    if alert.incident_id is not None:
        incident = await repo.get_incident(session, alert.incident_id)
        reports = await repo.alerts_of_incident(session, alert.incident_id)
        if incident is not None and all(report.status in CLOSED for report in reports):
            incident.status = "closed"
        if incident is not None and action == "false_alarm":
            await recount(session, incident)  # its severity, of the reports still believed
    return True


async def reopen(session: AsyncSession, alert: Alert, *, actor: str, note: str | None) -> None:
    """Back to acknowledged (someone has it), and its incident reopens with it."""
    was_false = alert.status == AlertStatus.FALSE_ALARM
    transition(session, alert, "reopen", actor=actor, note=note)
    if alert.incident_id is not None:
        incident = await repo.get_incident(session, alert.incident_id)
        if incident is not None and incident.merged_into_id is None:
            incident.status = "open"
        if incident is not None and was_false:
            await recount(session, incident)


def assign(
    session: AsyncSession, alert: Alert, assignee: str | None, *, actor: str, note: str | None
) -> None:
    """Who in the operations room follows the alert (422 without a name)."""
    assignee = (assignee or "").strip() or None
    if assignee is None:
        raise Unprocessable("assign needs an assignee")
    repo.add_event(
        session,
        alert,
        actor=actor,
        action="assigned",
        note=note,
        detail={"from": alert.assignee, "to": assignee},
    )
    alert.assignee = assignee


def add_note(session: AsyncSession, alert: Alert, note: str | None, *, actor: str) -> None:
    """A note in the audit trail."""
    repo.add_event(session, alert, actor=actor, action="note", note=note)


async def lock_for_merge(
    session: AsyncSession, source_id: int, target_id: int
) -> tuple[Incident, Incident]:
    """Both incidents of a merge, row-locked in id order (no deadlock), or the refusal (404,
    409)."""
    if source_id == target_id:
        raise Conflict("an incident cannot be merged into itself")
    first, second = sorted((source_id, target_id))  # lock in id order: no deadlock
    locked = {i: await repo.lock_incident(session, i) for i in (first, second)}
    source, target = locked[source_id], locked[target_id]
    if source is None:
        raise NotFound(f"no incident {source_id}")
    if target is None:
        raise NotFound(f"no incident {target_id}")
    if source.merged_into_id is not None:
        raise Conflict(f"incident {source_id} was already merged into {source.merged_into_id}")
    if target.merged_into_id is not None:
        raise Conflict(f"incident {target_id} was merged into {target.merged_into_id}")
    return source, target


async def merge_incidents(
    session: AsyncSession, source: Incident, target: Incident, *, actor: str, note: str | None
) -> Incident:
    """Move every alert of `source` into `target` (both locked: `lock_for_merge`); the
    source closes, pointing at it."""
    source_id, target_id = source.id, target.id
    for alert in await repo.alerts_of_incident(session, source_id):
        alert.incident_id = target.id
        repo.add_event(
            session,
            alert,
            actor=actor,
            action="incident_merged",
            note=note,
            detail={"from_incident": source_id, "to_incident": target_id},
        )
    await session.flush()
    reopen = "open" in (source.status, target.status)
    source.status = "closed"
    source.merged_into_id = target.id
    source.absorbed = True
    await repo.repoint_merged(session, source_id, target_id)
    source.report_count = 0
    source.reporter_count = 0
    # Its reports are the target's now: their counts, times and severity (a false alarm's
    # left out) are the target's.
    await recount(session, target)
    target.first_at = min(target.first_at, source.first_at)
    target.last_at = max(target.last_at, source.last_at)
    if reopen:
        target.status = "open"
    await session.flush()
    return target


async def detach_alert(
    session: AsyncSession, incident: Incident, alert_id: int, *, actor: str, note: str | None
) -> Incident:
    """Move an alert out of an incident (locked by the caller, with the alert's escalation)
    into a new incident of its own; returns the new one."""
    alert = await repo.lock(session, alert_id)
    if alert is None or alert.incident_id != incident.id:
        raise NotFound(f"alert {alert_id} is not in incident {incident.id}")
    if incident.report_count <= 1:
        raise Conflict(f"alert {alert_id} is the only report of incident {incident.id}")
    own = await open_incident_for(session, alert)
    repo.add_event(
        session,
        alert,
        actor=actor,
        action="incident_detached",
        note=note,
        detail={"from_incident": incident.id, "to_incident": own.id},
    )
    await session.flush()
    await recount(session, incident)
    return own
