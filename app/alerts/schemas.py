"""API shapes of alerts and incidents."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from app.alerts.models import Alert, AlertEvent, Incident
from app.kit.ids import MAX_ID
from app.kit.phones import mask, mask_in_text
from app.kit.text import MULTILINE, NO_CONTROL


class PlaceRef(BaseModel):
    """Where an alert is."""

    id: str | None
    name: str | None
    lat: float | None
    lon: float | None
    admin1: str | None
    admin2: str | None
    level: str | None = Field(
        default=None,
        description='"territoire", "secteur", "chefferie" or "groupement" when the place is an '
        "administrative area (lat/lon are then its centroid); null for a settlement",
    )

    @classmethod
    def of(cls, located: Alert | Incident) -> PlaceRef | None:
        """The place of an alert or an incident (None when it has none)."""
        if located.place_id is None and located.lat is None:
            return None
        return cls(
            id=located.place_id,
            name=located.place_name,
            lat=located.lat,
            lon=located.lon,
            admin1=located.admin1,
            admin2=located.admin2,
            level=located.place_level,
        )


class Cap(BaseModel):
    """CAP 1.2 urgency, severity and certainty."""

    urgency: str
    severity: str
    certainty: str


class Numbers(BaseModel):
    """Counts stated in the report."""

    killed: int | None
    wounded: int | None
    abducted: int | None
    attackers: int | None


def masked(value: Any) -> Any:
    """`value` with every phone number in its texts masked (through dicts and lists)."""
    if isinstance(value, str):
        return mask_in_text(value)
    if isinstance(value, dict):
        return {key: masked(item) for key, item in value.items()}
    if isinstance(value, list):
        return [masked(item) for item in value]
    return value


class AlertEventRead(BaseModel):
    """One entry of an alert's audit trail."""

    id: int
    alert_id: int
    at: datetime
    actor: str
    action: str
    from_status: str | None
    to_status: str | None
    detail: dict[str, Any]
    note: str | None

    @classmethod
    def of(cls, event: AlertEvent, *, mask_phone: bool) -> AlertEventRead:
        """Schema of a stored event; numbers in its texts masked for viewers."""
        shown = masked if mask_phone else (lambda value: value)
        return cls(
            id=event.id,
            alert_id=event.alert_id,
            at=event.at,
            actor=shown(event.actor),
            action=event.action,
            from_status=event.from_status,
            to_status=event.to_status,
            detail=shown(event.detail),
            note=shown(event.note),
        )


class PagingRead(BaseModel):
    """How far the paging of an alert went."""

    state: str | None = Field(description="active, stopped or done; null when never paged")
    policy: str | None
    next_due_at: datetime | None
    pages: int = Field(description="pages sent to liaisons about this alert")
    pages_delivered: int
    acknowledged_by: str | None = Field(description="who took it: a liaison or an API key")


class AlertRead(BaseModel):
    """An alert as operations rooms see it."""

    id: int
    ref: str
    kind: str
    status: str
    category: str
    severity: str
    score: float
    cap: Cap
    language: str
    body: str
    from_phone: str
    reporter_id: int | None
    numbers: Numbers
    reasons: list[str]
    place: PlaceRef | None
    location_source: str
    location_confidence: float
    incident_id: int | None
    message_count: int
    assignee: str | None
    received_at: datetime
    updated_at: datetime
    version: int = Field(description="Send it back in If-Match to change the alert")
    paging: PagingRead | None = None
    events: list[AlertEventRead] | None = None

    @classmethod
    def of(cls, alert: Alert, *, mask_phone: bool) -> AlertRead:
        """Schema of a stored alert; phone masked for viewers."""
        return cls(
            id=alert.id,
            ref=alert.ref,
            kind=alert.kind,
            status=alert.status,
            category=alert.category,
            severity=alert.severity,
            score=alert.score,
            cap=Cap(
                urgency=alert.cap_urgency,
                severity=alert.cap_severity,
                certainty=alert.cap_certainty,
            ),
            language=alert.language,
            # Reporters write call-back numbers in their text: viewers see those masked too.
            body=mask_in_text(alert.body) if mask_phone else alert.body,
            from_phone=(mask(alert.from_phone) or "") if mask_phone else alert.from_phone,
            reporter_id=alert.reporter_id,
            numbers=Numbers(
                killed=alert.killed,
                wounded=alert.wounded,
                abducted=alert.abducted,
                attackers=alert.attackers,
            ),
            reasons=list(alert.reasons),
            place=PlaceRef.of(alert),
            location_source=alert.location_source,
            location_confidence=alert.location_confidence,
            incident_id=alert.incident_id,
            message_count=alert.message_count,
            # Free text of the operations room: a duty officer may type a phone number.
            assignee=masked(alert.assignee) if mask_phone else alert.assignee,
            received_at=alert.received_at,
            updated_at=alert.updated_at,
            version=alert.version,
        )


class IncidentRead(BaseModel):
    """An incident: alerts of one event near one place."""

    id: int
    category: str
    severity: str
    status: str
    place: PlaceRef | None
    first_at: datetime
    last_at: datetime
    report_count: int
    reporter_count: int
    merged_into_id: int | None
    version: int

    @classmethod
    def of(cls, incident: Incident) -> IncidentRead:
        """Schema of a stored incident."""
        return cls(
            id=incident.id,
            category=incident.category,
            severity=incident.severity,
            status=incident.status,
            place=PlaceRef.of(incident),
            first_at=incident.first_at,
            last_at=incident.last_at,
            report_count=incident.report_count,
            reporter_count=incident.reporter_count,
            merged_into_id=incident.merged_into_id,
            version=incident.version,
        )


class IncidentDetail(IncidentRead):
    """An incident with its alerts."""

    alerts: list[AlertRead]


class AlertPage(BaseModel):
    """A page of alerts.

    `next_cursor` pages on (older alerts, or later changes with `updated_after`);
    `sync_cursor` is what to pass as `updated_after` to get every change after this answer.
    """

    items: list[AlertRead]
    next_cursor: str | None
    sync_cursor: str


Action = Literal["acknowledge", "verify", "resolve", "false_alarm", "reopen", "assign", "note"]


class AlertAction(BaseModel):
    """A decision of the operations room on an alert."""

    action: Action
    note: str | None = Field(default=None, max_length=2000, pattern=MULTILINE)
    assignee: str | None = Field(default=None, max_length=100, pattern=NO_CONTROL)


class IncidentMerge(BaseModel):
    """Merge this incident into another one."""

    into: int = Field(ge=1, le=MAX_ID, description="the incident that keeps the alerts")
    note: str | None = Field(default=None, max_length=2000, pattern=MULTILINE)
