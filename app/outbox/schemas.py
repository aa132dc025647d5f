"""API shapes of deliveries and webhook subscriptions."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from app.kit.phones import mask, mask_in_text
from app.outbox.models import (
    CHANNEL_SMS,
    CHANNEL_VOICE,
    CHANNEL_WEBHOOK,
    Delivery,
)

if TYPE_CHECKING:  # app.outbox.health imports the service, which imports these schemas
    from app.outbox.health import Health

_URL = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*://[^\s'\"<>]+")
# What a viewer may read of a webhook's error: its kind ("HTTP 500", "timed out",
# "connection"), never the target's answer nor its address.
_ERROR_KIND = re.compile(r"HTTP \d{3}|[^:;]{1,40}")


def safe_url(url: str) -> str:
    """A URL without what may be a secret in it: user, password, query and fragment."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        return "[url]"
    hidden = "?[redacted]" if parts.query or parts.fragment else ""
    return f"{parts.scheme}://{host}{port}{parts.path}{hidden}"


def safe_error(error: str | None, *, channel: str, viewer: bool) -> str | None:
    """An error as its reader may see it: no URL secrets; for viewers no number, no body."""
    if not error:
        return error
    error = _URL.sub(lambda m: safe_url(m.group()), error)
    if not viewer:
        return error
    if channel == CHANNEL_WEBHOOK:
        kind = _ERROR_KIND.match(error)
        error = kind.group().strip() if kind else "error"
    return mask_in_text(error)


def subscription_name(subscription_id: int | None, description: str = "") -> str:
    """How a subscription is shown to those who may not read its URL."""
    return mask_in_text(description) or f"webhook subscription {subscription_id}"


class AttemptRead(BaseModel):
    """One attempt or provider status."""

    # Validated with context={"channel": the delivery's, "mask_phone": False} to show an
    # error uncut; viewers (and callers who do not say) get it cut down.
    model_config = ConfigDict(from_attributes=True)

    at: datetime
    status: str
    provider_id: str | None
    http_status: int | None
    error_code: int | None
    error: str | None

    @field_validator("error")
    @classmethod
    def _safe(cls, value: str | None, info: ValidationInfo) -> str | None:
        context = info.context or {}
        viewer = bool(context.get("mask_phone", True))
        return safe_error(value, channel=context.get("channel", ""), viewer=viewer)


class DeliveryRead(BaseModel):
    """An SMS or webhook of the outbox."""

    id: int
    channel: str
    purpose: str
    status: str
    provider_status: str | None
    alert_id: int | None
    recipient: str = Field(
        description="an SMS's number (masked for viewers); a webhook's URL without its query "
        "and credentials (for viewers: the subscription's name)"
    )
    event_type: str | None
    attempts: int
    max_attempts: int
    due_at: datetime
    last_error: str | None
    created_at: datetime
    sent_at: datetime | None
    history: list[AttemptRead] | None = None

    @classmethod
    def of(
        cls, d: Delivery, *, mask_phone: bool, names: Mapping[int, str] | None = None
    ) -> DeliveryRead:
        """Schema of a stored delivery; numbers, webhook URLs and answers hidden from viewers.

        `names` are the subscriptions' names by id (what viewers see of a webhook's target).
        """
        recipient = d.recipient
        if d.channel in (CHANNEL_SMS, CHANNEL_VOICE) and mask_phone:
            recipient = mask(recipient) or ""
        elif d.channel == CHANNEL_WEBHOOK:
            recipient = safe_url(recipient)
            if mask_phone:
                sub = d.subscription_id
                recipient = (names or {}).get(sub or 0) or subscription_name(sub)
        return cls(
            id=d.id,
            channel=d.channel,
            purpose=d.purpose,
            status=d.status,
            provider_status=d.provider_status,
            alert_id=d.alert_id,
            recipient=recipient,
            event_type=d.event_type,
            attempts=d.attempts,
            max_attempts=d.max_attempts,
            due_at=d.due_at,
            last_error=safe_error(d.last_error, channel=d.channel, viewer=mask_phone),
            created_at=d.created_at,
            sent_at=d.sent_at,
        )


class SubscriptionCreate(BaseModel):
    """A new webhook subscription."""

    url: str = Field(min_length=8, max_length=2048)
    event_types: list[str] = Field(min_length=1)
    description: str = Field(default="", max_length=200)


class SubscriptionRead(BaseModel):
    """A subscription (its secret is never shown again)."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    url: str
    event_types: list[str]
    description: str
    active: bool
    disabled_reason: str | None
    created_at: datetime


class SubscriptionCreated(SubscriptionRead):
    """The answer to a creation: the only time the secret is shown."""

    secret: str


class ChannelHealthRead(BaseModel):
    """A channel's health: up or down, when it last spoke, its sends over the last hour."""

    name: str
    kind: str
    up: bool
    down_since: datetime | None
    reason: str | None
    last_inbound_at: datetime | None
    last_heartbeat_at: datetime | None
    heartbeat_seconds: int | None
    sends_last_hour: int
    failures_last_hour: int
    waiting: int = Field(description="SMS waiting because every channel of their route is down")

    @classmethod
    def of(cls, health: Health) -> ChannelHealthRead:
        """The read shape of a channel's health."""
        channel = health.channel
        return cls(
            name=channel.name,
            kind=channel.kind,
            up=not channel.down,
            down_since=channel.down_since,
            reason=channel.down_reason,
            last_inbound_at=channel.last_inbound_at,
            last_heartbeat_at=channel.last_heartbeat_at,
            heartbeat_seconds=channel.heartbeat_seconds,
            sends_last_hour=health.sends_last_hour,
            failures_last_hour=health.failures_last_hour,
            waiting=health.waiting,
        )


class ZoneUnreachableRead(BaseModel):
    """A zone whose every SMS channel is down: since when, and the pages waiting for one."""

    model_config = ConfigDict(from_attributes=True)

    zone: str
    channels: list[str] = Field(description="the zone's channels, all down")
    since: datetime | None = Field(description="when the last of them went down")
    waiting_pages: int = Field(description="pages of the zone's alerts whose channel is down")
