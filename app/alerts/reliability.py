"""How often a focal point's alerts were confirmed: shown to operators, weighed into the score.

A history of false alarms never suppresses an alert nor lowers its severity (paging stays as
triage decided); it moves the score within its band and stops the report from making an
incident "observed" on its own, with the reason written in the alert's reasons.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from app.alerts import repository as repo
from app.kit.clock import utcnow
from app.people.schemas import RELIABILITY_DAYS as WINDOW_DAYS

# The most a history moves the score (a severity band is 25 points wide).
MAX_SHIFT = 10.0


@dataclass(frozen=True)
class Reliability:
    """A focal point's verified alerts over the window."""

    confirmed: int = 0
    false_alarm: int = 0
    not_confirmed: int = 0

    @property
    def doubtful(self) -> int:
        """Alerts that turned out false or could not be confirmed."""
        return self.false_alarm + self.not_confirmed

    def trusted(self) -> bool:
        """Confirmed at least twice, never a false alarm."""
        return self.confirmed >= 2 and self.false_alarm == 0

    def unreliable(self) -> bool:
        """More doubtful alerts than confirmed ones, at least two of them."""
        return self.doubtful >= 2 and self.doubtful > self.confirmed


def since(now: datetime | None = None) -> datetime:
    """The start of the window."""
    return (now or utcnow()) - timedelta(days=WINDOW_DAYS)


async def of_reporters(
    session: AsyncSession, reporter_ids: list[int], now: datetime | None = None
) -> dict[int, Reliability]:
    """The reliability of each reporter (those with no verified alert are left out)."""
    counts = await repo.reliability_counts(session, reporter_ids, since(now))
    return {rid: Reliability(*values) for rid, values in counts.items()}


def weigh(score: float, band_floor: float, history: Reliability) -> tuple[float, str | None]:
    """The score moved by the reporter's history, and the reason (None: no change)."""
    summary = (
        f"reporter's last {WINDOW_DAYS} days: {history.confirmed} confirmed, "
        f"{history.false_alarm} false alarm(s), {history.not_confirmed} not confirmed"
    )
    if history.unreliable():
        shift = -min(MAX_SHIFT, 3.0 * (history.doubtful - history.confirmed))
    elif history.trusted():
        shift = min(MAX_SHIFT, 2.0 * history.confirmed)
    else:
        return score, None
    moved = round(min(band_floor + 24.9, max(band_floor, score + shift)), 1)
    if moved == score:
        return score, None
    return moved, f"{summary} → score {moved - score:+.1f}"
