"""The escalation engine: page in steps until someone acknowledges, and stop when taken."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.alerts import repository as alerts_repo
from app.alerts.models import SEVERITY_RANK, Alert
from app.alerts.schemas import PlaceRef, masked
from app.escalation import messages
from app.escalation import repository as repo
from app.escalation.models import ACTIVE, DONE, STOPPED, Escalation, EscalationPolicy
from app.escalation.schemas import DEFAULT_POLICIES, NotifyTier, Phones, PolicyDocument, Step
from app.kit.clock import utcnow
from app.kit.config import Settings
from app.kit.phones import mask, mask_in_text
from app.outbox import service as outbox
from app.outbox.models import Delivery
from app.outbox.wakeup import mark_work
from app.people.models import Liaison, Reporter

log = logging.getLogger(__name__)

OPEN = ("new", "acknowledged", "verified")


@dataclass(frozen=True)
class Recipient:
    """Someone to page."""

    phone: str
    language: str
    liaison: Liaison | None = None


# --- policies ----------------------------------------------------------------------------


async def seed_default_policies(session: AsyncSession) -> int:
    """Store the default policies when there are none; returns how many were added."""
    if await repo.count_policies(session):
        return 0
    for doc in DEFAULT_POLICIES:
        session.add(
            EscalationPolicy(
                name=doc.name,
                priority=doc.priority,
                document=doc.model_dump(mode="json"),
                active=True,
            )
        )
    await session.flush()
    return len(DEFAULT_POLICIES)


def matches(doc: PolicyDocument, alert: Alert) -> bool:
    """Whether a policy's `match` takes this alert."""
    m = doc.match
    if m.min_severity and SEVERITY_RANK[alert.severity] < SEVERITY_RANK[m.min_severity]:
        return False
    if m.categories and alert.category not in m.categories:
        return False
    return not (m.admin1 and (alert.admin1 or "").lower() not in {a.lower() for a in m.admin1})


async def pick_policy(session: AsyncSession, alert: Alert) -> PolicyDocument:
    """The matching policy with the lowest priority; the built-in default if none matches."""
    for stored in await repo.policies(session, active_only=True):
        doc = PolicyDocument.model_validate(stored.document)
        if matches(doc, alert):
            return doc
    # A policy table emptied or edited into a gap must never leave an alert unpaged.
    for doc in DEFAULT_POLICIES:
        if matches(doc, alert):
            return doc
    return DEFAULT_POLICIES[-1]


# --- events --------------------------------------------------------------------------------


def alert_data(alert: Alert) -> dict[str, Any]:
    """An alert as webhook receivers get it (phone numbers masked, in the text too)."""
    return {
        "id": alert.id,
        "ref": alert.ref,
        "kind": alert.kind,
        "status": alert.status,
        "category": alert.category,
        "severity": alert.severity,
        "score": alert.score,
        "body": mask_in_text(alert.body),
        "from_phone": mask(alert.from_phone),
        "place": place.model_dump() if (place := PlaceRef.of(alert)) else None,
        "incident_id": alert.incident_id,
        "summary": mask_in_text(alert.summary) if alert.summary else alert.summary,
        "corrected": list(alert.correction["fields"]) if alert.correction else [],
        "received_at": alert.received_at.isoformat(),
        "updated_at": (alert.updated_at or alert.received_at).isoformat(),
    }


async def emit(
    session: AsyncSession, settings: Settings, event_type: str, alert: Alert, **extra: Any
) -> None:
    """Tell subscribed systems about an alert."""
    await outbox.emit_event(
        session,
        settings,
        event_type,
        {"alert": alert_data(alert), **masked(extra)},
        alert_id=alert.id,
    )


# --- starting and advancing --------------------------------------------------------------


