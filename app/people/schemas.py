"""API shapes of focal points (reporters) and liaisons, validated like the roster importers."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

from app.geo.importers.records import ID_MAX
from app.kit.text import NO_CONTROL
from app.kit.validation import not_null
from app.people.importers import NAME_MAX, UNREGISTERED
from app.people.models import REPORTER_ROLES

# The values of app.people.models.LANGUAGES and app.people.importers.TIERS, spelled out so that
# the OpenAPI schema lists them.
Language = Literal["fr", "sw", "ln", "en"]
Tier = Literal["liaison", "joc"]
Name = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=NAME_MAX, pattern=NO_CONTROL),
]
Phone = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=32, pattern=NO_CONTROL),
    Field(description="E.164 (+243…) or a local number of the gateway's default region"),
]
PlaceId = Annotated[str, StringConstraints(min_length=1, max_length=ID_MAX, pattern=NO_CONTROL)]
Zone = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=100, pattern=NO_CONTROL),
]
Zones = Annotated[
    list[Zone],
    Field(max_length=100, description="territoires (or provinces) of the gazetteer"),
]
ChannelNames = Annotated[
    list[Annotated[str, StringConstraints(min_length=1, max_length=32)]],
    Field(
        max_length=10,
        description="channels their pages leave by, in failover order (empty: the zone's)",
    ),
]


def _role(value: str | None) -> str:
    # The importer's reading of a role cell: "Focal point" and "focal-point" are focal_point.
    role = re.sub(r"[\s-]+", "_", not_null(value).strip().lower())
    if role == UNREGISTERED:
        raise ValueError("'unregistered' marks unknown senders; it cannot be given")
    if role not in REPORTER_ROLES:
        raise ValueError(f"unknown role {role!r} (expected {', '.join(REPORTER_ROLES)})")
    return role


def _zones(value: list[str] | None) -> list[str]:
    return list(dict.fromkeys(not_null(value)))


# The window of a focal point's record: their alerts as verification found them
# (app.alerts.reliability counts them).
RELIABILITY_DAYS = 180


class Counts(Protocol):
    """A focal point's verified alerts over the window (app.alerts.reliability.Reliability)."""

    @property
    def confirmed(self) -> int: ...
    @property
    def false_alarm(self) -> int: ...
    @property
    def not_confirmed(self) -> int: ...


class ReliabilityRead(BaseModel):
    """A focal point's alerts over the last 180 days, as verification found them."""

    model_config = ConfigDict(from_attributes=True)

    days: int = RELIABILITY_DAYS
    confirmed: int
    false_alarm: int
    not_confirmed: int

    @classmethod
    def of(cls, history: Counts) -> ReliabilityRead:
        """Schema of a reporter's Reliability."""
        return cls(
            confirmed=history.confirmed,
            false_alarm=history.false_alarm,
            not_confirmed=history.not_confirmed,
        )


class ReporterCreate(BaseModel):
    """A focal point to register."""

    model_config = ConfigDict(extra="forbid")

    phone: Phone
    name: Name
    home_place_id: PlaceId | None = None
    language: Language = "fr"
    role: str = "focal_point"
    verified: bool = True
    active: bool = True
    opted_out: bool = False

    _check_role = field_validator("role")(_role)


class ReporterUpdate(BaseModel):
    """Fields of a focal point to change; those left out stay as they are."""

    model_config = ConfigDict(extra="forbid")

    phone: Phone | None = None
    name: Name | None = None
    home_place_id: PlaceId | None = None
    language: Language | None = None
    role: str | None = None
    verified: bool | None = None
    active: bool | None = None
    opted_out: bool | None = None

    _check_role = field_validator("role")(_role)
    _check_set = field_validator("phone", "name", "language", "verified", "active", "opted_out")(
        not_null
    )


class ReporterRead(BaseModel):
    """A focal point as admins see it (with the full number: admins are operators too)."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    phone: str
    name: str
    home_place_id: str | None
    language: str
    role: str
    verified: bool
    active: bool
    opted_out: bool
    created_at: datetime
    updated_at: datetime
    reliability: ReliabilityRead | None = Field(
        default=None, description="its alerts over the last 180 days, as verification found them"
    )


class PhoneRevealed(BaseModel):
    """A focal point's full number, given to an operator who asked (and recorded as such)."""

    id: int
    phone: str


class LiaisonCreate(BaseModel):
    """A liaison assistant (tier liaison) or an operations-room officer (tier joc)."""

    model_config = ConfigDict(extra="forbid")

    phone: Phone
    name: Name
    zones: Zones = []
    channels: ChannelNames = []
    tier: Tier = "liaison"
    language: Language = "fr"
    on_duty: bool = True
    active: bool = True

    _check_zones = field_validator("zones")(_zones)


class LiaisonUpdate(BaseModel):
    """Fields of a liaison to change; those left out stay as they are."""

    model_config = ConfigDict(extra="forbid")

    phone: Phone | None = None
    name: Name | None = None
    zones: Zones | None = None
    channels: ChannelNames | None = None
    tier: Tier | None = None
    language: Language | None = None
    on_duty: bool | None = None
    active: bool | None = None

    _check_zones = field_validator("zones")(_zones)
    _check_set = field_validator(
        "phone", "name", "tier", "language", "on_duty", "active", "channels"
    )(not_null)


class DutyUpdate(BaseModel):
    """On duty (paged for alerts of their zones) or not."""

    model_config = ConfigDict(extra="forbid")

    on_duty: bool


class LiaisonRead(BaseModel):
    """A liaison or JOC officer."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    phone: str
    name: str
    zones: list[str]
    channels: list[str]
    tier: str
    language: str
    on_duty: bool
    active: bool
    created_at: datetime
    updated_at: datetime
