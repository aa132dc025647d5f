"""API shapes of deliveries and webhook subscriptions."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from app.kit.phones import mask
from app.outbox.health import Health
from app.outbox.models import CHANNEL_SMS, Delivery, DeliveryAttempt, WebhookSubscription


class AttemptRead(BaseModel):
    """One attempt or provider status."""

    at: datetime
    status: str
    provider_id: str | None
    http_status: int | None
    error_code: int | None
    error: str | None

    @classmethod
    def of(cls, a: DeliveryAttempt) -> AttemptRead:
        """Schema of a stored attempt."""
        return cls(
            at=a.at,
            status=a.status,
            provider_id=a.provider_id,
            http_status=a.http_status,
            error_code=a.error_code,
            error=a.error,
        )


class DeliveryRead(BaseModel):
    """An SMS or webhook of the outbox."""

    id: int
    channel: str
    purpose: str
    status: str
    provider_status: str | None
    alert_id: int | None
    recipient: str
    event_type: str | None
    attempts: int
    max_attempts: int
    due_at: datetime
    last_error: str | None
    created_at: datetime
    sent_at: datetime | None
    history: list[AttemptRead] | None = None

    @classmethod
    def of(cls, d: Delivery, *, mask_phone: bool) -> DeliveryRead:
        """Schema of a stored delivery; SMS numbers masked for viewers."""
        recipient = d.recipient
        if d.channel == CHANNEL_SMS and mask_phone:
            recipient = mask(recipient) or ""
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
            last_error=d.last_error,
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

    id: int
    url: str
    event_types: list[str]
    description: str
    active: bool
    disabled_reason: str | None
    created_at: datetime

    @classmethod
    def of(cls, s: WebhookSubscription) -> SubscriptionRead:
        """Schema of a stored subscription."""
        return cls(
            id=s.id,
            url=s.url,
            event_types=list(s.event_types),
            description=s.description,
            active=s.active,
            disabled_reason=s.disabled_reason,
            created_at=s.created_at,
        )


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