async def on_new_alert(
    session: AsyncSession, settings: Settings, alert: Alert, now: datetime | None = None
) -> None:
    """A new alert: tell subscribers, then start paging (or count it on the running one)."""
    now = now or utcnow()
    await emit(session, settings, "alert.created", alert)
    if alert.incident_id is not None:
        running = await repo.of_incident(session, alert.incident_id, lock=True)
        if running is not None and running.alert_id != alert.id:
            lead = await alerts_repo.get(session, running.alert_id)
            if lead is not None and lead.status in OPEN:
                await _corroborating(session, settings, running, lead, alert, now)
                return
    await start(session, settings, alert, now)


async def _corroborating(
    session: AsyncSession,
    settings: Settings,
    escalation: Escalation,
    lead: Alert,
    alert: Alert,
    now: datetime,
) -> None:
    """Another report of an alert being paged: no new page, unless the severity rose."""
    if SEVERITY_RANK[alert.severity] > SEVERITY_RANK[escalation.severity]:
        lead.severity, lead.severity_rank = alert.severity, alert.severity_rank
        alerts_repo.add_event(
            session,
            lead,
            actor="system",
            action="severity_raised",
            detail={"severity": alert.severity, "by_alert": alert.id},
        )
        await emit(session, settings, "alert.updated", lead)
        await start(session, settings, lead, now, restart=escalation)
        return
    escalation.new_reports += 1
    alerts_repo.add_event(
        session, lead, actor="system", action="corroborated_by", detail={"alert_id": alert.id}
    )


async def on_corrected(
    session: AsyncSession,
    settings: Settings,
    alert: Alert,
    *,
    before_severity: str,
    new_zone: bool,
    now: datetime,
) -> None:
    """A human corrected an open alert: page again at a higher level or in its new zone
    (as a rise from corroboration does); corrected to low, nobody is paged any more."""
    if alert.status not in OPEN:
        return
    own = await repo.of_alert(session, alert.id, lock=True)
    if alert.severity == "low":
        await _stop(session, alert, "corrected to low", None)
        return
    if SEVERITY_RANK[alert.severity] <= SEVERITY_RANK[before_severity] and not new_zone:
        return
    if alert.incident_id is not None:
        running = await repo.of_incident(session, alert.incident_id, lock=True)
        if running is not None and running.state == ACTIVE and running.alert_id != alert.id:
            lead = await alerts_repo.get(session, running.alert_id)
            if lead is not None and lead.status in OPEN:
                # Another report of its incident is being paged: count on (or raise) that one.
                if own is not None and own.state == ACTIVE:
                    await _stop(session, alert, f"paged with alert {lead.id}", None)
                await _corroborating(session, settings, running, lead, alert, now)
                return
    await start(session, settings, alert, now, restart=own)


async def start(
    session: AsyncSession,
    settings: Settings,
    alert: Alert,
    now: datetime,
    *,
    restart: Escalation | None = None,
) -> Escalation:
    """Freeze the matching policy onto the alert and run the steps already due."""
    doc = await pick_policy(session, alert)
    frozen = doc.model_dump(mode="json")
    escalation = restart or Escalation(alert_id=alert.id, incident_id=alert.incident_id)
    escalation.incident_id = alert.incident_id
    escalation.policy_name = doc.name
    escalation.policy = frozen
    escalation.severity = alert.severity
    escalation.state = ACTIVE
    escalation.next_step = 0
    escalation.repeats_done = 0
    escalation.started_at = now
    escalation.next_due_at = now + timedelta(seconds=doc.steps[0].after_seconds)
    if restart is None:
        session.add(escalation)
    await session.flush()
    alerts_repo.add_event(
        session,
        alert,
        actor="system",
        action="escalation_restarted" if restart else "escalation_started",
        detail={"policy": doc.name, "severity": alert.severity},
    )
    await mark_work(session)
    await run_due(session, settings, escalation, alert, now)
    return escalation


async def advance_due(session: AsyncSession, settings: Settings, now: datetime, limit: int) -> int:
    """Worker: run the due steps of escalations (rows locked, SKIP LOCKED between workers)."""
    done = 0
    for escalation in await repo.claim_due(session, now, limit):
        alert = await alerts_repo.get(session, escalation.alert_id)
        if alert is None or alert.status not in OPEN:
            escalation.state = STOPPED
            escalation.stopped_reason = "alert closed"
            continue
        await run_due(session, settings, escalation, alert, now)
        done += 1
    return done


