"""Queries of the daily report."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.alerts.models import Alert
from app.alerts.status import OPEN

# A report lists at most this many alerts of each kind (a day has far fewer in practice).
LIMIT = 500


async def received_between(
    session: AsyncSession, since: datetime, until: datetime
) -> Sequence[Alert]:
    """Alerts received in [since, until), oldest first."""
    stmt = (
        select(Alert)
        .where(Alert.received_at >= since, Alert.received_at < until)
        .order_by(Alert.received_at, Alert.id)
        .limit(LIMIT)
    )
    return (await session.scalars(stmt)).all()


async def open_before(session: AsyncSession, until: datetime) -> Sequence[Alert]:
    """Alerts received before `until` and still open, most severe then oldest first."""
    stmt = (
        select(Alert)
        .where(Alert.received_at < until, Alert.status.in_(OPEN))
        .order_by(Alert.severity_rank.desc(), Alert.received_at, Alert.id)
        .limit(LIMIT)
    )
    return (await session.scalars(stmt)).all()
