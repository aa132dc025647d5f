"""Statistics API."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.exceptions import RequestValidationError

from app.api.deps import SessionDep, SettingsDep, Viewer
from app.kit.clock import UtcDateTime, utcnow
from app.kit.errors import errors_doc
from app.kit.text import NO_CONTROL
from app.stats import service
from app.stats.schemas import StatsRead
from app.stats.scope import Scope

router = APIRouter(prefix="/api/v1", tags=["stats"])


def _invalid(field: str, message: str) -> RequestValidationError:
    """A 422 in the body of every other validation error, naming the query parameter."""
    return RequestValidationError(
        [{"loc": ("query", field), "msg": message, "type": "value_error"}]
    )


@router.get("/stats", response_model=StatsRead, responses=errors_doc(422))
async def get_stats(
    session: SessionDep,
    settings: SettingsDep,
    _: Viewer,
    since: Annotated[
        UtcDateTime | None,
        Query(description="received at or after (default: 30 days before until; naive = UTC)"),
    ] = None,
    until: Annotated[
        UtcDateTime | None,
        Query(description="alerts received before (default: now; naive = UTC)"),
    ] = None,
    admin1: Annotated[
        str | None, Query(max_length=100, pattern=NO_CONTROL, description="province, any case")
    ] = None,
    admin2: Annotated[
        str | None, Query(max_length=100, pattern=NO_CONTROL, description="territoire, any case")
    ] = None,
    silent_days: Annotated[
        int | None,
        Query(ge=1, le=3650, description="focal points silent this many days (default: setting)"),
    ] = None,
) -> StatsRead:
    """Counts, acknowledgement and resolution times, reports per reporter, silent focal points."""
    start, end = service.window(since, until, utcnow())
    if start >= end:
        raise _invalid("since", "since must be before until")
    scope = Scope(since=start, until=end, admin1=admin1 or None, admin2=admin2 or None)
    return await service.stats(session, scope, silent_days or settings.silent_days)
