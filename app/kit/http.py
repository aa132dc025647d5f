"""Small HTTP helpers shared by the SMS and webhook senders."""

from __future__ import annotations

import email.utils
import math
from datetime import UTC, datetime


def parse_retry_after(
    value: str | None, *, now: datetime | None = None, cap: float | None = None
) -> float | None:
    """Seconds to wait from a `Retry-After` header (delta-seconds or an HTTP date), or None."""
    text = (value or "").strip()
    if not text:
        return None
    try:
        seconds = float(text)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = (when - (now or datetime.now(UTC))).total_seconds()
    if not math.isfinite(seconds):
        return None
    seconds = max(seconds, 0.0)
    return seconds if cap is None else min(seconds, cap)
