"""SQL for escalation policies and escalations."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.escalation.models import ACTIVE, Escalation, EscalationPolicy
from app.people.models import Liaison


async def policies(
    session: AsyncSession, *, active_only: bool = False
) -> Sequence[EscalationPolicy]:
    """Policies by priority (lowest first), then name."""
    stmt = select(EscalationPolicy)
    if active_only:
        stmt = stmt.where(EscalationPolicy.active.is_(True))
    return (
        await session.scalars(stmt.order_by(EscalationPolicy.priority, EscalationPolicy.name))
    ).all()


async def policy(session: AsyncSession, policy_id: int) -> EscalationPolicy | None:
    """The policy with this id."""
    return await session.get(EscalationPolicy, policy_id)


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


async def of_incident(
    session: AsyncSession, incident_id: int, *, lock: bool = False
) -> Escalation | None:
    """The newest escalation of an incident."""
    stmt = (
        select(Escalation)
        .where(Escalation.incident_id == incident_id)
        .order_by(Escalation.id.desc())
        .limit(1)
    )
    if lock:
        stmt = stmt.with_for_update()
    return await session.scalar(stmt.execution_options(populate_existing=True))


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


async def next_due_at(session: AsyncSession) -> datetime | None:
    """When the next escalation step falls due."""
    return await session.scalar(
        select(func.min(Escalation.next_due_at)).where(Escalation.state == ACTIVE)
    )


async def on_duty(session: AsyncSession, tier: str) -> Sequence[Liaison]:
    """Active, on-duty liaisons of a tier, in a stable order."""
    stmt = (
        select(Liaison)
        .where(Liaison.tier == tier, Liaison.active.is_(True), Liaison.on_duty.is_(True))
        .order_by(Liaison.id)
    )
    return (await session.scalars(stmt)).all()


async def liaisons_by_ids(session: AsyncSession, ids: set[int]) -> Sequence[Liaison]:
    """Liaisons with these ids."""
    if not ids:
        return []
    return (await session.scalars(select(Liaison).where(Liaison.id.in_(ids)))).all()
