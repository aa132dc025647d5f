"""API shapes of alerts and incidents."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    Field,
    field_validator,
    model_validator,
)

from app.alerts.filters import SeverityName
from app.alerts.models import Alert, AlertEvent, Incident
from app.alerts.reliability import WINDOW_DAYS, Reliability
from app.alerts.status import Action, AlertStatus
from app.kit.clock import UtcDateTime
from app.kit.ids import MAX_ID
from app.kit.phones import mask, mask_in_text
from app.kit.text import MULTILINE, NO_CONTROL
from app.triage.types import Category


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


class TriageRead(BaseModel):
    """What the machine's triage said, kept beside a human correction."""

    category: str
    severity: str
    place: PlaceRef | None
    killed: int | None
    wounded: int | None
    abducted: int | None
    occurred_at: datetime | None
    summary: str | None


class CorrectionRead(BaseModel):
    """A human corrected the alert: the fields above are the corrected ones."""

    original: TriageRead = Field(description="the triage before the first correction")
    fields: list[str] = Field(description="the fields humans changed")
    by: str
    at: datetime

    @classmethod
    def of(cls, stored: dict[str, Any], *, mask_phone: bool) -> CorrectionRead:
        """Schema of the stored correction; numbers in a summary masked for viewers."""
        original = dict(stored["original"])
        if mask_phone and original.get("summary"):
            original["summary"] = mask_in_text(original["summary"])
        return cls(
            original=TriageRead.model_validate(original),
            fields=list(stored["fields"]),
            by=stored["by"],
            at=stored["at"],
        )


class VerificationRead(BaseModel):
    """The outcome of a verification."""

    how: str | None = Field(description="callback, second_source or patrol")
    result: str = Field(description="confirmed, not_confirmed or unreachable")
    at: datetime


class AlertEventRead(BaseModel):
    """One entry of an alert's audit trail."""

    id: int
    alert_id: int
    at: datetime
    actor: str
    action: str
    from_status: AlertStatus | None
    to_status: AlertStatus | None
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


class ReliabilityRead(BaseModel):
    """A focal point's alerts over the last 180 days, as verification found them."""

    days: int = WINDOW_DAYS
    confirmed: int
    false_alarm: int
    not_confirmed: int

    @classmethod
    def of(cls, history: Reliability) -> ReliabilityRead:
        """Schema of a reporter's Reliability."""
        return cls(
            confirmed=history.confirmed,
            false_alarm=history.false_alarm,
            not_confirmed=history.not_confirmed,
        )


class AlertRead(BaseModel):
    """An alert as operations rooms see it."""

    id: int
    ref: str
    kind: str
    status: AlertStatus
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
    source: str | None = Field(description="call, radio, visit or other: entered by hand")
    summary: str | None = Field(description="what humans said happened (call-back, correction)")
    occurred_at: datetime | None
    correction: CorrectionRead | None = Field(
        description="set once humans corrected the triage; holds the original triage"
    )
    verification: VerificationRead | None
    received_at: datetime
    updated_at: datetime
    version: int = Field(description="Send it back in If-Match to change the alert")
    paging: PagingRead | None = None
    reporter_reliability: ReliabilityRead | None = Field(
        default=None, description="the reporter's record (operators only); it never hides an alert"
    )
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
            source=alert.source,
            summary=mask_in_text(alert.summary) if mask_phone and alert.summary else alert.summary,
            occurred_at=alert.occurred_at,
            correction=(
                CorrectionRead.of(alert.correction, mask_phone=mask_phone)
                if alert.correction
                else None
            ),
            verification=(
                VerificationRead(
                    how=alert.verified_how, result=alert.verified_result, at=alert.verified_at
                )
                if alert.verified_result and alert.verified_at
                else None
            ),
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


def _not_flash(value: Category) -> Category:
    if value == "FLASH":
        raise ValueError("FLASH is a missed call, not a category humans give")
    return value


