"""InboundMessage: what the provider handed over, stored before anything else happens."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from app.kit.clock import utcnow
from app.kit.crypto import EncryptedJSON, EncryptedString, EncryptedText, hash_of, keep_hashed
from app.kit.models import Base

STATUS_RECEIVED = "received"
STATUS_PROCESSED = "processed"
STATUS_FAILED = "failed"

# The messages the safety net looks for: a partial index holds only those (few: a message is
# `received` until processed), so a processed message's row has no entry in it to write.
STILL_RECEIVED = text(f"status = '{STATUS_RECEIVED}'")

KIND_SMS = "sms"
KIND_CALL = "call"


class InboundMessage(Base):
    """One SMS or missed call as the provider sent it; unique on (provider, provider_sid)."""

    __tablename__ = "inbound_messages"
    __table_args__ = (
        UniqueConstraint("provider", "provider_sid"),
        Index(
            "ix_inbound_messages_received",
            "received_at",
            "id",
            postgresql_where=STILL_RECEIVED,
            sqlite_where=STILL_RECEIVED,
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    provider: Mapped[str] = mapped_column(String(32))
    provider_sid: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(8), default=KIND_SMS)
    # The sender's number, words and the provider's form, encrypted (app/kit/crypto.py).
    from_phone: Mapped[str] = mapped_column(EncryptedString())
    from_phone_hash: Mapped[str | None] = mapped_column(
        String(64), index=True, default=hash_of("from_phone")
    )
    # The gateway's own number (not a person's).
    to_phone: Mapped[str] = mapped_column(String(32), default="")
    body: Mapped[str] = mapped_column(EncryptedText(), default="")
    raw: Mapped[dict[str, str]] = mapped_column(EncryptedJSON(), default=dict)
    status: Mapped[str] = mapped_column(String(16), default=STATUS_RECEIVED)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(EncryptedText())
    alert_id: Mapped[int | None] = mapped_column(
        ForeignKey("alerts.id", ondelete="SET NULL"), index=True
    )
    # The TwiML answered, so that a replayed MessageSid gets the same answer.
    reply: Mapped[str | None] = mapped_column(EncryptedText())
    received_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    # When the safety net may (re)try a message still `received`.
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    processed_at: Mapped[datetime | None] = mapped_column()
    # What retention already removed from the row (bits of app/retention/kinds.py).
    purged: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


keep_hashed(InboundMessage.from_phone, "from_phone_hash")


@dataclass(frozen=True)
class Taken:
    """What processing reads of a message it has taken (app.inbound.service.claim)."""

    id: int
    provider: str
    kind: str
    from_phone: str
    body: str
    received_at: datetime
    # Whether the sender has earlier messages still `received` (one failed and waits for its
    # retry, say): this one would overtake them.
    behind: bool = False