async def run_due(
    session: AsyncSession, settings: Settings, escalation: Escalation, alert: Alert, now: datetime
) -> None:
    """Execute every step of `escalation` that is due at `now`, then set the next due time."""
    doc = PolicyDocument.model_validate(escalation.policy)
    while (
        escalation.state == ACTIVE
        and escalation.next_due_at is not None
        and escalation.next_due_at <= now
    ):
        index = escalation.next_step
        if index < len(doc.steps):
            await _execute(session, settings, escalation, alert, [doc.steps[index]], index, now)
            escalation.next_step = index + 1
            if index + 1 < len(doc.steps):
                wait = doc.steps[index + 1].after_seconds
                escalation.next_due_at = escalation.started_at + timedelta(seconds=wait)
                continue
            if doc.repeat and doc.repeat.times > 0:
                escalation.next_due_at = escalation.next_due_at + timedelta(
                    seconds=doc.repeat.every_seconds
                )
                continue
        elif doc.repeat and escalation.repeats_done < doc.repeat.times:
            await _execute(session, settings, escalation, alert, doc.steps, index, now)
            escalation.repeats_done += 1
            if escalation.repeats_done < doc.repeat.times:
                escalation.next_due_at = escalation.next_due_at + timedelta(
                    seconds=doc.repeat.every_seconds
                )
                continue
        escalation.state = DONE
        escalation.next_due_at = None
        alerts_repo.add_event(
            session,
            alert,
            actor="system",
            action="escalation_finished",
            detail={"policy": escalation.policy_name, "repeats": escalation.repeats_done},
        )


async def _execute(
    session: AsyncSession,
    settings: Settings,
    escalation: Escalation,
    alert: Alert,
    steps: list[Step],
    index: int,
    now: datetime,
) -> None:
    """Page the recipients of `steps` (a repeat pages those of every step)."""
    channels = {c for step in steps for c in step.channels}
    recipients: dict[str, Recipient] = {}
    for step in steps:
        for r in await recipients_of(session, step.notify, alert):
            recipients.setdefault(r.phone, r)
    paged: list[int] = []
    if "sms" in channels:
        for r in recipients.values():
            await _page(session, settings, escalation, alert, r, index)
            if r.liaison is not None:
                paged.append(r.liaison.id)
        escalation.new_reports = 0
        if not recipients:
            log.error(
                "alert %s: nobody to page at step %s (no on-duty JOC officer)", alert.id, index
            )
    alerts_repo.add_event(
        session,
        alert,
        actor="system",
        action="escalated",
        detail={
            "step": index,
            "channels": sorted(channels),
            "liaisons": paged,
            "recipients": len(recipients) if "sms" in channels else 0,
        },
    )
    if "webhook" in channels:
        await emit(session, settings, "alert.escalated", alert, step=index, liaisons=paged)


async def _page(
    session: AsyncSession,
    settings: Settings,
    escalation: Escalation,
    alert: Alert,
    recipient: Recipient,
    index: int,
) -> Delivery:
    # The call-back number (in the page, or written in the report) goes only to the
    # liaisons of the alert's own zone: never to JOC officers or a list of numbers.
    may_call_back = settings.page_includes_reporter_phone and in_zone(recipient.liaison, alert)
    text = messages.page(
        language=recipient.language,
        ref=alert.ref,
        severity=alert.severity,
        category=alert.category,
        place=alert.place_name,
        admin2=alert.admin2,
        at=alert.received_at,
        body=alert.body if may_call_back else mask_in_text(alert.body),
        reporter_phone=alert.from_phone if may_call_back else None,
        new_reports=escalation.new_reports,
        timezone=settings.timezone,
    )
    return await outbox.enqueue_sms(
        session,
        settings,
        to=recipient.phone,
        body=text,
        purpose="page",
        alert_id=alert.id,
        liaison_id=recipient.liaison.id if recipient.liaison else None,
        step=index,
    )


