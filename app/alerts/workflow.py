"""The operations room's decisions on alerts and incidents: allowed transitions, audit trail."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.alerts import repository as repo
from app.alerts.corrections import Changes, correct, describe, place_of, undescribed_flash
from app.alerts.models import OPEN_ALERT_STATUSES, Alert, Incident
from app.alerts.schemas import AlertAction, Described
from app.alerts.service import open_incident_for, recount
from app.escalation import repository as escalation_repo
from app.escalation import service as escalation
from app.geo.matcher import Gazetteer
from app.kit.clock import utcnow
from app.kit.config import Settings
from app.kit.errors import Conflict, NotFound, PreconditionFailed, Unprocessable

CLOSED = ("resolved", "false_alarm")

# action -> the statuses it may start from. assign and note change no status.
ALLOWED_FROM: dict[str, tuple[str, ...]] = {
    "acknowledge": ("new",),
    "verify": ("new", "acknowledged"),
    "resolve": OPEN_ALERT_STATUSES,
    "false_alarm": OPEN_ALERT_STATUSES,
    "reopen": CLOSED,
    "assign": (*OPEN_ALERT_STATUSES, *CLOSED),
    "note": (*OPEN_ALERT_STATUSES, *CLOSED),
    # A closed alert is still worth correcting: every correction is a label for triage.
    "correct": (*OPEN_ALERT_STATUSES, *CLOSED),
}


class TransitionNotAllowed(Conflict):
    """The action does not apply to the alert's current status (409 naming the allowed ones)."""

    def __init__(self, action: str, status: str) -> None:
        self.allowed = allowed_actions(status)
        super().__init__(
            f"cannot {action} an alert that is {status}; allowed: {', '.join(self.allowed)}"
        )

    def extra(self) -> dict[str, Any]:
        """The allowed actions, for clients to offer."""
        return {"allowed": self.allowed}


def allowed_actions(status: str) -> list[str]:
    """The actions an alert in `status` accepts."""
    return [action for action, starts in ALLOWED_FROM.items() if status in starts]


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


async def apply(
    session: AsyncSession,
    settings: Settings,
    alert_id: int,
    request: AlertAction,
    *,
    actor: str,
    name: str,
    if_match: int | None,
    gazetteer: Gazetteer,
) -> Alert:
    """Carry out an action on an alert, or refuse it (404, 412, 409, 422)."""
    alert = await lock_for_change(session, alert_id)
    if if_match is not None and if_match != alert.version:
        raise PreconditionFailed(
            f"alert {alert_id} is at version {alert.version}, not {if_match}: reload it"
        )
    action = request.action
    if alert.status not in ALLOWED_FROM[action]:
        raise TransitionNotAllowed(action, alert.status)
    note = (request.note or "").strip() or None
    now = utcnow()
    if action == "acknowledge":
        await escalation.acknowledge(
            session, settings, alert, None, now, actor=actor, name=name, note=note
        )
    elif action == "verify":
        await escalation.verify(
            session,
            settings,
            alert,
            None,
            now,
            note=note,
            actor=actor,
            name=name,
            how=request.how,
            result=request.result or "confirmed",
        )
        changes = changes_of(request, gazetteer)
        if undescribed_flash(alert) and request.summary:
            await describe(
                session, settings, alert, request.summary, gazetteer, actor=actor, keep=changes
            )
        elif not changes.empty():
            await correct(session, settings, alert, changes, actor=actor)
    elif action == "correct":
        await correct(session, settings, alert, changes_of(request, gazetteer), actor=actor)
        if note is not None:
            repo.add_event(session, alert, actor=actor, action="note", note=note)
    elif action in ("resolve", "false_alarm"):
        status = "resolved" if action == "resolve" else "false_alarm"
        await escalation.close(session, settings, alert, None, status, note, now, actor=actor)
    elif action == "reopen":
        await _reopen(session, settings, alert, actor, note)
    elif action == "assign":
        assignee = (request.assignee or "").strip() or None
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
        await escalation.emit(session, settings, "alert.updated", alert)
    elif action == "note":
        if note is None:
            raise Unprocessable("a note needs its text in 'note'")
        repo.add_event(session, alert, actor=actor, action="note", note=note)
        await escalation.emit(session, settings, "alert.updated", alert, note=note)
    await session.flush()
    return alert


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


async def lock_for_change(session: AsyncSession, alert_id: int) -> Alert:
    """The alert, locked with what a change of it may touch, in the order every writer takes
    them (incident, escalation, alert), so that two writers never wait on each other."""
    seen = await repo.get(session, alert_id)
    if seen is None:
        raise NotFound(f"no alert {alert_id}")
    if seen.incident_id is not None:
        await repo.lock_incident(session, seen.incident_id)
    await escalation_repo.of_alert(session, alert_id, lock=True)
    alert = await repo.lock(session, alert_id)
    if alert is None:
        raise NotFound(f"no alert {alert_id}")
    return alert


async def _reopen(
    session: AsyncSession, settings: Settings, alert: Alert, actor: str, note: str | None
) -> None:
    """Back to acknowledged (someone has it), and its incident reopens with it."""
    before = alert.status
    alert.status = "acknowledged"
    repo.add_event(
        session,
        alert,
        actor=actor,
        action="reopened",
        note=note,
        from_status=before,
        to_status=alert.status,
    )
    if alert.incident_id is not None:
        incident = await repo.get_incident(session, alert.incident_id)
        if incident is not None and incident.merged_into_id is None:
            incident.status = "open"
    await escalation.emit(session, settings, "alert.updated", alert)


async def merge_incidents(
    session: AsyncSession, source_id: int, target_id: int, *, actor: str, note: str | None
) -> Incident:
    """Move every alert of `source_id` into `target_id`; the source closes, pointing at it."""
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
    source.report_count = 0
    source.reporter_count = 0
    await recount(session, target)
    target.first_at = min(target.first_at, source.first_at)
    target.last_at = max(target.last_at, source.last_at)
    if source.severity_rank > target.severity_rank:
        target.severity, target.severity_rank = source.severity, source.severity_rank
    if reopen:
        target.status = "open"
    await session.flush()
    return target


async def detach_alert(
    session: AsyncSession, incident_id: int, alert_id: int, *, actor: str, note: str | None
) -> Incident:
    """Move an alert out of an incident into a new incident of its own; returns the new one."""
    incident = await repo.lock_incident(session, incident_id)
    if incident is None:
        raise NotFound(f"no incident {incident_id}")
    await escalation_repo.of_alert(session, alert_id, lock=True)
    alert = await repo.lock(session, alert_id)
    if alert is None or alert.incident_id != incident_id:
        raise NotFound(f"alert {alert_id} is not in incident {incident_id}")
    if incident.report_count <= 1:
        raise Conflict(f"alert {alert_id} is the only report of incident {incident_id}")
    own = await open_incident_for(session, alert)
    repo.add_event(
        session,
        alert,
        actor=actor,
        action="incident_detached",
        note=note,
        detail={"from_incident": incident_id, "to_incident": own.id},
    )
    await session.flush()
    await recount(session, incident)
    return own
