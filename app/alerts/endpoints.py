"""Operations API: alerts and incidents (read)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal, get_args

from fastapi import APIRouter, Query

from app.alerts import repository as repo
from app.alerts.models import ALERT_STATUSES
from app.alerts.schemas import AlertEventRead, AlertRead, IncidentRead
from app.auth.deps import Session, Viewer
from app.kit.clock import as_utc
from app.kit.errors import BadRequest, NotFound
from app.kit.pagination import Page, decode_id, decode_time_id, encode_cursor
from app.triage.types import Category

router = APIRouter(prefix="/api/v1", tags=["alerts"])

SeverityName = Literal["low", "medium", "high", "critical"]
CATEGORIES: tuple[str, ...] = get_args(Category)


def _split(values: list[str] | None, allowed: tuple[str, ...], name: str) -> list[str]:
    """Accept repeated (?x=a&x=b) and comma-separated (?x=a,b) values."""
    out = [v.strip() for raw in values or [] for v in raw.split(",") if v.strip()]
    unknown = [v for v in out if v not in allowed]
    if unknown:
        raise BadRequest(f"unknown {name}: {', '.join(unknown)}; one of {', '.join(allowed)}")
    return out


def _utc(value: datetime | None) -> datetime | None:
    return as_utc(value) if value is not None else None


@router.get("/alerts", response_model=Page[AlertRead])
async def list_alerts(
    session: Session,
    principal: Viewer,
    status: Annotated[list[str] | None, Query(description="new, acknowledged, ...")] = None,
    min_severity: SeverityName | None = None,
    category: Annotated[list[str] | None, Query()] = None,
    admin1: str | None = None,
    admin2: str | None = None,
    place: Annotated[str | None, Query(description="a place id")] = None,
    since: Annotated[datetime | None, Query(description="received at or after")] = None,
    until: Annotated[datetime | None, Query(description="received before")] = None,
    updated_after: datetime | None = None,
    cursor: str | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> Page[AlertRead]:
    """Alerts, newest first; follow `next_cursor` for older ones."""
    filters = repo.AlertFilter(
        status=_split(status, ALERT_STATUSES, "status"),
        min_severity=min_severity,
        category=_split(category, CATEGORIES, "category"),
        admin1=admin1,
        admin2=admin2,
        place_id=place,
        since=_utc(since),
        until=_utc(until),
        updated_after=_utc(updated_after),
    )
    before = decode_time_id(cursor) if cursor else None
    alerts = await repo.list_alerts(session, filters, before=before, limit=limit)
    mask_phone = not principal.can("operator")
    items = [AlertRead.of(a, mask_phone=mask_phone) for a in alerts]
    next_cursor = None
    if len(alerts) == limit:
        next_cursor = encode_cursor(alerts[-1].received_at, alerts[-1].id)
    return Page[AlertRead](items=items, next_cursor=next_cursor)


@router.get("/alerts/{alert_id}", response_model=AlertRead)
async def get_alert(alert_id: int, session: Session, principal: Viewer) -> AlertRead:
    """One alert with its audit trail."""
    alert = await repo.get(session, alert_id)
    if alert is None:
        raise NotFound(f"no alert {alert_id}")
    read = AlertRead.of(alert, mask_phone=not principal.can("operator"))
    read.events = [AlertEventRead.of(e) for e in await repo.events(session, alert_id)]
    return read


@router.get("/incidents", response_model=Page[IncidentRead])
async def list_incidents(
    session: Session,
    _: Viewer,
    status: Literal["open", "closed"] | None = None,
    min_severity: SeverityName | None = None,
    cursor: str | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> Page[IncidentRead]:
    """Incidents, newest first."""
    before = decode_id(cursor) if cursor else None
    incidents = await repo.list_incidents(
        session, status=status, min_severity=min_severity, before=before, limit=limit
    )
    next_cursor = encode_cursor(incidents[-1].id) if len(incidents) == limit else None
    items = [IncidentRead.of(i) for i in incidents]
    return Page[IncidentRead](items=items, next_cursor=next_cursor)


@router.get("/incidents/{incident_id}", response_model=IncidentRead)
async def get_incident(incident_id: int, session: Session, _: Viewer) -> IncidentRead:
    """One incident."""
    incident = await repo.get_incident(session, incident_id)
    if incident is None:
        raise NotFound(f"no incident {incident_id}")
    return IncidentRead.of(incident)