# A category as humans give it: any but FLASH.
HumanCategory = Annotated[Category, AfterValidator(_not_flash)]
VerifiedHow = Literal["callback", "second_source", "patrol"]
VerifiedResult = Literal["confirmed", "not_confirmed", "unreachable"]
CORRECTION_FIELDS = (
    "category",
    "severity",
    "place",
    "killed",
    "wounded",
    "abducted",
    "occurred_at",
    "summary",
)


class PlaceInput(BaseModel):
    """A place given by hand: a gazetteer id, or coordinates with a label."""

    id: str | None = Field(default=None, max_length=64, pattern=NO_CONTROL)
    name: str | None = Field(default=None, max_length=200, pattern=NO_CONTROL)
    lat: float | None = Field(default=None, ge=-90, le=90)
    lon: float | None = Field(default=None, ge=-180, le=180)

    @model_validator(mode="after")
    def _one_way(self) -> PlaceInput:
        if (self.lat is None) != (self.lon is None):
            raise ValueError("give both lat and lon, or neither")
        if self.id is None and self.lat is None and not self.name:
            raise ValueError("give an id, a name, or lat and lon with a name")
        return self


class Described(BaseModel):
    """What humans say about an alert: a correction, or what a call-back told."""

    category: HumanCategory | None = None
    severity: SeverityName | None = None
    place: PlaceInput | str | None = Field(
        default=None, description="a place id or name, or {lat, lon, name}"
    )
    killed: int | None = Field(default=None, ge=0, le=100_000)
    wounded: int | None = Field(default=None, ge=0, le=100_000)
    abducted: int | None = Field(default=None, ge=0, le=100_000)
    occurred_at: UtcDateTime | None = None
    summary: str | None = Field(default=None, max_length=2000, pattern=MULTILINE)


class AlertCreate(BaseModel):
    """An alert entered by hand: a voice call, a radio message, a visit."""

    text: str = Field(min_length=1, max_length=2000, pattern=MULTILINE)
    source: Literal["call", "radio", "visit", "other"]
    reporter: int | str | None = Field(
        default=None, description="the focal point: a reporter id, or a phone number"
    )
    place: PlaceInput | str | None = Field(
        default=None, description="a place id or name (geotagged), or {lat, lon, name}"
    )
    category: HumanCategory | None = Field(default=None, description="else triaged from the text")
    severity: SeverityName | None = Field(default=None, description="else triaged")

    @field_validator("reporter")
    @classmethod
    def _reporter(cls, value: int | str | None) -> int | str | None:
        if isinstance(value, int) and not 1 <= value <= MAX_ID:
            raise ValueError("a reporter id is a positive number")
        if isinstance(value, str) and not value.strip():
            return None
        return value


class AlertAction(Described):
    """A decision of the operations room on an alert.

    `correct` sets any of the fields of a correction; `verify` takes how and the result of
    the verification, and may correct or, for a FLASH, describe the alert (`summary`).
    """

    action: Action
    note: str | None = Field(default=None, max_length=2000, pattern=MULTILINE)
    assignee: str | None = Field(default=None, max_length=100, pattern=NO_CONTROL)
    how: VerifiedHow | None = None
    result: VerifiedResult | None = None

    @model_validator(mode="after")
    def _fields_fit_the_action(self) -> AlertAction:
        given = [name for name in CORRECTION_FIELDS if getattr(self, name) is not None]
        if given and self.action not in ("correct", "verify"):
            raise ValueError(f"{', '.join(given)}: only with the correct or verify actions")
        if (self.how or self.result) and self.action != "verify":
            raise ValueError("how and result: only with the verify action")
        return self


class IncidentMerge(BaseModel):
    """Merge this incident into another one."""

    into: int = Field(ge=1, le=MAX_ID, description="the incident that keeps the alerts")
    note: str | None = Field(default=None, max_length=2000, pattern=MULTILINE)
