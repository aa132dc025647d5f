"""The one clock of the application (UTC, timezone-aware)."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator


def utcnow() -> datetime:
    """Current time in UTC, timezone-aware."""
    return datetime.now(UTC)


def as_utc(value: datetime) -> datetime:
    """Read a naive datetime as UTC; convert an aware one to UTC."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


_ISO_DATE = re.compile(r"\s*[0-9]{4}-[0-9]{2}-[0-9]{2}")


def _iso_8601(value: Any) -> Any:
    # Pydantic reads a bare number as seconds since 1970: "until=0.5" is a mistake, not 1970.
    if isinstance(value, str | int | float) and not _ISO_DATE.match(str(value)):
        raise ValueError("expected a date and time in ISO 8601, e.g. 2026-12-01T08:00:00Z")
    return value


def _in_utc(value: datetime) -> datetime:
    try:
        return as_utc(value)
    except OverflowError:  # e.g. 0001-01-01T00:00+02:00 is before year 1 in UTC
        raise ValueError("out of range in UTC") from None


# A time given to the API: ISO 8601 only, naive read as UTC, returned in UTC.
UtcDateTime = Annotated[datetime, BeforeValidator(_iso_8601), AfterValidator(_in_utc)]
