"""An alert's moves, from the API or a liaison's SMS: alerts changes the alert (its status
through `transition()`, the audit trail), then escalation reacts (the paging stops, the others
paged and the reporters hear it, subscribers get the event).

Every function but `lock_for_change` and `apply` takes the alert locked by the caller.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from sqlalchemy.ext.asyncio import AsyncSession

from app.alerts import service as alerts
from app.alerts import workflow
from app.alerts.corrections import Changes, Corrected, undescribed_flash
from app.alerts.corrections import correct as correct_alert
from app.alerts.corrections import describe as describe_alert
from app.alerts.models import Alert, Incident
from app.alerts.schemas import AlertAction
from app.alerts.status import check, target_of
from app.escalation import reactions
from app.escalation import service as escalation
from app.escalation.events import emit
from app.geo.matcher import Gazetteer
from app.kit.clock import utcnow
from app.kit.config import Settings
from app.kit.errors import NotFound, PreconditionFailed, Unprocessable
from app.people.models import Liaison


async def lock_for_change(session: AsyncSession, alert_id: int) -> Alert:
    """The alert, locked with what a change of it may touch, in the order every writer takes
    them (incident, escalation, alert), so that two writers never wait on each other."""
    seen = await alerts.get(session, alert_id)
    if seen is None:
        raise NotFound(f"no alert {alert_id}")
    if seen.incident_id is not None:
        await alerts.lock_incident(session, seen.incident_id)
    await escalation.lock_of_alert(session, alert_id)
    alert = await alerts.lock(session, alert_id)
    if alert is None:
        raise NotFound(f"no alert {alert_id}")
    return alert


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
    """Carry out an operations room's action on an alert, or refuse it (404, 412, 409, 422)."""
    alert = await lock_for_change(session, alert_id)
    if if_match is not None and if_match != alert.version:
        raise PreconditionFailed(
            f"alert {alert_id} is at version {alert.version}, not {if_match}: reload it"
        )
    action = request.action
    check(alert.status, action)
    note = (request.note or "").strip() or None
    now = utcnow()
    if action == "acknowledge":
        await acknowledge(session, settings, alert, None, actor=actor, name=name, note=note)
    elif action == "verify":
        await verify(
            session,
            settings,
            alert,
            None,
            now,
            actor=actor,
            name=name,
            note=note,
            how=request.how,
            result=request.result or "confirmed",
        )
        changes = workflow.changes_of(request, gazetteer)
        if undescribed_flash(alert) and request.summary:
            described = await describe_alert(
                session, settings, alert, request.summary, gazetteer, actor=actor, keep=changes
            )
            await follow_correction(session, settings, alert, described, actor=actor)
        elif not changes.empty():
            await correct(session, settings, alert, changes, actor=actor)
    elif action == "correct":
        await correct(
            session, settings, alert, workflow.changes_of(request, gazetteer), actor=actor
        )
        if note is not None:
            workflow.add_note(session, alert, note, actor=actor)
    elif action in ("resolve", "false_alarm"):
        await close(session, settings, alert, None, action, note, actor=actor)
    elif action == "reopen":
        await workflow.reopen(session, alert, actor=actor, note=note)
        await emit(session, settings, "alert.updated", alert)
    elif action == "assign":
        workflow.assign(session, alert, request.assignee, actor=actor, note=note)
        await emit(session, settings, "alert.updated", alert)
    elif action == "note":
        if note is None:
            raise Unprocessable("a note needs its text in 'note'")
        await add_note(session, settings, alert, note, actor=actor)
    await session.flush()
    return alert


def _actor(liaison: Liaison | None, actor: str | None) -> str:
    return actor or (f"liaison:{liaison.id}" if liaison else "system")


async def acknowledge(
    session: AsyncSession,
    settings: Settings,
    alert: Alert,
    liaison: Liaison | None,
    *,
    quiet: bool = False,
    actor: str | None = None,
    name: str | None = None,
    note: str | None = None,
) -> None:
    """Someone takes the alert: a liaison by SMS, or an operations room through the API
    (`actor` and `name` then). Taken again, it is noted (unless `quiet`); the paging stops."""
    actor = _actor(liaison, actor)
    taken = workflow.acknowledge(session, alert, actor=actor, note=note, quiet=quiet)
    name = name or (liaison.name if liaison else actor)
    await reactions.on_acknowledged(session, settings, alert, liaison, name=name, taken=taken)


