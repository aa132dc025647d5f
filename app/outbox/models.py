"""Delivery (one SMS or webhook to send), its attempts, webhook subscriptions, sender rates."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Float, ForeignKey, Index, Integer, SmallInteger, String, text
from sqlalchemy.engine.default import DefaultExecutionContext
from sqlalchemy.orm import Mapped, mapped_column

from app.kit.clock import utcnow
from app.kit.crypto import EncryptedString, EncryptedText, hash_of, keep_hashed
from app.kit.models import Base, TimestampMixin

CHANNEL_SMS = "sms"
CHANNEL_WEBHOOK = "webhook"
# A call reading a critical page when no SMS channel can carry it (app.outbox.voice).
CHANNEL_VOICE = "voice"

# pending: waiting for its due time; sending: claimed by a worker under a lease;
# queued/sent/delivered/undelivered/failed: the provider's word (SMS);
# dead: gave up after the last attempt or failed permanently; cancelled: no longer needed.
PENDING = "pending"
SENDING = "sending"
DEAD = "dead"
CANCELLED = "cancelled"
# What pages a liaison about an alert (an SMS, or the call that reads it): not sent again once
# the alert is no longer new (app.outbox.service.withdrawn, repository's lease expiry).
PAGING = ("page", "call")
# The longest provider message id stored (the status webhooks cut the ids they look up alike).
PROVIDER_ID_LENGTH = 64
# A sending number's rate is shared: when it holds back a queue, the reporters' replies and
# receipts wait behind every other SMS (pages, the JOC's notices), which go in the order they
# fell due. In a surge of reports, a liaison's page must not wait for fifty villages' receipts.
LAST = ("reply", "receipt")
ACCEPTED_STATES = ("accepted", "queued", "sent", "delivered", "undelivered", "failed")
# The order provider states only move forward in; the last three are final.
PROVIDER_ORDER = {
    "accepted": 1,
    "queued": 1,
    "sending": 2,
    "sent": 3,
    "delivered": 4,
    "undelivered": 4,
    "failed": 4,
}

EVENT_TYPES = (
    "alert.created",
    "alert.updated",
    "alert.escalated",
    "alert.acknowledged",
    "alert.resolved",
    "delivery.dead",
    "channel.down",
    "channel.up",
    "zone.unreachable",
    "zone.reachable",
)


def _queue_rank(context: DefaultExecutionContext) -> int:
    row: dict[str, Any] = context.get_current_parameters()  # type: ignore[no-untyped-call]
    return 1 if row.get("purpose") in LAST else 0


class Delivery(TimestampMixin, Base):
    """One message to send, written in the transaction that decided it (transactional outbox)."""

    __tablename__ = "deliveries"
    __table_args__ = (
        Index("ix_deliveries_status_due_at", "status", "due_at"),
        Index("ix_deliveries_recipient_hash_created_at", "recipient_hash", "created_at"),
        # The worker's queue: a sender's pending rows in the order it claims them, so that a
        # claim reads the rows it takes, not the whole backlog (app.outbox.repository).
        Index(
            "ix_deliveries_queue",
            "channel",
            "sender",
            "queue_rank",
            "due_at",
            "id",
            postgresql_where=text("status = 'pending'"),
            sqlite_where=text("status = 'pending'"),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))
    purpose: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16), default=PENDING)
    alert_id: Mapped[int | None] = mapped_column(
        ForeignKey("alerts.id", ondelete="SET NULL"), index=True
    )
    liaison_id: Mapped[int | None] = mapped_column(
        ForeignKey("liaisons.id", ondelete="SET NULL"), index=True
    )
    subscription_id: Mapped[int | None] = mapped_column(
        ForeignKey("webhook_subscriptions.id", ondelete="CASCADE"), index=True
    )
    # E.164 number of an SMS, URL of a webhook.
    # Encrypted (a number is personal data); found by its keyed hash (app/kit/crypto.py).
    recipient: Mapped[str] = mapped_column(EncryptedString())
    recipient_hash: Mapped[str | None] = mapped_column(String(64), default=hash_of("recipient"))
    # The sending number an SMS goes out from (its rate is limited); "" for webhooks.
    sender: Mapped[str] = mapped_column(String(64), default="")
    # SMS: the channels it may leave by, in failover order, and the one it goes by now
    # (None: the configured provider, as before channels existed).
    route: Mapped[list[str]] = mapped_column(JSON, default=list)
    via: Mapped[str | None] = mapped_column(String(32))
    # Encrypted: a page quotes the report and may carry the reporter's number.
    body: Mapped[str] = mapped_column(EncryptedText())
    event_type: Mapped[str | None] = mapped_column(String(32))
    # webhook-id: the same on every retry of one event.
    event_id: Mapped[str | None] = mapped_column(String(64))
    escalation_step: Mapped[int | None] = mapped_column(Integer)
    # A page (or the call reading it) written for a community liaison because the alert is in
    # their zones, not because a policy lists their number: moved to other zones while it was
    # being sent, its retry is passed on (app.flows.roster.requeued).
    of_zone: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))
    due_at: Mapped[datetime] = mapped_column(default=utcnow)
    # 1 for replies and receipts (LAST), which a sender's queue sends after its other SMS.
    queue_rank: Mapped[int] = mapped_column(SmallInteger, default=_queue_rank, server_default="0")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    max_attempts: Mapped[int] = mapped_column(Integer, default=8)
    lease_until: Mapped[datetime | None] = mapped_column()
    # When its last send was claimed: a provider's status kept from before then is of an
    # earlier send (app.outbox.repository.early_now_known), were the provider to know both
    # sends by one id (ours are per send: app.outbox.channels.message_id).
    claimed_at: Mapped[datetime | None] = mapped_column()
    leased_by: Mapped[str | None] = mapped_column(String(64))
    provider_id: Mapped[str | None] = mapped_column(String(PROVIDER_ID_LENGTH), index=True)
    provider_status: Mapped[str | None] = mapped_column(String(16))
    # Encrypted: a provider's error may name the number.
    last_error: Mapped[str | None] = mapped_column(EncryptedText())
    sent_at: Mapped[datetime | None] = mapped_column()
    final_at: Mapped[datetime | None] = mapped_column()
    # What retention already removed from the row (bits of app/retention/kinds.py).
    purged: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class DeliveryAttempt(Base):
    """One try at sending a delivery, or one status the provider reported later."""

    __tablename__ = "delivery_attempts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    delivery_id: Mapped[int] = mapped_column(
        ForeignKey("deliveries.id", ondelete="CASCADE"), index=True
    )
    at: Mapped[datetime] = mapped_column(default=utcnow)
    status: Mapped[str] = mapped_column(String(32))
    # The channel of an SMS attempt (the one that failed, for a failover).
    channel: Mapped[str | None] = mapped_column(String(32), index=True)
    provider_id: Mapped[str | None] = mapped_column(String(PROVIDER_ID_LENGTH))
    http_status: Mapped[int | None] = mapped_column(Integer)
    error_code: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(EncryptedText())
    worker: Mapped[str | None] = mapped_column(String(64))
    duration_ms: Mapped[float | None] = mapped_column(Float)


class EarlyStatus(Base):
    """A provider's status of a message id no delivery had yet: the send's result was not
    recorded when the callback came (the worker still retrying through a database blip,
    say). Applied once a delivery has that id (app.flows.provider_reports.apply_early);
    forgotten after a day (another application's message on the same account, say)."""

    __tablename__ = "early_statuses"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    provider_id: Mapped[str] = mapped_column(String(PROVIDER_ID_LENGTH), index=True)
    # The channel that reported it (a gateway app's ids are its own); None: Twilio's.
    channel: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(32))
    error_code: Mapped[int | None] = mapped_column(Integer)
    received_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class WebhookSubscription(TimestampMixin, Base):
    """Another system that wants alert events, signed per Standard Webhooks."""

    __tablename__ = "webhook_subscriptions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    url: Mapped[str] = mapped_column(String(2048))
    event_types: Mapped[list[str]] = mapped_column(JSON, default=list)
    # Needed to sign every message, so kept; shown once at creation, never returned again.
    secret: Mapped[str] = mapped_column(String(128))
    description: Mapped[str] = mapped_column(String(200), default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    disabled_reason: Mapped[str | None] = mapped_column(String(200))


class SenderRate(Base):
    """Token bucket of one sending number, shared by every worker through the database."""

    __tablename__ = "sender_rates"

    sender: Mapped[str] = mapped_column(String(64), primary_key=True)
    tokens: Mapped[float] = mapped_column(Float)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


keep_hashed(Delivery.recipient, "recipient_hash")


def provider_rank(status: str | None) -> int:
    """Position of a provider status in its forward-only order (0 when unknown)."""
    return PROVIDER_ORDER.get(status or "", 0)


def status_for(provider_status: str) -> str:
    """A delivery's own status once its provider has it: the provider's word, except where
    that word is one of ours. Twilio's "sending" (on its way to the handset) read as our
    `sending` would be a lease nobody holds: the row would never move again, and a later
    "failed" would page no one else."""
    return "queued" if provider_status in (PENDING, SENDING) else provider_status


def payload(delivery: Delivery) -> dict[str, Any]:
    """Short description of a delivery for events (no message body, phone masked elsewhere)."""
    return {
        "id": delivery.id,
        "channel": delivery.channel,
        "purpose": delivery.purpose,
        "status": delivery.status,
        "alert_id": delivery.alert_id,
        "attempts": delivery.attempts,
        "last_error": delivery.last_error,
    }
