"""SQL for escalation policies and escalations."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, case, exists, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.alerts.models import Alert, AlertEvent
from app.alerts.status import AlertStatus
from app.escalation.models import ACTIVE, STOPPED, Escalation, EscalationPolicy
from app.kit.repository import write_columns
from app.outbox.models import Delivery
from app.people.models import Liaison

# Built once, not at every call: every new alert reads them.
_POLICIES = select(EscalationPolicy)
_ACTIVE_POLICIES = _POLICIES.where(EscalationPolicy.active.is_(True))


async def policies(
    session: AsyncSession, *, active_only: bool = False
) -> Sequence[EscalationPolicy]:
    """Policies by priority (lowest first), then name, case ignored: ordered here, not by
    the database, whose collation (its locale's) would order names differently on SQLite, on
    a server set up in C and on one in en_US, and so choose another of two policies of one
    priority."""
    stmt = _ACTIVE_POLICIES if active_only else _POLICIES
    with session.no_autoflush:  # what is pending (an alert, its events) cannot change them
        found = (await session.scalars(stmt)).all()
    return sorted(found, key=lambda p: (p.priority, p.name.casefold(), p.name))


async def policy_by_name(session: AsyncSession, name: str) -> EscalationPolicy | None:
    """The policy with this name."""
    return await session.scalar(select(EscalationPolicy).where(EscalationPolicy.name == name))


async def count_policies(session: AsyncSession) -> int:
    """How many policies exist."""
    return int(await session.scalar(select(func.count()).select_from(EscalationPolicy)) or 0)


async def of_alert(
    session: AsyncSession, alert_id: int, *, lock: bool = False
) -> Escalation | None:
    """The escalation of an alert."""
    stmt = select(Escalation).where(Escalation.alert_id == alert_id)
    if lock:
        stmt = stmt.with_for_update()
    return await session.scalar(stmt.execution_options(populate_existing=True))


_OF_INCIDENT = (
    select(Escalation)
    .where(Escalation.incident_id == bindparam("incident_id"))
    .order_by(Escalation.id.desc())
    .limit(1)
    .execution_options(populate_existing=True)
)
_OF_INCIDENT_LOCKED = _OF_INCIDENT.with_for_update()
# The same escalation and the alert it pages for, both row-locked by one statement (one
# round trip where a report joining a paged incident took two): FOR NO KEY UPDATE, so that
# rows that only point at them (deliveries, events) can still be written by others.
_OF_INCIDENT_WITH_LEAD = (
    select(Escalation, Alert)
    .join(Alert, Alert.id == Escalation.alert_id)
    .where(Escalation.incident_id == bindparam("incident_id"))
    .order_by(Escalation.id.desc())
    .limit(1)
    .with_for_update(key_share=True, of=[Escalation, Alert])
    .execution_options(populate_existing=True)
)


async def of_incident(
    session: AsyncSession, incident_id: int, *, lock: bool = False
) -> Escalation | None:
    """The newest escalation of an incident."""
    stmt = _OF_INCIDENT_LOCKED if lock else _OF_INCIDENT
    return await session.scalar(stmt, {"incident_id": incident_id})


async def lock_with_lead(
    session: AsyncSession, incident_id: int
) -> tuple[Escalation, Alert] | None:
    """The newest escalation of an incident and the alert it pages for (its lead), both
    row-locked until the end of the transaction (PostgreSQL)."""
    row = (await session.execute(_OF_INCIDENT_WITH_LEAD, {"incident_id": incident_id})).first()
    return None if row is None else (row[0], row[1])


async def point_incident(
    session: AsyncSession, escalation: Escalation, incident_id: int, merged: Sequence[int]
) -> None:
    """Make `escalation` the paging of `incident_id`, and the only one that points at any of
    the `merged` incidents (the others, stopped or finished, keep their alert only: the
    newest escalation of an incident is its paging, `of_incident`)."""
    await session.execute(
        update(Escalation)
        .where(Escalation.incident_id.in_(merged), Escalation.id != escalation.id)
        .values(incident_id=None)
        .execution_options(synchronize_session="fetch")
    )
    escalation.incident_id = incident_id


async def unpaged_new_alerts(session: AsyncSession, since: datetime) -> Sequence[Alert]:
    """Alerts still new, received since `since`, whose paging is not stopped (running or run
    out), paged nobody at some point (a `nobody_paged` event: a step found nobody on duty,
    or a failed page nobody was left to take), and is their incident's (not an alert's whose
    incident another alert's paging carries); in alert order, not locked."""
    stmt = (
        select(Alert)
        .join(Escalation, Escalation.alert_id == Alert.id)
        .where(
            Escalation.state != STOPPED,
            Alert.status == AlertStatus.NEW,
            Alert.received_at >= since,
            or_(Alert.incident_id.is_(None), Escalation.incident_id == Alert.incident_id),
            exists().where(AlertEvent.alert_id == Alert.id, AlertEvent.action == "nobody_paged"),
        )
        .order_by(Alert.id)
    )
    return (await session.scalars(stmt)).all()


async def count_report(session: AsyncSession, escalation: Escalation) -> None:
    """One more report for the next page of an escalation this transaction holds locked
    (`of_incident(lock=True)`, `lock_with_lead`), written now rather than by the unit of
    work at the flush."""
    await write_columns(session, escalation, new_reports=escalation.new_reports + 1)


async def claim_due(session: AsyncSession, now: datetime, limit: int) -> Sequence[Escalation]:
    """Active escalations whose next step is due, locked (SKIP LOCKED) for this transaction."""
    stmt = (
        select(Escalation)
        .where(Escalation.state == ACTIVE, Escalation.next_due_at <= now)
        .order_by(Escalation.next_due_at)
        .limit(limit)
        .with_for_update(skip_locked=True)
        .execution_options(populate_existing=True)
    )
    return (await session.scalars(stmt)).all()


async def postpone(session: AsyncSession, escalation_id: int, until: datetime) -> None:
    """Move an escalation's next step to `until` (its step failed: tried again then)."""
    await session.execute(
        update(Escalation)
        .where(Escalation.id == escalation_id)
        .values(next_due_at=until)
        .execution_options(synchronize_session=False)
    )


# Built once: the escalation loop reads it at every wake-up (docs/PERFORMANCE.md 1f).
_NEXT_DUE = select(func.min(Escalation.next_due_at)).where(Escalation.state == ACTIVE)


async def next_due_at(session: AsyncSession) -> datetime | None:
    """When the next escalation step falls due."""
    return await session.scalar(_NEXT_DUE)


async def liaisons_by_ids(session: AsyncSession, ids: set[int]) -> Sequence[Liaison]:
    """Liaisons with these ids."""
    if not ids:
        return []
    return (await session.scalars(select(Liaison).where(Liaison.id.in_(ids)))).all()


@dataclass(frozen=True)
class PagingState:
    """How far the paging of an alert went: its escalation, pages, who took it."""

    state: str | None
    policy: str | None
    next_due_at: datetime | None
    pages: int
    pages_delivered: int
    acknowledged_by: str | None


async def paging_states(session: AsyncSession, alerts: Sequence[Alert]) -> dict[int, PagingState]:
    """The paging state of each alert (its own escalation, else its incident's)."""
    if not alerts:
        return {}
    ids = [a.id for a in alerts]
    incident_ids = {a.incident_id for a in alerts if a.incident_id is not None}
    # In id order: of an incident's escalations, the newest is shown, the one its reports
    # are counted on (`of_incident`), whatever order the database keeps the rows in.
    stmt = (
        select(Escalation)
        .where(or_(Escalation.alert_id.in_(ids), Escalation.incident_id.in_(incident_ids)))
        .order_by(Escalation.id)
    )
    by_alert: dict[int, Escalation] = {}
    by_incident: dict[int, Escalation] = {}
    for found in (await session.scalars(stmt)).all():
        by_alert[found.alert_id] = found
        if found.incident_id is not None:
            by_incident[found.incident_id] = found
    takers = await _who_acknowledged(session, ids)
    delivered = func.sum(case((Delivery.provider_status == "delivered", 1), else_=0))
    counts = {
        alert_id: (int(total), int(ok or 0))
        for alert_id, total, ok in (
            await session.execute(
                select(Delivery.alert_id, func.count(), delivered)
                .where(Delivery.alert_id.in_(ids), Delivery.purpose == "page")
                .group_by(Delivery.alert_id)
            )
        ).all()
    }
    out: dict[int, PagingState] = {}
    for alert in alerts:
        escalation = by_alert.get(alert.id) or (
            by_incident.get(alert.incident_id) if alert.incident_id is not None else None
        )
        total, ok = counts.get(alert.id, (0, 0))
        out[alert.id] = PagingState(
            state=escalation.state if escalation else None,
            policy=escalation.policy_name if escalation else None,
            next_due_at=escalation.next_due_at if escalation else None,
            pages=total,
            pages_delivered=ok,
            acknowledged_by=takers.get(alert.id),
        )
    return out


async def _who_acknowledged(session: AsyncSession, alert_ids: Sequence[int]) -> dict[int, str]:
    """The name of whoever first acknowledged each alert (a liaison, or an API key's name)."""
    stmt = (
        select(AlertEvent.alert_id, AlertEvent.actor)
        .where(AlertEvent.alert_id.in_(alert_ids), AlertEvent.action == "acknowledged")
        .order_by(AlertEvent.id.desc())
    )
    first = {alert_id: actor for alert_id, actor in (await session.execute(stmt)).all()}
    liaison_ids = {
        int(actor.split(":")[1])
        for actor in first.values()
        if actor.startswith("liaison:") and actor.split(":")[1].isdigit()
    }
    names = {x.id: x.name for x in await liaisons_by_ids(session, liaison_ids)}
    out: dict[int, str] = {}
    for alert_id, actor in first.items():
        kind, _, rest = actor.partition(":")
        if kind == "liaison" and rest.isdigit():
            out[alert_id] = names.get(int(rest), actor)
        elif kind == "apikey":
            out[alert_id] = rest.partition(":")[2] or actor
        else:
            out[alert_id] = actor
    return out
