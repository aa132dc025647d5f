"""SQL of the change log."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.alerts.models import Alert, Incident
from app.changes import tracker
from app.changes.models import Change

# How long a reader waits for changes held back by a transaction still running (PostgreSQL).
SETTLE_SECONDS = 2.0


async def current(session: AsyncSession, *, settle: float = SETTLE_SECONDS) -> int:
    """How far a reader may go: every change numbered up to this is committed and visible to
    the statements that follow, and no change still to commit will number below it.

    PostgreSQL: changes committed after an older transaction that is still running are held
    back until it ends (see app.changes.tracker). Transactions are short, so a reader waits up
    to `settle` seconds for such changes to come within reach: it then sees what committed
    before it asked (a webhook's alert, polled right after its answer).
    """
    conn = await session.connection()
    deadline = time.monotonic() + settle
    while True:
        upto = await conn.run_sync(tracker.current)
        if conn.dialect.name != "postgresql" or time.monotonic() >= deadline:
            return upto
        top = await session.scalar(select(func.max(Change.seq)))
        if top is None or top <= upto:
            return upto
        await asyncio.sleep(0.005)


async def after(
    session: AsyncSession, seq: int, limit: int, *, upto: int | None = None
) -> Sequence[Change]:
    """Changes numbered after `seq` and up to `upto` (a `current()`, read now if None)."""
    if upto is None:
        upto = await current(session)
    stmt = select(Change).where(Change.seq > seq, Change.seq <= upto)
    stmt = stmt.order_by(Change.seq).limit(limit)
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
