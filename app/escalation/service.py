"""The escalation engine: page in steps until someone acknowledges, and stop when taken
(what it does when an alert moves: app/escalation/reactions.py)."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from app.alerts import service as alerts
from app.alerts.models import SEVERITY_RANK, Alert
from app.alerts.status import OPEN, AlertStatus
from app.escalation import repository as repo
from app.escalation.events import emit
from app.escalation.models import ACTIVE, DONE, STOPPED, Escalation, EscalationPolicy
from app.escalation.paging import (
    Recipient,
    covers,
    escalated,
    execute,
    in_zone,
    nobody_paged,
    on_duty_in_zone,
    page,
    stop,
)
from app.escalation.schemas import DEFAULT_POLICIES, PolicyDocument, Repeat
from app.kit.clock import utcnow
from app.kit.config import Settings
from app.kit.errors import conflicted, unavailable
from app.outbox import service as outbox
from app.outbox.models import Delivery
from app.outbox.wakeup import mark_work
from app.people import service as people
from app.people.models import Liaison

log = logging.getLogger(__name__)


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


# --- starting and advancing --------------------------------------------------------------


async def on_new_alert(
    session: AsyncSession, settings: Settings, alert: Alert, now: datetime | None = None
) -> None:
    """A new alert: tell subscribers, then start paging (or count it on the running one)."""
    now = now or utcnow()
    await emit(session, settings, "alert.created", alert)
    if alert.incident_id is not None and not alerts.incident_opened_here(
        session, alert.incident_id
    ):
        # Both locked now, after the incident: the lead's trail gets an event.
        found = await repo.lock_with_lead(session, alert.incident_id)
        if found is not None:
            running, lead = found
            alerts.held(session, lead)
            if running.alert_id != alert.id and lead.status in OPEN:
                await _corroborating(session, settings, running, lead, alert, now)
                return
    await start(session, settings, alert, now)


# A paging that ran its steps with nobody taking the event goes again for a new report of
# it, once its last step is this old: an event reported again must not go silent (a medium
# event's paging is one step), nor page the zone at every report of a surge.
PAGE_AGAIN_AFTER = timedelta(minutes=15)


def _ran_out(escalation: Escalation, lead: Alert, now: datetime) -> bool:
    """Whether the paging ran every step (and repeat) with nobody taking the event, its last
    page PAGE_AGAIN_AFTER ago or more."""
    if escalation.state != DONE or lead.status != AlertStatus.NEW:
        return False
    doc = PolicyDocument.model_validate(escalation.policy)
    last = doc.steps[-1].after_seconds
    if doc.repeat:
        last += doc.repeat.times * doc.repeat.every_seconds
    return now >= escalation.started_at + timedelta(seconds=last) + PAGE_AGAIN_AFTER


async def _corroborating(
    session: AsyncSession,
    settings: Settings,
    escalation: Escalation,
    lead: Alert,
    alert: Alert,
    now: datetime,
    *,
    counted: bool = False,
) -> None:
    """Another report of an alert being paged: no new page, unless its severity is above
    the alert's (as it is now: a human may have lowered it since the paging started), or the
    paging ran out with nobody taking the event (`_ran_out`): then the paging starts again,
    the report counted in its first page. `counted`: a report of the event counted already
    (a correction raised it): not counted again, but paged as one that is not."""
    if SEVERITY_RANK[alert.severity] > SEVERITY_RANK[lead.severity]:
        lead.severity, lead.severity_rank = alert.severity, alert.severity_rank
        alerts.add_event(
            session,
            lead,
            actor="system",
            action="severity_raised",
            detail={"severity": alert.severity, "by_alert": alert.id},
        )
        await emit(session, settings, "alert.updated", lead)
        await start(session, settings, lead, now, restart=escalation)
        return
    if not counted:
        await repo.count_report(session, escalation)
        alerts.add_event(
            session, lead, actor="system", action="corroborated_by", detail={"alert_id": alert.id}
        )
    if _ran_out(escalation, lead, now):
        await start(session, settings, lead, now, restart=escalation)


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
        await stop(session, alert, "corrected to low", None)
        return
    if SEVERITY_RANK[alert.severity] <= SEVERITY_RANK[before_severity] and not new_zone:
        return
    if alert.incident_id is not None:
        running = await repo.of_incident(session, alert.incident_id, lock=True)
        if running is not None and running.alert_id != alert.id:
            # Locked now, in the order incident, escalation, alert: its trail gets an event.
            lead = await alerts.lock(session, running.alert_id)
            if lead is not None and lead.status in OPEN:
                # Another report of its open event leads its paging (running, taken or run
                # out): raise that one, as a new report of the event would (`on_new_alert`).
                if own is not None and own.state == ACTIVE:
                    await stop(session, alert, f"paged with alert {lead.id}", None)
                # A report of the event already, counted when it joined it.
                await _corroborating(session, settings, running, lead, alert, now, counted=True)
                return
    await start(session, settings, alert, now, restart=own)


async def on_incident_left(
    session: AsyncSession, settings: Settings, alert: Alert, left: int | None, now: datetime
) -> bool:
    """An alert left incident `left` (the operations room detached it as another event, or
    a correction moved it far), or (`left` None) had none and now has one (a correction made
    it a report of an event): whether its paging is settled here (else the correction's own
    rules apply, `on_corrected`).

    Its escalation goes with it: left pointing at `left`, later reports of that event would
    be counted on this alert's paging (taken or finished: never paged). Joined to an event
    paged already, it is counted on that paging, its own stopped. A new alert without one
    is paged as the event of its own it now is. When the paging of `left` was this alert's,
    the new reports left behind are paged as theirs, the first of them leading: nobody had
    taken that event."""
    own = await repo.of_alert(session, alert.id, lock=True)
    if alert.status not in OPEN:
        # A closed report moved (a false alarm's place put right): it pages nobody, nor
        # raises the event it now lies in; its paging no longer stands for `left`.
        if own is not None and left is not None and own.incident_id == left:
            own.incident_id = None
            await _page_reports_left_behind(session, settings, left, now)
        return True
    joined = None
    if alert.incident_id is not None:
        found = await repo.lock_with_lead(session, alert.incident_id)
        if found is not None and found[0].alert_id != alert.id and found[1].status in OPEN:
            joined = found
    settled = False
    if joined is not None:
        # Another report of an open event paged already: counted there (or raising it).
        running, lead = joined
        if own is not None:
            own.incident_id = None  # the incident's paging is the one it joined
            if own.state == ACTIVE:
                await stop(session, alert, f"paged with alert {lead.id}", None)
        alerts.held(session, lead)
        await _corroborating(session, settings, running, lead, alert, now)
        settled = True
    elif own is None:
        if alert.status == AlertStatus.NEW:
            await start(session, settings, alert, now)
            settled = True
    else:
        own.incident_id = alert.incident_id
        if alert.status == AlertStatus.NEW and own.state != ACTIVE and own.acknowledged_by is None:
            # Its paging had stopped as another's report (or had run its steps): nobody has
            # taken the event of its own it now is.
            await start(session, settings, alert, now, restart=own)
            settled = True
        elif alert.incident_id is not None:
            # The incident's paging, if any, was led by a closed report (or is this one's).
            await _make_incident_paging(session, own, alert.incident_id)
    if own is not None and left is not None:
        await _page_reports_left_behind(session, settings, left, now)
    return settled


async def _page_reports_left_behind(
    session: AsyncSession, settings: Settings, left: int, now: datetime
) -> None:
    """When incident `left` no longer has a paging (its was the alert that left), its first
    report still new is paged as the event's lead: nobody had taken that event."""
    if await repo.of_incident(session, left) is None:
        await _page_first_new(session, settings, left, now)


