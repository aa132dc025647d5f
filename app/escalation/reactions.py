"""Escalation's reactions to an alert's moves (app/flows/status.py calls them after each):
taken, the paging stops and the others hear who took it; closed, the reporters hear it."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.alerts import service as alerts
from app.alerts.models import Alert
from app.alerts.status import AlertStatus
from app.escalation import messages
from app.escalation import repository as repo
from app.escalation.events import emit
from app.escalation.models import STOPPED
from app.escalation.paging import stop
from app.kit.config import Settings
from app.outbox import service as outbox
from app.people.models import Liaison, Reporter


async def on_acknowledged(
    session: AsyncSession,
    settings: Settings,
    alert: Alert,
    liaison: Liaison | None,
    *,
    name: str,
    taken: bool,
) -> None:
    """Someone took the alert (a liaison by SMS, or `name` through the API): the paging stops
    (its event's too, when its own pages were folded into it: `_event_taken_with`); when it
    was new (`taken`), the others paged (those still active), the reporters and subscribers
    hear it."""
    await stop(session, alert, AlertStatus.ACKNOWLEDGED, liaison)
    if not taken:
        return
    told = {liaison.id} if liaison is not None else set()
    lead = await _event_taken_with(session, alert, liaison)
    for paged in (alert,) if lead is None else (alert, lead):
        others = await outbox.paged_liaison_ids(session, paged.id) - told
        told |= others
        for other in await repo.liaisons_by_ids(session, others):
            if not other.active:
                continue  # deactivated since their page: gone, their number perhaps another's
            await outbox.enqueue_sms(
                session,
                settings,
                to=other.phone,
                body=messages.taken(other.language, paged.ref, name),
                purpose="taken",
                alert_id=paged.id,
                liaison_id=other.id,
            )
    # Taken with the event's paging (`lead`): every report of the event hears it.
    await _tell_reporters(session, settings, lead or alert, "reporter_ack")
    extra: dict[str, Any] = {"liaison_id": liaison.id} if liaison else {"by": name}
    await emit(session, settings, "alert.acknowledged", alert, **extra)


async def _event_taken_with(
    session: AsyncSession, alert: Alert, liaison: Liaison | None
) -> Alert | None:
    """Someone took an alert whose own paging had been folded into its incident's (the
    incidents merged, or a correction moved it into an event paged already): the liaisons
    were paged with its reference for that event, so the event's paging stops too (its
    lead's trail says with which alert). Returns that paging's lead, or None."""
    if alert.incident_id is None:
        return None
    own = await repo.of_alert(session, alert.id)
    if own is None or own.incident_id is not None:
        return None  # never paged, or its paging is the incident's own
    found = await repo.lock_with_lead(session, alert.incident_id)
    if found is None:
        return None
    running, lead = found
    # Stopped already, it has nothing to stop. Finished (its steps run out), it is stopped
    # all the same: a later report of the event would start it again (`_ran_out`), for an
    # event someone has taken.
    if running.alert_id == alert.id or running.state == STOPPED:
        return None
    alerts.held(session, lead)
    await stop(session, lead, f"taken with alert {alert.id}", liaison)
    alerts.add_event(
        session,
        lead,
        actor="system",
        action="escalation_taken_with",
        detail={"alert_id": alert.id, "liaison_id": liaison.id if liaison else None},
    )
    return lead


async def on_closed(
    session: AsyncSession,
    settings: Settings,
    alert: Alert,
    liaison: Liaison | None,
    *,
    reason: AlertStatus,
    closed: bool,
    note: str | None,
) -> None:
    """Someone resolved the alert or called it a false alarm (`reason`): the paging stops;
    when it was open (`closed`), subscribers hear it, and the reporters that it is resolved."""
    await stop(session, alert, reason, liaison)
    if not closed:
        return
    if alert.status == AlertStatus.RESOLVED:
        await _tell_reporters(session, settings, alert, "reporter_resolved")
        await emit(session, settings, "alert.resolved", alert, note=note)
    else:
        await emit(session, settings, "alert.updated", alert, note=note)


async def _tell_reporters(
    session: AsyncSession, settings: Settings, alert: Alert, kind: str
) -> None:
    """The "visible response": reporters hear that their alert was taken, then closed."""
    if not settings.receipts_enabled:
        return
    reports: Sequence[Alert] = [alert]
    if alert.incident_id is not None:
        # The event's paging is its lead's: taken or closed, every report of the event
        # hears it. Another report taken or closed alone (the operations room's word on
        # that report) tells its own reporter only: the event may still be nobody's.
        running = await repo.of_incident(session, alert.incident_id)
        if running is None or running.alert_id == alert.id:
            reports = await alerts.of_incident(session, alert.incident_id)
    seen: set[str] = set()
    for reported in reports:
        if reported.reporter_id is None or reported.from_phone in seen:
            continue
        seen.add(reported.from_phone)
        reporter = await session.get(Reporter, reported.reporter_id)
        if reporter is None or reporter.opted_out:
            continue
        text = (
            messages.reporter_ack(reporter.language, reported.ref)
            if kind == "reporter_ack"
            else messages.reporter_resolved(reporter.language, reported.ref)
        )
        await outbox.enqueue_sms(
            session, settings, to=reporter.phone, body=text, purpose=kind, alert_id=reported.id
        )
