"""Channel: one way in and out (a Twilio account, an Android handset, an aggregator)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Float, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from app.kit.models import Base, TimestampMixin

KINDS = ("twilio", "smsgate", "httpsms", "africastalking", "http", "console")
# Kinds whose SMS leave from a SIM in a handset.
HANDSET_KINDS = ("smsgate", "httpsms")
# Options that are credentials: stored apart, shown once at creation, never listed or logged.
SECRET_OPTIONS = frozenset(
    {"signing_key", "password", "api_key", "auth_token", "token", "token2", "secret"}
)
# The channel the Twilio settings (KENGELE_TWILIO_*) stand for.
TWILIO = "twilio"


class Channel(TimestampMixin, Base):
    """A channel, its numbers, options and secrets, its place in the routes, and its health."""

    __tablename__ = "channels"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    # Names the inbound URL (/webhooks/{kind}/{name}) and the `provider` of inbound messages.
    name: Mapped[str] = mapped_column(String(32), unique=True)
    numbers: Mapped[list[str]] = mapped_column(JSON, default=list)
    options: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    secrets: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    # Territoires (or provinces) whose pages go out by this channel first.
    zones: Mapped[list[str]] = mapped_column(JSON, default=list)
    # Place in the default route and in a zone's route (lower first).
    priority: Mapped[int] = mapped_column(Integer, default=10)
    # SMS handed to the provider per second once the burst is spent.
    rate_per_second: Mapped[float] = mapped_column(Float, default=1.0)
    burst: Mapped[int] = mapped_column(Integer, default=3)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # A channel silent (no heartbeat) this long is down; None: it sends no heartbeat.
    heartbeat_seconds: Mapped[int | None] = mapped_column(Integer)
    last_inbound_at: Mapped[datetime | None] = mapped_column()
    last_heartbeat_at: Mapped[datetime | None] = mapped_column()
    down: Mapped[bool] = mapped_column(Boolean, default=False)
    down_since: Mapped[datetime | None] = mapped_column()
    down_reason: Mapped[str | None] = mapped_column(String(200))