async def leads_untaken_event(session: AsyncSession, alert: Alert) -> bool:
    """Whether the alert is still new and its paging is its incident's, not stopped: it leads
    the paging of an event nobody has taken."""
    if alert.incident_id is None or alert.status != AlertStatus.NEW:
        return False
    own = await repo.of_alert(session, alert.id)
    return own is not None and own.incident_id == alert.incident_id and own.state != STOPPED


async def page_after_false_lead(
    session: AsyncSession, settings: Settings, alert: Alert, now: datetime
) -> None:
    """The lead of an event nobody had taken (`leads_untaken_event`, asked before) was called
    a false alarm, and its paging stopped: the event's other reports are not false for it
    (its incident stays open), so its first report still new is paged as its lead, at its
    own severity."""
    if alert.incident_id is not None:
        await _page_first_new(session, settings, alert.incident_id, now)


async def _page_first_new(
    session: AsyncSession, settings: Settings, incident_id: int, now: datetime
) -> None:
    """The incident's first report still new is paged as its event's lead. It may have a
    paging of its own already (a merged incident's lead, a report a correction moved in):
    stopped or run out, it starts again; still running, it goes on where it is. Either way
    it is made the incident's (`of_incident` takes the newest, which it may not be)."""
    for other in await alerts.of_incident(session, incident_id):
        if other.status == AlertStatus.NEW:
            own = await repo.of_alert(session, other.id, lock=True)  # before the alert
            heir = await alerts.lock(session, other.id)
            if heir is None:
                break
            if own is not None and own.state == ACTIVE:
                # Still running: it goes on where it is (not from its first step).
                await _make_incident_paging(session, own, incident_id)
            else:
                await start(session, settings, heir, now, restart=own)
            break


