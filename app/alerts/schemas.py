"""API shapes of alerts and incidents.

The read shapes are validated from the stored rows (`from_attributes`); AlertRead and
AlertEventRead mask phone numbers unless validated with `context={"mask_phone": False}`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

from app.alerts.models import Alert, Incident
from app.alerts.status import Action, AlertStatus
from app.kit.clock import UtcDateTime
from app.kit.ids import MAX_ID
from app.kit.phones import mask, mask_in_text
from app.kit.text import MULTILINE, NO_CONTROL
from app.people.schemas import ReliabilityRead
from app.triage.types import Category

SeverityName = Literal["low", "medium", "high", "critical"]


def masked(value: Any) -> Any:
    """`value` with every phone number in its texts masked (through dicts and lists)."""
    if isinstance(value, str):
        return mask_in_text(value)
    if isinstance(value, dict):
        return {key: masked(item) for key, item in value.items()}
    if isinstance(value, list):
        return [masked(item) for item in value]
    return value


def _masking(info: ValidationInfo) -> bool:
    """Whether numbers are masked: for viewers, and whenever the caller did not say."""
    return info.context is None or bool(info.context.get("mask_phone", True))


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
        place = located.place
        return None if place is None else cls.model_validate(place)


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

    @field_validator("summary")
    @classmethod
    def _mask(cls, value: str | None, info: ValidationInfo) -> str | None:
        return mask_in_text(value) if value and _masking(info) else value


class CorrectionRead(BaseModel):
    """A human corrected the alert: the fields above are the corrected ones."""

    original: TriageRead = Field(description="the triage before the first correction")
    fields: list[str] = Field(description="the fields humans changed")
    by: str
    at: datetime


class VerificationRead(BaseModel):
    """The outcome of a verification."""

    how: str | None = Field(description="callback, second_source or patrol")
    result: str = Field(description="confirmed, not_confirmed or unreachable")
    at: datetime


class AlertEventRead(BaseModel):
    """One entry of an alert's audit trail."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    alert_id: int
    at: datetime
    actor: str
    action: str
    from_status: AlertStatus | None
    to_status: AlertStatus | None
    detail: dict[str, Any]
    note: str | None

    @field_validator("actor", "detail", "note")
    @classmethod
    def _mask(cls, value: Any, info: ValidationInfo) -> Any:
        return masked(value) if _masking(info) else value


class PagingRead(BaseModel):
    """How far the paging of an alert went."""

    model_config = ConfigDict(from_attributes=True)

    state: str | None = Field(description="active, stopped or done; null when never paged")
    policy: str | None
    next_due_at: datetime | None
    pages: int = Field(description="pages sent to liaisons about this alert")
    pages_delivered: int
    acknowledged_by: str | None = Field(description="who took it: a liaison or an API key")


class AlertRead(BaseModel):
    """An alert as operations rooms see it."""

    model_config = ConfigDict(from_attributes=True)

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

    # Reporters write call-back numbers in their text, and a duty officer may type one as
    # the assignee: viewers see those masked too.
    @field_validator("body", "summary")
    @classmethod
    def _mask_text(cls, value: str | None, info: ValidationInfo) -> str | None:
        return mask_in_text(value) if value and _masking(info) else value

    @field_validator("from_phone")
    @classmethod
    def _mask_phone(cls, value: str, info: ValidationInfo) -> str:
        return (mask(value) or "") if _masking(info) else value

    @field_validator("assignee")
    @classmethod
    def _mask_assignee(cls, value: str | None, info: ValidationInfo) -> str | None:
        return masked(value) if _masking(info) else value


class IncidentRead(BaseModel):
    """An incident: alerts of one event near one place."""

    model_config = ConfigDict(from_attributes=True)

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
