"""EscalationPolicy (editable) and Escalation (a policy frozen onto one alert, its timer)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from app.kit.clock import utcnow
from app.kit.crypto import EncryptedJSON
from app.kit.models import Base, TimestampMixin

ACTIVE = "active"
STOPPED = "stopped"
DONE = "done"


class EscalationPolicy(TimestampMixin, Base):
    """A named policy: which alerts it matches and whom to page, step by step."""

    __tablename__ = "escalation_policies"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    priority: Mapped[int] = mapped_column(Integer, default=100)
    # Encrypted: a step may name liaisons' numbers.
    document: Mapped[dict[str, Any]] = mapped_column(EncryptedJSON())
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class Escalation(TimestampMixin, Base):
    """The paging of one alert: its frozen policy and the time of its next step."""

    __tablename__ = "escalations"
    __table_args__ = (Index("ix_escalations_state_next_due_at", "state", "next_due_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    alert_id: Mapped[int] = mapped_column(ForeignKey("alerts.id", ondelete="CASCADE"), unique=True)
    incident_id: Mapped[int | None] = mapped_column(
        ForeignKey("incidents.id", ondelete="SET NULL"), index=True
    )
    policy_name: Mapped[str] = mapped_column(String(100))
    policy: Mapped[dict[str, Any]] = mapped_column(EncryptedJSON())
    severity: Mapped[str] = mapped_column(String(16))
    state: Mapped[str] = mapped_column(String(16), default=ACTIVE)
    # Index of the next step in policy["steps"]; past the end: the repeats.
    next_step: Mapped[int] = mapped_column(Integer, default=0)
    repeats_done: Mapped[int] = mapped_column(Integer, default=0)
    next_due_at: Mapped[datetime | None] = mapped_column()
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    lease_until: Mapped[datetime | None] = mapped_column()
    # Corroborating reports since the last step ("(+1 report)" in the next page).
    new_reports: Mapped[int] = mapped_column(Integer, default=0)
    stopped_reason: Mapped[str | None] = mapped_column(String(100))
    acknowledged_by: Mapped[int | None] = mapped_column(
        ForeignKey("liaisons.id", ondelete="SET NULL")
    )