def _covers(liaison: Liaison, alert: Alert) -> bool:
    """Whether the liaison's zones contain the alert's territoire or province."""
    places = {name.lower() for name in (alert.admin2, alert.admin1) if name}
    return bool(places & {z.lower() for z in liaison.zones})


def in_zone(liaison: Liaison | None, alert: Alert) -> bool:
    """Whether `liaison` is a community liaison (not JOC) of the alert's zone."""
    return liaison is not None and liaison.tier == "liaison" and _covers(liaison, alert)


async def _in_zone(session: AsyncSession, tier: str, alert: Alert) -> list[Liaison]:
    """On-duty liaisons of `tier` whose zones contain the alert's territoire or province."""
    return [liaison for liaison in await repo.on_duty(session, tier) if _covers(liaison, alert)]


async def recipients_of(
    session: AsyncSession, notify: NotifyTier | Phones, alert: Alert
) -> list[Recipient]:
    """Whom a step's `notify` names for this alert; JOC officers when the zone has nobody."""
    if isinstance(notify, Phones):
        known = {
            liaison.phone: liaison
            for tier in ("liaison", "joc")
            for liaison in await repo.on_duty(session, tier)
        }
        return [
            Recipient(p, known[p].language if p in known else "fr", known.get(p))
            for p in notify.phones
        ]
    if notify in ("zone_liaisons", "zone_joc"):
        found = await _in_zone(session, "liaison" if notify == "zone_liaisons" else "joc", alert)
        if found:
            return [Recipient(x.phone, x.language, x) for x in found]
    return [Recipient(x.phone, x.language, x) for x in await repo.on_duty(session, "joc")]


async def on_page_failed(session: AsyncSession, settings: Settings, delivery: Delivery) -> None:
    """A page ended undelivered or failed: page the next liaison of the zone, else its JOC."""
    if delivery.purpose != "page" or delivery.alert_id is None:
        return
    alert = await alerts_repo.get(session, delivery.alert_id)
    escalation = await repo.of_alert(session, delivery.alert_id, lock=True)
    if alert is None or alert.status != "new" or escalation is None:
        return
    if escalation.state == STOPPED:
        return
    already = await outbox.paged_liaison_ids(session, alert.id)
    candidates: list[Liaison] = []
    for tier in ("liaison", "joc"):
        candidates = [x for x in await _in_zone(session, tier, alert) if x.id not in already]
        if candidates:
            break
    if not candidates:
        candidates = [x for x in await repo.on_duty(session, "joc") if x.id not in already]
    if not candidates:
        log.error("alert %s: page undelivered and nobody left to page", alert.id)
        return
    nxt = candidates[0]
    await _page(
        session,
        settings,
        escalation,
        alert,
        Recipient(nxt.phone, nxt.language, nxt),
        delivery.escalation_step or 0,
    )
    alerts_repo.add_event(
        session,
        alert,
        actor="system",
        action="page_fallback",
        detail={"failed_delivery": delivery.id, "liaison": nxt.id, "reason": delivery.last_error},
    )


