"""SQL of the change log."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.alerts.models import Alert, Incident
from app.kit.changes import COUNTER, Change, Counter


async def current(session: AsyncSession) -> int:
    """The number of the last committed change."""
    value = await session.scalar(select(Counter.value).where(Counter.name == COUNTER))
    return int(value or 0)


async def after(session: AsyncSession, seq: int, limit: int) -> Sequence[Change]:
    """Changes numbered after `seq`, oldest first."""
    stmt = select(Change).where(Change.seq > seq).order_by(Change.seq).limit(limit)
    return (await session.scalars(stmt)).all()


async def oldest_kept(session: AsyncSession) -> int | None:
    """The number of the oldest change still kept."""
    value = await session.scalar(select(func.min(Change.seq)))
    return int(value) if value is not None else None


async def prune(session: AsyncSession, before: datetime) -> int:
    """Forget changes older than `before`; returns how many.

    By number, not by time: every change up to the newest one older than `before` goes, so
    what is kept is always an unbroken run (processes' clocks may differ a little).
    """
    last_old = await session.scalar(select(func.max(Change.seq)).where(Change.at < before))
    if last_old is None:
        return 0
    result = await session.execute(delete(Change).where(Change.seq <= last_old))
    return int(getattr(result, "rowcount", 0) or 0)


async def alerts_by_ids(session: AsyncSession, ids: Iterable[int]) -> Sequence[Alert]:
    """These alerts (those that still exist)."""
    wanted = list(ids)
    if not wanted:
        return []
    return (await session.scalars(select(Alert).where(Alert.id.in_(wanted)))).all()


async def incidents_by_ids(session: AsyncSession, ids: Iterable[int]) -> Sequence[Incident]:
    """These incidents (those that still exist)."""
    wanted = list(ids)
    if not wanted:
        return []
    return (await session.scalars(select(Incident).where(Incident.id.in_(wanted)))).all()


async def last_at(session: AsyncSession, event: str, entity_id: int) -> datetime | None:
    """When the last change `event` of the entity `entity_id` was logged (still kept)."""
    return await session.scalar(
        select(func.max(Change.at)).where(Change.event == event, Change.entity_id == entity_id)
    )