Paging = tuple[Escalation, Alert]


async def lock_pagings(session: AsyncSession, incident_ids: Sequence[int]) -> dict[int, Paging]:
    """The paging of each incident (its newest escalation) with its lead, row-locked in the
    order given (two incidents: in id order, after them), before any alert of theirs changes."""
    found: dict[int, Paging] = {}
    for incident_id in incident_ids:
        row = await repo.lock_with_lead(session, incident_id)
        if row is not None:
            alerts.held(session, row[1])
            found[incident_id] = row
    return found


def _taken(paging: Paging) -> bool:
    """Whether someone has the event of this paging (its lead taken, still open)."""
    return paging[1].status in OPEN and paging[1].status != AlertStatus.NEW


async def on_incidents_merged(
    session: AsyncSession, pagings: dict[int, Paging], source_id: int, target_id: int
) -> None:
    """Incident `source_id` was merged into `target_id` (`pagings`: theirs, `lock_pagings`):
    one event, one paging. It is, in this order: the paging of an event someone has taken
    (nobody is paged for an event someone has, nor paged again: the other stops); else a
    running one, the more severe if both run (a critical event is not paged on a high one's
    slower steps); else one whose lead is open; on a tie, the surviving incident's. The
    other stops, its pages not yet sent cancelled, its lead's trail says into which paging
    (`escalation_merged`). The event's later reports are counted on the one kept; a liaison
    who takes the absorbed lead by the reference they were paged with stops it too
    (app/escalation/reactions.py)."""
    both = [p for p in (pagings.get(target_id), pagings.get(source_id)) if p is not None]
    if not both:
        return
    running = sorted(
        (p for p in both if p[0].state == ACTIVE),
        key=lambda p: p[1].severity_rank,
        reverse=True,
    )  # the surviving incident's first among equals: a stable sort
    kept = next(
        (p for p in both if _taken(p)),
        running[0] if running else next((p for p in both if p[1].status in OPEN), both[0]),
    )
    await repo.point_incident(session, kept[0], target_id, (source_id, target_id))
    for escalation, lead in both:
        if escalation is kept[0]:
            continue
        if kept[0].state == ACTIVE and escalation.new_reports:
            # Reports it was to tell in its next page: the kept paging's next page tells them.
            kept[0].new_reports += escalation.new_reports
            escalation.new_reports = 0
        await stop(session, lead, f"merged: paged with alert {kept[1].id}", None)
        alerts.add_event(
            session,
            lead,
            actor="system",
            action="escalation_merged",
            detail={"into_alert": kept[1].id, "incident_id": target_id, "taken": _taken(kept)},
        )


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
        session.add(escalation)  # the newest of its incident's: its paging
    elif alert.incident_id is not None:
        await _make_incident_paging(session, escalation, alert.incident_id)
    alerts.add_event(
        session,
        alert,
        actor="system",
        action="escalation_restarted" if restart else "escalation_started",
        detail={"policy": doc.name, "severity": alert.severity},
    )
    await mark_work(session)
    await run_due(session, settings, escalation, alert, now)
    return escalation


