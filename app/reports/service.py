"""What the daily report says about one day (local time of the gateway)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from app.alerts.models import Alert
from app.geo import service as places
from app.reports import repository as repo
from app.stats import service as stats
from app.stats.schemas import DurationsRead, ShareRead
from app.stats.scope import Scope
from app.stats.service import CATEGORIES

NO_TERRITOIRE = ""


@dataclass
class DailyReport:
    """The figures and lists of one day's report."""

    day: date
    timezone: str
    since: datetime
    until: datetime
    generated_at: datetime
    alerts: Sequence[Alert]
    open_alerts: Sequence[Alert]
    # territoire ("" when unknown) -> category -> count, territoires with most alerts first
    by_territoire: dict[str, Counter[str]] = field(default_factory=dict)
    categories: list[str] = field(default_factory=list)
    by_severity: Counter[str] = field(default_factory=Counter)
    acknowledged: ShareRead = field(default_factory=lambda: ShareRead(count=0, share=None))
    time_to_acknowledge: DurationsRead = field(
        default_factory=lambda: DurationsRead(count=0, median_seconds=None, p90_seconds=None)
    )
    time_to_resolve: DurationsRead = field(
        default_factory=lambda: DurationsRead(count=0, median_seconds=None, p90_seconds=None)
    )
    # (lat, lon) of the gazetteer's places, drawn as context under the day's alerts
    places: list[tuple[float, float]] = field(default_factory=list)

    @property
    def total(self) -> int:
        """Alerts received that day."""
        return len(self.alerts)


def day_bounds(day: date, timezone: str) -> tuple[datetime, datetime]:
    """[midnight, next midnight) of `day` in `timezone`, as aware datetimes."""
    zone = ZoneInfo(timezone)
    start = datetime.combine(day, time(0), tzinfo=zone)
    return start, datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone)


async def daily(session: AsyncSession, day: date, timezone: str, now: datetime) -> DailyReport:
    """The report of `day`: alerts received that day, and every alert still open at its end."""
    since, until = day_bounds(day, timezone)
    scope = Scope(since=since, until=until)
    report = DailyReport(
        day=day,
        timezone=timezone,
        since=since,
        until=until,
        generated_at=now,
        alerts=await repo.received_between(session, since, until),
        open_alerts=await repo.open_before(session, min(until, now)),
        places=await places.coordinates(session),
    )
    table: dict[str, Counter[str]] = {}
    for category, severity, _status, admin2, n in await stats.breakdown(session, scope):
        table.setdefault(admin2 or NO_TERRITOIRE, Counter())[category] += n
        report.by_severity[severity] += n
    report.by_territoire = dict(
        sorted(table.items(), key=lambda kv: (-sum(kv[1].values()), kv[0] == "", kv[0]))
    )
    seen = {c for counts in table.values() for c in counts}
    report.categories = [c for c in CATEGORIES if c in seen] + sorted(seen - set(CATEGORIES))
    total = sum(report.by_severity.values())
    taken = await stats.acknowledged_count(session, scope)
    report.acknowledged = ShareRead(count=taken, share=taken / total if total else None)
    report.time_to_acknowledge = await stats.time_to_acknowledge(session, scope)
    report.time_to_resolve = await stats.time_to_resolve(session, scope)
    return report
