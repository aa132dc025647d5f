"""The filters of alert lists and exports, read from the query string."""

from __future__ import annotations

from typing import Annotated, get_args

from fastapi import Query

from app.alerts.filters import AlertFilter
from app.alerts.schemas import SeverityName
from app.alerts.status import AlertStatus
from app.kit.clock import UtcDateTime
from app.kit.errors import BadRequest
from app.kit.text import NO_CONTROL
from app.triage.types import Category

CATEGORIES: tuple[str, ...] = get_args(Category)
STATUSES: tuple[str, ...] = tuple(AlertStatus)


def split_values(values: list[str] | None, allowed: tuple[str, ...], name: str) -> list[str]:
    """Accept repeated (?x=a&x=b) and comma-separated (?x=a,b) values."""
    out = [v.strip() for raw in values or [] for v in raw.split(",") if v.strip()]
    unknown = [v for v in out if v not in allowed]
    if unknown:
        raise BadRequest(f"unknown {name}: {', '.join(unknown)}; one of {', '.join(allowed)}")
    return out


def alert_filters(
    status: Annotated[
        list[str] | None, Query(description=f"one or more of {', '.join(STATUSES)}")
    ] = None,
    min_severity: SeverityName | None = None,
    category: Annotated[
        list[str] | None, Query(description=f"one or more of {', '.join(CATEGORIES)}")
    ] = None,
    admin1: Annotated[
        str | None,
        Query(max_length=100, pattern=NO_CONTROL, description="province, e.g. Nord-Kivu"),
    ] = None,
    admin2: Annotated[
        str | None, Query(max_length=100, pattern=NO_CONTROL, description="territoire, e.g. Beni")
    ] = None,
    place: Annotated[
        str | None, Query(max_length=64, pattern=NO_CONTROL, description="a place id")
    ] = None,
    since: Annotated[UtcDateTime | None, Query(description="received at or after")] = None,
    until: Annotated[UtcDateTime | None, Query(description="received before")] = None,
) -> AlertFilter:
    """FastAPI dependency: the filters shared by the alerts list and its exports."""
    return AlertFilter(
        status=[AlertStatus(s) for s in split_values(status, STATUSES, "status")],
        min_severity=min_severity,
        category=split_values(category, CATEGORIES, "category"),
        admin1=admin1,
        admin2=admin2,
        place_id=place,
        since=since,
        until=until,
    )