async def acknowledge(
    session: AsyncSession,
    settings: Settings,
    alert: Alert,
    liaison: Liaison | None,
    now: datetime,
    *,
    quiet: bool = False,
    actor: str | None = None,
    name: str | None = None,
    note: str | None = None,
) -> None:
    """Someone takes the alert: stop the paging, tell the others and the reporter.

    A liaison by SMS, or an operations room through the API (`actor` and `name` then).
    """
    actor = actor or (f"liaison:{liaison.id}" if liaison else "system")
    name = name or (liaison.name if liaison else actor)
    await _stop(session, alert, "acknowledged", liaison)
    if alert.status != "new":
        if not quiet:
            alerts_repo.add_event(session, alert, actor=actor, action="acknowledged_again")
        return
    alert.status = "acknowledged"
    alerts_repo.add_event(
        session,
        alert,
        actor=actor,
        action="acknowledged",
        from_status="new",
        to_status="acknowledged",
        note=note,
    )
    others = await outbox.paged_liaison_ids(session, alert.id)
    if liaison is not None:
        others.discard(liaison.id)
    for other in await repo.liaisons_by_ids(session, others):
        await outbox.enqueue_sms(
            session,
            settings,
            to=other.phone,
            body=messages.taken(other.language, alert.ref, name),
            purpose="taken",
            alert_id=alert.id,
            liaison_id=other.id,
        )
    await _tell_reporters(session, settings, alert, "reporter_ack")
    extra: dict[str, Any] = {"liaison_id": liaison.id} if liaison else {"by": name}
    await emit(session, settings, "alert.acknowledged", alert, **extra)


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
    """Someone checked the report (and so took it, if nobody had): confirmed, it is verified;
    not confirmed or the reporter unreachable, the outcome is recorded and it stays open."""
    actor = actor or (f"liaison:{liaison.id}" if liaison else "system")
    await acknowledge(
        session, settings, alert, liaison, now, quiet=alert.status != "new", actor=actor, name=name
    )
    before = alert.status
    if alert.status in ("new", "acknowledged") and result == "confirmed":
        alert.status = "verified"
    alert.verified_how, alert.verified_result, alert.verified_at = how, result, now
    alerts_repo.add_event(
        session,
        alert,
        actor=actor,
        action="verified" if result == "confirmed" else f"verification_{result}",
        detail={"how": how, "result": result},
        note=note,
        from_status=before if before != alert.status else None,
        to_status=alert.status if before != alert.status else None,
    )
    await emit(session, settings, "alert.updated", alert)


async def close(
    session: AsyncSession,
    settings: Settings,
    alert: Alert,
    liaison: Liaison | None,
    status: str,
    note: str | None,
    now: datetime,
    *,
    actor: str | None = None,
) -> None:
    """Resolve an alert or call it a false alarm; its incident closes with it."""
    incident = None
    if alert.incident_id is not None:
        # Incident, then escalation, then alert: the order every writer locks them in.
        incident = await alerts_repo.lock_incident(session, alert.incident_id)
    await _stop(session, alert, status, liaison)
    actor = actor or (f"liaison:{liaison.id}" if liaison else "system")
    if alert.status in ("resolved", "false_alarm"):
        return
    before = alert.status
    alert.status = status
    alerts_repo.add_event(
        session, alert, actor=actor, action=status, note=note, from_status=before, to_status=status
    )
    if incident is not None:
        incident.status = "closed"
    if status == "resolved":
        await _tell_reporters(session, settings, alert, "reporter_resolved")
        await emit(session, settings, "alert.resolved", alert, note=note)
    else:
        await emit(session, settings, "alert.updated", alert, note=note)


async def _stop(session: AsyncSession, alert: Alert, reason: str, liaison: Liaison | None) -> None:
    escalation = await repo.of_alert(session, alert.id, lock=True)
    if escalation is not None and escalation.state != STOPPED:
        escalation.state = STOPPED
        escalation.stopped_reason = reason
        escalation.next_due_at = None
        escalation.acknowledged_by = liaison.id if liaison else None
    for pending in await outbox.pending_pages(session, alert.id):
        pending.status = "cancelled"
        pending.last_error = f"alert {reason}"


async def _tell_reporters(
    session: AsyncSession, settings: Settings, alert: Alert, kind: str
) -> None:
    """The "visible response": reporters hear that their alert was taken, then closed."""
    if not settings.receipts_enabled:
        return
    alerts: list[Alert] = [alert]
    if alert.incident_id is not None:
        alerts = list(
            (
                await session.scalars(select(Alert).where(Alert.incident_id == alert.incident_id))
            ).all()
        )
    seen: set[str] = set()
    for reported in alerts:
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


async def next_due_at(session: AsyncSession) -> datetime | None:
    """When the next step of a running escalation falls due (None: none is running)."""
    return await repo.next_due_at(session)