async def _make_incident_paging(
    session: AsyncSession, escalation: Escalation, incident_id: int
) -> None:
    """Make an alert's existing paging its incident's, the only one pointing at it: restarted,
    or going on for an event whose paging was another's (`of_incident` takes the newest
    escalation, which an existing one may not be)."""
    await repo.point_incident(session, escalation, incident_id, (incident_id,))


# An escalation whose step failed (a bug, data nobody expected) is tried again this much
# later; the others due with it go on.
FAILED_STEP_RETRY = timedelta(seconds=60)
# One whose step the database aborted for a conflict with another transaction (a deadlock):
# nothing was wrong with it, and a page a minute late may be a minute lost. Tried again at
# the next pass this soon after.
CONFLICTED_STEP_RETRY = timedelta(seconds=1)


async def advance_due(session: AsyncSession, settings: Settings, now: datetime, limit: int) -> int:
    """Worker: run the due steps of escalations (rows locked, SKIP LOCKED between workers).

    Each in a savepoint of its own: one whose step raises is rolled back alone and tried
    again FAILED_STEP_RETRY later (CONFLICTED_STEP_RETRY when the database aborted it for a
    conflict). In one transaction for all, it would roll back every page of the pass at every
    try: one bad alert would stop the paging of all. The database away still fails the pass
    (the loop retries it)."""
    done = 0
    for escalation in await repo.claim_due(session, now, limit):
        escalation_id, alert_id = escalation.id, escalation.alert_id
        try:
            async with session.begin_nested():
                alert = await alerts.get(session, alert_id)
                if alert is None or alert.status not in OPEN:
                    escalation.state = STOPPED
                    escalation.stopped_reason = "alert closed"
                    continue
                await run_due(session, settings, escalation, alert, now)
        except Exception as exc:
            if unavailable(exc):
                raise
            conflict = conflicted(exc)  # no bug: no traceback, and tried again soon
            retry = CONFLICTED_STEP_RETRY if conflict else FAILED_STEP_RETRY
            log.log(
                logging.INFO if conflict else logging.ERROR,
                "escalation %s (alert %s): its step %s; tried again in %.0f s",
                escalation_id,
                alert_id,
                "was aborted for a conflict" if conflict else "failed",
                retry.total_seconds(),
                exc_info=not conflict,
            )
            await repo.postpone(session, escalation_id, now + retry)
            continue
        done += 1
    return done


async def run_due(
    session: AsyncSession, settings: Settings, escalation: Escalation, alert: Alert, now: datetime
) -> None:
    """Execute every step of `escalation` that is due at `now`, then set the next due time.

    Steps due together (a pass run late: the gateway or its database was away) all page, each
    its own people. A repeat is timed from the page before it, as it went out: one run late
    is not followed at once by the repeats missed meanwhile (a burst of copies of one page,
    the repeats spent), the next comes `every_seconds` later."""
    doc = PolicyDocument.model_validate(escalation.policy)
    while (
        escalation.state == ACTIVE
        and escalation.next_due_at is not None
        and escalation.next_due_at <= now
    ):
        index = escalation.next_step
        if index < len(doc.steps):
            await execute(session, settings, escalation, alert, [doc.steps[index]], index, now)
            escalation.next_step = index + 1
            if index + 1 < len(doc.steps):
                wait = doc.steps[index + 1].after_seconds
                escalation.next_due_at = escalation.started_at + timedelta(seconds=wait)
                continue
            if doc.repeat and doc.repeat.times > 0:
                escalation.next_due_at = _after(escalation.next_due_at, now, doc.repeat)
                continue
        elif doc.repeat and escalation.repeats_done < doc.repeat.times:
            await execute(session, settings, escalation, alert, doc.steps, index, now)
            escalation.repeats_done += 1
            if escalation.repeats_done < doc.repeat.times:
                escalation.next_due_at = _after(escalation.next_due_at, now, doc.repeat)
                continue
        escalation.state = DONE
        escalation.next_due_at = None
        alerts.add_event(
            session,
            alert,
            actor="system",
            action="escalation_finished",
            detail={"policy": escalation.policy_name, "repeats": escalation.repeats_done},
        )


