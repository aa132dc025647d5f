"""Whom a step pages and the pages themselves: the roster of a zone, the SMS, the stop."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from app.alerts import service as alerts
from app.alerts.models import Alert
from app.escalation import messages
from app.escalation import repository as repo
from app.escalation.events import emit
from app.escalation.models import STOPPED, Escalation
from app.escalation.schemas import NotifyTier, Phones, Step
from app.kit import metrics
from app.kit.config import Settings
from app.kit.phones import mask_in_text
from app.outbox import service as outbox
from app.outbox.models import Delivery
from app.people import service as people
from app.people.models import Liaison

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Recipient:
    """Someone to page."""

    phone: str
    language: str
    liaison: Liaison | None = None


async def execute(
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
            await page(session, settings, escalation, alert, r, index)
            if r.liaison is not None:
                paged.append(r.liaison.id)
        escalation.new_reports = 0
    escalated(
        session,
        alert,
        step=index,
        channels=sorted(channels),
        liaisons=paged,
        recipients=len(recipients) if "sms" in channels else 0,
    )
    nobody = "sms" in channels and not recipients
    if nobody:
        _nobody_paged(session, steps, alert, index)
    if "webhook" in channels or nobody:
        # A step that paged nobody is news for other systems whatever its channels.
        extra = {"nobody_paged": NOBODY_ON_DUTY} if nobody else {}
        await emit(session, settings, "alert.escalated", alert, step=index, liaisons=paged, **extra)


def escalated(
    session: AsyncSession,
    alert: Alert,
    *,
    step: int,
    channels: list[str],
    liaisons: list[int],
    recipients: int,
    **extra: object,
) -> None:
    """The alert's trail: a step paged (its channels, the liaisons and how many recipients)."""
    detail = {
        "step": step,
        "channels": channels,
        "liaisons": liaisons,
        "recipients": recipients,
        **extra,
    }
    alerts.add_event(session, alert, actor="system", action="escalated", detail=detail)


# Why a step paged nobody (the `reason` of its `nobody_paged` event, the `nobody_paged` of its
# `alert.escalated` webhook): nobody it names may be paged, and no JOC officer is on duty.
NOBODY_ON_DUTY = "nobody_on_duty"


def _nobody_paged(session: AsyncSession, steps: list[Step], alert: Alert, index: int) -> None:
    """A step's SMS paged nobody: who was missing (`nobody_paged`)."""
    named = {"phones" if isinstance(s.notify, Phones) else s.notify for s in steps}
    zone = " / ".join(name for name in (alert.admin2, alert.admin1) if name) or "no place"
    whom = []
    if "zone_liaisons" in named:
        whom.append(f"no liaison of the zone ({zone}) on duty")
    if "phones" in named:
        whom.append("no number of the policy's list may be paged (off duty or deactivated)")
    whom.append("no JOC officer on duty")
    note = "Nobody paged: " + ", ".join(whom) + "."
    nobody_paged(session, alert, note, step=index, reason=NOBODY_ON_DUTY, notify=sorted(named))


def nobody_paged(session: AsyncSession, alert: Alert, note: str, **detail: object) -> None:
    """Nobody was paged for the alert (a step, or a failed page's passing on): its trail says
    so and why (the operations room sees it, pollers and the stream get the alert),
    Prometheus counts it (`kengele_escalation_steps_unpaged_total`), the log says it."""
    alerts.add_event(
        session, alert, actor="system", action="nobody_paged", detail=detail, note=note
    )
    metrics.after_commit(session, metrics.STEPS_UNPAGED.inc)
    log.error("alert %s: nobody paged (%s)", alert.id, note)


async def page(
    session: AsyncSession,
    settings: Settings,
    escalation: Escalation,
    alert: Alert,
    recipient: Recipient,
    index: int,
) -> Delivery:
    # The call-back number (in the page, or written in the report) goes only to the
    # liaisons of the alert's own zone: never to JOC officers or a list of numbers.
    of_zone = in_zone(recipient.liaison, alert)
    may_call_back = settings.page_includes_reporter_phone and of_zone
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
        # Only a liaison's OK takes an alert: a number a policy lists, of no liaison (a duty
        # officer's phone), is told of the alert, not asked for an OK that would be filed as
        # a report of its own while the paging went on.
        answer=recipient.liaison is not None,
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
        of_zone=of_zone,
        flush=False,
    )


def _covers(liaison: Liaison, alert: Alert) -> bool:
    """Whether the liaison's zones contain the alert's territoire or province."""
    return covers(liaison.zones, alert)


def covers(zones: Sequence[str], alert: Alert) -> bool:
    """Whether `zones` (a liaison's) contain the alert's territoire or province."""
    places = {name.lower() for name in (alert.admin2, alert.admin1) if name}
    return bool(places & {z.lower() for z in zones})


def in_zone(liaison: Liaison | None, alert: Alert) -> bool:
    """Whether `liaison` is a community liaison (not JOC) of the alert's zone."""
    return liaison is not None and liaison.tier == "liaison" and _covers(liaison, alert)


async def on_duty_in_zone(session: AsyncSession, tier: str, alert: Alert) -> list[Liaison]:
    """On-duty liaisons of `tier` whose zones contain the alert's territoire or province."""
    return [liaison for liaison in await people.on_duty(session, tier) if _covers(liaison, alert)]


async def recipients_of(
    session: AsyncSession, notify: NotifyTier | Phones, alert: Alert
) -> list[Recipient]:
    """Whom a step's `notify` names for this alert; JOC officers when the zone (or the list
    of numbers) has nobody. A listed number of a liaison off duty or deactivated is not paged:
    only on-duty liaisons are; a number of no liaison is."""
    if isinstance(notify, Phones):
        liaisons = await people.liaisons_by_phones(session, notify.phones)
        listed = [
            Recipient(p, liaisons[p].language, liaisons[p]) if p in liaisons else Recipient(p, "fr")
            for p in notify.phones
            if p not in liaisons or people.pageable(liaisons[p])
        ]
        if listed:
            return listed
    elif notify in ("zone_liaisons", "zone_joc"):
        found = await on_duty_in_zone(
            session, "liaison" if notify == "zone_liaisons" else "joc", alert
        )
        if found:
            return [Recipient(x.phone, x.language, x) for x in found]
    return [Recipient(x.phone, x.language, x) for x in await people.on_duty(session, "joc")]


async def stop(session: AsyncSession, alert: Alert, reason: str, liaison: Liaison | None) -> None:
    """The alert's paging stops (taken by `liaison`, if one), its pages and calls not yet made
    cancelled."""
    escalation = await repo.of_alert(session, alert.id, lock=True)
    if escalation is not None and escalation.state != STOPPED:
        escalation.state = STOPPED
        escalation.stopped_reason = reason
        escalation.next_due_at = None
        escalation.acknowledged_by = liaison.id if liaison else None
    await outbox.cancel_pending_pages(session, alert.id, f"alert {reason}")
