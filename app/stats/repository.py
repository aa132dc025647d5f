"""Queries behind the statistics: aggregates where SQL is portable, rows where it is not."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import ColumnElement, Select, and_, exists, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.alerts.models import Alert, AlertEvent
from app.alerts.status import AlertStatus
from app.geo.models import Place
from app.people.models import Reporter
from app.stats.scope import Scope

TAKEN = (AlertStatus.ACKNOWLEDGED, AlertStatus.VERIFIED)

# An event that took the alert: acknowledged or verified, by action or by status, or one that
# closed it straight from new (a liaison may answer FIN or FAUX without an OK first).
ACKNOWLEDGING = or_(
    AlertEvent.action.in_(TAKEN),
    AlertEvent.to_status.in_(TAKEN),
    and_(AlertEvent.from_status == AlertStatus.NEW, AlertEvent.to_status.is_not(None)),
)
RESOLVING = or_(AlertEvent.action == "resolved", AlertEvent.to_status == AlertStatus.RESOLVED)


def _in_scope(scope: Scope) -> list[ColumnElement[bool]]:
    clauses = [Alert.received_at >= scope.since, Alert.received_at < scope.until]
    if scope.admin1:
        clauses.append(func.lower(Alert.admin1) == scope.admin1.lower())
    if scope.admin2:
        clauses.append(func.lower(Alert.admin2) == scope.admin2.lower())
    return clauses


async def breakdown(
    session: AsyncSession, scope: Scope
) -> Sequence[tuple[str, str, str, str | None, int]]:
    """Alert counts per (category, severity, status, admin2): few rows, summed by the caller."""
    stmt = (
        select(Alert.category, Alert.severity, Alert.status, Alert.admin2, func.count())
        .where(*_in_scope(scope))
        .group_by(Alert.category, Alert.severity, Alert.status, Alert.admin2)
    )
    return [(c, sev, st, a2, int(n)) for c, sev, st, a2, n in (await session.execute(stmt)).all()]


async def acknowledged_count(session: AsyncSession, scope: Scope) -> int:
    """Alerts past new, or with an acknowledging event (a reopened alert counts too)."""
    taken = exists().where(AlertEvent.alert_id == Alert.id, ACKNOWLEDGING)
    stmt = select(func.count()).select_from(Alert).where(*_in_scope(scope))
    stmt = stmt.where(or_(Alert.status != AlertStatus.NEW, taken))
    return int(await session.scalar(stmt) or 0)


async def _received_and_event(
    session: AsyncSession, stmt: Select[datetime, datetime]
) -> list[tuple[datetime, datetime]]:
    return [(received, at) for received, at in (await session.execute(stmt)).all()]


async def first_acknowledged(
    session: AsyncSession, scope: Scope
) -> list[tuple[datetime, datetime]]:
    """(received_at, time of the first acknowledging event) of each acknowledged alert."""
    stmt = (
        select(Alert.received_at, func.min(AlertEvent.at))
        .join(AlertEvent, AlertEvent.alert_id == Alert.id)
        .where(*_in_scope(scope), ACKNOWLEDGING)
        .group_by(Alert.id, Alert.received_at)
    )
    return await _received_and_event(session, stmt)


async def last_resolved(session: AsyncSession, scope: Scope) -> list[tuple[datetime, datetime]]:
    """(received_at, time of the resolving event) of each alert now resolved.

    The last such event: an alert reopened and resolved again was resolved only then.
    """
    stmt = (
        select(Alert.received_at, func.max(AlertEvent.at))
        .join(AlertEvent, AlertEvent.alert_id == Alert.id)
        .where(*_in_scope(scope), Alert.status == AlertStatus.RESOLVED, RESOLVING)
        .group_by(Alert.id, Alert.received_at)
    )
    return await _received_and_event(session, stmt)


async def reports_per_reporter(
    session: AsyncSession, scope: Scope
) -> Sequence[tuple[Reporter, Place | None, int]]:
    """Each reporter with alerts in scope, their home place and their count, most first."""
    counts = (
        select(Alert.reporter_id, func.count().label("n"))
        .where(*_in_scope(scope), Alert.reporter_id.is_not(None))
        .group_by(Alert.reporter_id)
        .subquery()
    )
    stmt = (
        select(Reporter, Place, counts.c.n)
        .join(counts, counts.c.reporter_id == Reporter.id)
        .outerjoin(Place, Place.id == Reporter.home_place_id)
        .order_by(counts.c.n.desc(), Reporter.id)
    )
    return [(r, p, int(n)) for r, p, n in (await session.execute(stmt)).all()]


async def unattributed_count(session: AsyncSession, scope: Scope) -> int:
    """Alerts in scope with no reporter on file."""
    stmt = select(func.count()).select_from(Alert)
    stmt = stmt.where(*_in_scope(scope), Alert.reporter_id.is_(None))
    return int(await session.scalar(stmt) or 0)


async def silent_focal_points(
    session: AsyncSession,
    *,
    until: datetime,
    cutoff: datetime,
    admin1: str | None,
    admin2: str | None,
) -> Sequence[tuple[Reporter, Place | None, datetime | None]]:
    """Active focal points whose last report before `until` is older than `cutoff`, or who
    never reported since they were registered before `cutoff`, with their home place
    (filtered by its province/territoire). One registered yesterday is not silent yet."""
    last = (
        select(Alert.reporter_id, func.max(Alert.received_at).label("last_at"))
        .where(Alert.received_at < until, Alert.reporter_id.is_not(None))
        .group_by(Alert.reporter_id)
        .subquery()
    )
    stmt = (
        select(Reporter, Place, last.c.last_at)
        .outerjoin(last, last.c.reporter_id == Reporter.id)
        .outerjoin(Place, Place.id == Reporter.home_place_id)
        .where(
            Reporter.role == "focal_point",
            Reporter.active.is_(True),
            func.coalesce(last.c.last_at, Reporter.created_at) < cutoff,
        )
        .order_by(Reporter.id)
    )
    if admin1:
        stmt = stmt.where(func.lower(Place.admin1) == admin1.lower())
    if admin2:
        stmt = stmt.where(func.lower(Place.admin2) == admin2.lower())
    return [(r, p, last) for r, p, last in (await session.execute(stmt)).all()]
