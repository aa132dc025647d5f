"""API shapes of channels: secrets go in, and come out once, at creation."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

from app.channels.models import Channel
from app.channels.service import inbound_path
from app.kit.text import NO_CONTROL
from app.kit.validation import not_null

Kind = Literal["twilio", "smsgate", "httpsms", "africastalking", "http", "console"]
OptionValue = str | int | float | bool
Zone = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=100, pattern=NO_CONTROL),
]
Number = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=32)]


class ChannelCreate(BaseModel):
    """A channel to add; secret options (signing_key, password, api_key…) are shown back once."""

    model_config = ConfigDict(extra="forbid")

    kind: Kind
    name: Annotated[str, StringConstraints(min_length=1, max_length=32)]
    numbers: Annotated[list[Number], Field(max_length=20)] = []
    options: dict[str, OptionValue] = {}
    zones: Annotated[list[Zone], Field(max_length=100)] = []
    priority: Annotated[int, Field(ge=0, le=1000)] = 10
    rate_per_second: Annotated[float | None, Field(gt=0, le=1000)] = None
    burst: Annotated[int | None, Field(ge=1, le=1000)] = None
    heartbeat_seconds: Annotated[int | None, Field(ge=30, le=7 * 86400)] = Field(
        default=None, description="silent this long: down (smsgate: 1200 unless given)"
    )


class ChannelUpdate(BaseModel):
    """Fields to change; options merge with the stored ones (null removes one)."""

    model_config = ConfigDict(extra="forbid")

    numbers: Annotated[list[Number], Field(max_length=20)] | None = None
    options: dict[str, OptionValue | None] | None = None
    zones: Annotated[list[Zone], Field(max_length=100)] | None = None
    priority: Annotated[int, Field(ge=0, le=1000)] | None = None
    rate_per_second: Annotated[float, Field(gt=0, le=1000)] | None = None
    burst: Annotated[int, Field(ge=1, le=1000)] | None = None
    heartbeat_seconds: Annotated[int, Field(ge=30, le=7 * 86400)] | None = None
    active: bool | None = None

    # heartbeat_seconds may be null (the channel sends none); options null changes none.
    _check_set = field_validator(
        "numbers", "zones", "priority", "rate_per_second", "burst", "active"
    )(not_null)


class ChannelRead(BaseModel):
    """A channel as admins see it: the names of its secrets, never their values."""

    id: int
    kind: str
    name: str
    numbers: list[str]
    options: dict[str, Any]
    secret_options: list[str] = Field(description="secret options that are set (values hidden)")
    zones: list[str]
    priority: int
    rate_per_second: float
    burst: int
    heartbeat_seconds: int | None
    active: bool
    inbound_path: str = Field(description="where the provider posts: POST {public URL}{path}")
    down: bool
    last_inbound_at: datetime | None
    last_heartbeat_at: datetime | None

    @classmethod
    def of(cls, channel: Channel) -> ChannelRead:
        """The read shape of a stored channel."""
        return cls(
            id=channel.id,
            kind=channel.kind,
            name=channel.name,
            numbers=list(channel.numbers or []),
            options=dict(channel.options or {}),
            secret_options=sorted(channel.secrets or {}),
            zones=list(channel.zones or []),
            priority=channel.priority,
            rate_per_second=channel.rate_per_second,
            burst=channel.burst,
            heartbeat_seconds=channel.heartbeat_seconds,
            active=channel.active,
            inbound_path=inbound_path(channel.kind, channel.name),
            down=channel.down,
            last_inbound_at=channel.last_inbound_at,
            last_heartbeat_at=channel.last_heartbeat_at,
        )


class ChannelCreated(ChannelRead):
    """The answer to a creation: the only time the secrets are shown."""

    secrets: dict[str, str]
