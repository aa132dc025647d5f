"""Statistics of alerts and of the reporting network, computed from the repository's rows."""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, get_args

from sqlalchemy.ext.asyncio import AsyncSession

from app.alerts import labels
from app.alerts import service as alerts
from app.alerts.models import SEVERITIES, Alert
from app.alerts.status import AlertStatus
from app.geo.models import Place
from app.kit.phones import mask
from app.people.models import Reporter
from app.stats import repository as repo
from app.stats.schemas import (
    AgreementRead,
    CountRead,
    DurationsRead,
    ReporterCountRead,
    ReporterHome,
    ShareRead,
    SilentRead,
    SilentReporterRead,
    StatsRead,
)
from app.stats.scope import Scope
from app.triage.types import Category

CATEGORIES: tuple[str, ...] = get_args(Category)
DEFAULT_WINDOW = timedelta(days=30)
DAY = timedelta(days=1)
EARLIEST = datetime.min.replace(tzinfo=UTC)


def before(moment: datetime, span: timedelta) -> datetime:
    """`moment - span`, or the earliest time there is when that falls before year 1."""
    try:
        return moment - span
    except OverflowError:
        return EARLIEST


def p90(values: list[float]) -> float | None:
    """The 90th percentile, interpolated linearly between the nearest ranks; None if empty."""
    if len(values) < 2:  # quantiles() needs two points before Python 3.13
        return values[0] if values else None
    # 'inclusive' reads the data as the whole population: p90 stays within the observed
    # range (the default 'exclusive' method extrapolates past it on small samples).
    return statistics.quantiles(values, n=10, method="inclusive")[8]


def durations(pairs: Iterable[tuple[datetime, datetime]]) -> DurationsRead:
    """Median and 90th percentile of (start, end) pairs in seconds."""
    # An event stamped before the receipt (clock skew between processes) counts as instant.
    seconds = sorted(max((end - start).total_seconds(), 0.0) for start, end in pairs)
    return DurationsRead(
        count=len(seconds),
        median_seconds=statistics.median(seconds) if seconds else None,
        p90_seconds=p90(seconds),
    )


def _counts(counter: Counter[str | None], every: tuple[str, ...] = ()) -> list[CountRead]:
    """Counts largest first; `every` value listed even at zero; ties in `every`'s order, then
    by name, the null key last."""
    others = sorted((k for k in counter if k not in every), key=lambda k: (k is None, k or ""))
    keys: list[str | None] = [*every, *others]
    rank = {key: i for i, key in enumerate(keys)}
    keys.sort(key=lambda k: (-counter[k], rank[k]))
    return [CountRead(key=k, count=counter[k]) for k in keys]


def _share(count: int, total: int) -> ShareRead:
    return ShareRead(count=count, share=count / total if total else None)


async def stats(session: AsyncSession, scope: Scope, silent_days: int) -> StatsRead:
    """Everything the statistics endpoint answers for this scope."""
    by_category: Counter[str | None] = Counter()
    by_severity: Counter[str | None] = Counter()
    by_status: Counter[str | None] = Counter()
    by_territoire: Counter[str | None] = Counter()
    for category, severity, status, admin2, n in await repo.breakdown(session, scope):
        by_category[category] += n
        by_severity[severity] += n
        by_status[status] += n
        by_territoire[admin2] += n
    total = sum(by_status.values())
    return StatsRead(
        since=scope.since,
        until=scope.until,
        admin1=scope.admin1,
        admin2=scope.admin2,
        total=total,
        by_category=_counts(by_category, CATEGORIES),
        by_severity=_counts(by_severity, SEVERITIES[::-1]),
        by_status=_counts(by_status, tuple(AlertStatus)),
        by_territoire=_counts(by_territoire),
        acknowledged=_share(await repo.acknowledged_count(session, scope), total),
        resolved=_share(by_status[AlertStatus.RESOLVED], total),
        time_to_acknowledge=durations(await repo.first_acknowledged(session, scope)),
        time_to_resolve=durations(await repo.last_resolved(session, scope)),
        reporters=[
            ReporterCountRead(**_home(reporter, place), role=reporter.role, count=n)
            for reporter, place, n in await repo.reports_per_reporter(session, scope)
        ],
        unattributed=await repo.unattributed_count(session, scope),
        silent=await silent(session, scope, silent_days),
        triage_agreement=[
            AgreementRead(
                month=month.month,
                verified=month.verified,
                **{k: _share(n, month.verified) for k, n in month.kept.items()},
            )
            for month in labels.agreement(await _human_verified(session, scope))
        ],
    )


def _home(reporter: Reporter, place: Place | None) -> dict[str, Any]:
    """The fields of a reporter and their home place (phone masked: statistics are public)."""
    return ReporterHome(
        reporter_id=reporter.id,
        phone=mask(reporter.phone),
        name=reporter.name,
        home_place_id=reporter.home_place_id,
        home_place_name=place.name if place else None,
        admin1=place.admin1 if place else None,
        admin2=place.admin2 if place else None,
    ).model_dump()


async def silent(session: AsyncSession, scope: Scope, days: int) -> SilentRead:
    """Focal points (home in the scope's province/territoire) silent `days` days before until."""
    rows = await repo.silent_focal_points(
        session,
        until=scope.until,
        cutoff=before(scope.until, days * DAY),
        admin1=scope.admin1,
        admin2=scope.admin2,
    )
    out = [
        SilentReporterRead(
            **_home(reporter, place),
            opted_out=reporter.opted_out,
            registered_at=reporter.created_at,
            last_report_at=last,
            days_silent=(scope.until - last) // DAY if last else None,
        )
        for reporter, place, last in rows
    ]
    # Never heard from first, then the longest silent.
    out.sort(key=lambda r: (r.last_report_at is not None, r.last_report_at or scope.until))
    return SilentRead(days=days, count=len(out), reporters=out)


def window(
    since: datetime | None, until: datetime | None, now: datetime
) -> tuple[datetime, datetime]:
    """The [since, until) asked for: until defaults to now, since to 30 days before until."""
    end = until or now
    return since or before(end, DEFAULT_WINDOW), end


async def _human_verified(session: AsyncSession, scope: Scope) -> list[Alert]:
    """The alerts of the scope that humans confirmed or corrected (no false alarm)."""
    found = await alerts.human_verified(session, since=scope.since, until=scope.until)
    return [a for a in found if scope.covers_zone(a.admin1, a.admin2)]


async def breakdown(
    session: AsyncSession, scope: Scope
) -> Sequence[tuple[str, str, str, str | None, int]]:
    """Alert counts per (category, severity, status, admin2)."""
    return await repo.breakdown(session, scope)


async def acknowledged_count(session: AsyncSession, scope: Scope) -> int:
    """Alerts of the scope past new, or with an acknowledging event."""
    return await repo.acknowledged_count(session, scope)


async def time_to_acknowledge(session: AsyncSession, scope: Scope) -> DurationsRead:
    """From receipt to the first acknowledgement, over the scope's alerts."""
    return durations(await repo.first_acknowledged(session, scope))


async def time_to_resolve(session: AsyncSession, scope: Scope) -> DurationsRead:
    """From receipt to the last resolution, over the scope's resolved alerts."""
    return durations(await repo.last_resolved(session, scope))