def _after(due: datetime, now: datetime, repeat: Repeat) -> datetime:
    """When the repeat after a page due at `due` and sent at `now` falls due."""
    return max(due, now) + timedelta(seconds=repeat.every_seconds)


# A liaison who comes on duty is paged for the alerts nobody has that came in this recently.
ON_DUTY_LOOKBACK = timedelta(hours=24)


async def page_on_duty(session: AsyncSession, settings: Settings, liaison: Liaison) -> list[int]:
    """A liaison who may be paged now (come on duty, active again, new, given a zone): each
    alert still new, of the last ON_DUTY_LOOKBACK, whose paging reached nobody (its steps
    found nobody on duty, or every page failed) and for which they would be paged (a liaison
    of its zone; a JOC officer for any) is paged to them at its paging's step, with an
    `escalated` event and an `alert.escalated` webhook saying so: nobody else has it. The
    ids of the alerts paged."""
    if not people.pageable(liaison):
        return []
    paged: list[int] = []
    since = utcnow() - ON_DUTY_LOOKBACK
    community = await people.on_duty(session, "liaison")
    for alert in await repo.unpaged_new_alerts(session, since):
        if liaison.tier != "joc" and not in_zone(liaison, alert):
            continue
        # A page left queued for a liaison moved to other zones (nobody else could take it
        # then) reaches nobody of the alert's zone: it does not count.
        elsewhere = [x.id for x in community if not covers(x.zones, alert)]
        if await outbox.has_live_page(session, alert.id, not_for=elsewhere):
            continue
        escalation = await lock_of_alert(session, alert.id)  # and then its state again
        if escalation is None or escalation.state == STOPPED:
            continue
        step = max(escalation.next_step - 1, 0)
        recipient = Recipient(liaison.phone, liaison.language, liaison)
        await page(session, settings, escalation, alert, recipient, step)
        escalated(
            session,
            alert,
            step=step,
            channels=["sms"],
            liaisons=[liaison.id],
            recipients=1,
            reason="came_on_duty",
        )
        # Subscribers heard that nobody was paged for it: they hear that someone now is.
        await emit(
            session,
            settings,
            "alert.escalated",
            alert,
            step=step,
            liaisons=[liaison.id],
            reason="came_on_duty",
        )
        paged.append(alert.id)
    return paged


async def out_of_zones(
    session: AsyncSession, liaison: Liaison, zones_before: Sequence[str], alert_ids: Iterable[int]
) -> set[int]:
    """Of `alert_ids` (the liaison's queued pages), the alerts their zones no longer contain
    and `zones_before` did: a community liaison moved to other zones is no longer the one to
    page for those (a JOC officer, paged for any zone when the zone has nobody, stays)."""
    if liaison.tier != "liaison":
        return set()
    away: set[int] = set()
    for alert_id in alert_ids:
        alert = await alerts.get(session, alert_id)
        if alert is not None and covers(zones_before, alert) and not in_zone(liaison, alert):
            away.add(alert_id)
    return away