async def verify(
    session: AsyncSession,
    settings: Settings,
    alert: Alert,
    liaison: Liaison | None,
    now: datetime,
    *,
    note: str | None = None,
    actor: str | None = None,
    name: str | None = None,
    how: str | None = None,
    result: str = "confirmed",
) -> None:
    """Someone checked the report (and so took it, if nobody had)."""
    actor = _actor(liaison, actor)
    await acknowledge(session, settings, alert, liaison, quiet=True, actor=actor, name=name)
    workflow.verify(session, alert, now, actor=actor, note=note, how=how, result=result)
    await emit(session, settings, "alert.updated", alert)


async def close(
    session: AsyncSession,
    settings: Settings,
    alert: Alert,
    liaison: Liaison | None,
    action: Literal["resolve", "false_alarm"],
    note: str | None,
    *,
    actor: str | None = None,
) -> None:
    """Resolve the alert or call it a false alarm; its incident closes, its paging stops.
    A false alarm that led the paging of an event nobody had taken hands it on to the
    event's next report still new (its incident stays open with it)."""
    actor = _actor(liaison, actor)
    hand_on = action == "false_alarm" and await escalation.leads_untaken_event(session, alert)
    closed = await workflow.close(session, alert, action, actor=actor, note=note)
    await reactions.on_closed(
        session, settings, alert, liaison, reason=target_of(action), closed=closed, note=note
    )
    if closed and hand_on:
        await escalation.page_after_false_lead(session, settings, alert, utcnow())


async def add_note(
    session: AsyncSession, settings: Settings, alert: Alert, note: str | None, *, actor: str
) -> None:
    """A note in the audit trail, for subscribers too."""
    workflow.add_note(session, alert, note, actor=actor)
    await emit(session, settings, "alert.updated", alert, note=note)


async def correct(
    session: AsyncSession, settings: Settings, alert: Alert, changes: Changes, *, actor: str
) -> Corrected:
    """A human correction (app/alerts/corrections.py), then the paging it calls for."""
    corrected = await correct_alert(session, settings, alert, changes, actor=actor)
    return await follow_correction(session, settings, alert, corrected, actor=actor)


async def follow_correction(
    session: AsyncSession, settings: Settings, alert: Alert, corrected: Corrected, *, actor: str
) -> Corrected:
    """What follows a correction (by hand, or a FLASH described by its call-back): subscribers
    hear of it; a rise in severity or a move to another zone pages again, a correction to low
    stops the paging."""
    if not corrected.diff:
        return corrected
    await emit(session, settings, "alert.updated", alert, correction=corrected.diff, by=actor)
    left = corrected.left_incident
    moved = left is not None or corrected.entered_incident
    if moved and await escalation.on_incident_left(session, settings, alert, left, corrected.at):
        return corrected  # paged as an event of its own, or counted on the one it joined
    await escalation.on_corrected(
        session,
        settings,
        alert,
        before_severity=corrected.before_severity,
        new_zone=corrected.new_zone,
        now=corrected.at,
    )
    return corrected


async def detach_alert(
    session: AsyncSession,
    settings: Settings,
    incident_id: int,
    alert_id: int,
    *,
    actor: str,
    note: str | None,
) -> Incident:
    """Move an alert out of an incident into a new incident of its own; returns the new one
    (incident, escalation, alert locked in the order every writer takes them). It is
    another event: paged as such (escalation.on_incident_left)."""
    incident = await alerts.lock_incident(session, incident_id)
    if incident is None:
        raise NotFound(f"no incident {incident_id}")
    await escalation.lock_of_alert(session, alert_id)
    own = await workflow.detach_alert(session, incident, alert_id, actor=actor, note=note)
    alert = await alerts.get(session, alert_id)
    assert alert is not None  # locked by workflow.detach_alert
    await escalation.on_incident_left(session, settings, alert, incident_id, utcnow())
    return own


async def merge_incidents(
    session: AsyncSession, source_id: int, target_id: int, *, actor: str, note: str | None
) -> Incident:
    """Merge incident `source_id` into `target_id`: its alerts move there, it closes (the
    incidents, their pagings, then the alerts locked, in the order every writer takes them).
    One event: one paging goes on, or none if someone took either
    (escalation.on_incidents_merged)."""
    source, target = await workflow.lock_for_merge(session, source_id, target_id)
    pagings = await escalation.lock_pagings(session, sorted((source_id, target_id)))
    merged = await workflow.merge_incidents(session, source, target, actor=actor, note=note)
    await escalation.on_incidents_merged(session, pagings, source_id, target_id)
    await session.flush()
    return merged