async def left_zone_of(session: AsyncSession, liaison: Liaison, alert_id: int) -> bool:
    """Whether a community liaison's zones no longer contain the alert's place (a JOC officer,
    paged for any zone when the zone has nobody, never left it)."""
    if liaison.tier != "liaison":
        return False
    alert = await alerts.get(session, alert_id)
    return alert is not None and not in_zone(liaison, alert)


async def lock_of_alert(session: AsyncSession, alert_id: int) -> Escalation | None:
    """The alert's escalation, row-locked (before the alert: the order every writer takes)."""
    return await repo.of_alert(session, alert_id, lock=True)


async def on_page_failed(
    session: AsyncSession, settings: Settings, delivery: Delivery, *, reason: str | None = None
) -> Liaison | None:
    """A page ended undelivered or failed (a provider's status), or dead (the worker gave up
    on it: a permanent refusal, its last attempt used), or will not go to its liaison (they
    left the roster while it was queued: `reason`): page the next on-duty liaison of the
    zone not paged yet, else its JOC; returns whom (None: nobody, or the alert no longer
    needs it)."""
    if delivery.purpose != "page" or delivery.alert_id is None:
        return None
    alert = await alerts.get(session, delivery.alert_id)
    escalation = await repo.of_alert(session, delivery.alert_id, lock=True)
    if alert is None or alert.status not in OPEN or escalation is None:
        return None
    if escalation.state == STOPPED:
        return None
    if alert.status != AlertStatus.NEW and escalation.state != ACTIVE:
        return None  # taken, and its paging (restarted by a rise in severity) is over
    already = await outbox.paged_liaison_ids(session, alert.id)
    candidates: list[Liaison] = []
    for tier in ("liaison", "joc"):
        candidates = [x for x in await on_duty_in_zone(session, tier, alert) if x.id not in already]
        if candidates:
            break
    if not candidates:
        candidates = [x for x in await people.on_duty(session, "joc") if x.id not in already]
    if not candidates:
        _nobody_left(session, alert, delivery, reason)
        return None
    nxt = candidates[0]
    await page(
        session,
        settings,
        escalation,
        alert,
        Recipient(nxt.phone, nxt.language, nxt),
        delivery.escalation_step or 0,
    )
    alerts.add_event(
        session,
        alert,
        actor="system",
        action="page_fallback",
        detail={
            "failed_delivery": delivery.id,
            "liaison": nxt.id,
            "reason": reason or delivery.last_error,
        },
    )
    return nxt


# The `reason` of the `nobody_paged` event of a page that failed with nobody left to take it.
NOBODY_LEFT = "nobody_left"


def _nobody_left(
    session: AsyncSession, alert: Alert, delivery: Delivery, roster_change: str | None
) -> None:
    """A page that did not reach its liaison, or that a roster change took from them, and
    nobody to pass it on to (`nobody_paged`): a liaison who comes on duty is paged for the
    alert (`page_on_duty`)."""
    why = (
        "the page did not reach its liaison"
        if roster_change is None
        else f"a roster change took the page from its liaison ({roster_change})"
    )
    nobody_paged(
        session,
        alert,
        f"Nobody paged: {why}, and every liaison of the zone and JOC officer on duty was "
        "paged already (or none is on duty).",
        step=delivery.escalation_step or 0,
        reason=NOBODY_LEFT,
        failed_delivery=delivery.id,
    )


async def next_due_at(session: AsyncSession) -> datetime | None:
    """When the next step of a running escalation falls due (None: none is running)."""
    return await repo.next_due_at(session)


async def may_act(session: AsyncSession, liaison: Liaison, alert: Alert) -> bool:
    """Whether a liaison may take, close or correct an alert named by its reference: a JOC
    officer any alert; a liaison those of their zones, and any they were paged or called for
    (or another report of its incident). Else a mistyped reference that names another zone's
    open alert would take it, and stop its paging, with nobody there told."""
    if liaison.tier == "joc" or in_zone(liaison, alert):
        return True
    return await outbox.paged_for(session, liaison.id, alert.id, alert.incident_id)
