"""Reporter (focal point) and Liaison."""

from __future__ import annotations

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from app.kit.crypto import EncryptedString, hash_of, keep_hashed
from app.kit.models import Base, TimestampMixin

LANGUAGES = ("fr", "sw", "ln", "en")
# What a focal point may be registered as; a typo ("king") is refused, not stored.
REPORTER_ROLES = ("focal_point", "community_relay", "protection_committee")


class PersonMixin(TimestampMixin):
    """What focal points and liaisons have alike: a number, a name, a language."""

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # E.164, encrypted; found by its keyed hash (app/kit/crypto.py).
    phone: Mapped[str] = mapped_column(EncryptedString())
    phone_hash: Mapped[str | None] = mapped_column(
        String(64), unique=True, default=hash_of("phone")
    )
    name: Mapped[str] = mapped_column(String(200), default="")
    language: Mapped[str] = mapped_column(String(8), default="fr")
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class Reporter(PersonMixin, Base):
    """A focal point: a villager registered to report what happens at home."""

    __tablename__ = "reporters"

    home_place_id: Mapped[str | None] = mapped_column(
        ForeignKey("places.id", ondelete="SET NULL"), index=True
    )
    role: Mapped[str] = mapped_column(String(32), default="focal_point")
    verified: Mapped[bool] = mapped_column(Boolean, default=True)
    opted_out: Mapped[bool] = mapped_column(Boolean, default=False)


class Liaison(PersonMixin, Base):
    """A community liaison assistant or an operations-room (JOC) duty officer."""

    __tablename__ = "liaisons"

    zones: Mapped[list[str]] = mapped_column(JSON, default=list)
    tier: Mapped[str] = mapped_column(String(16), default="liaison")
    # Channels their pages leave by, in failover order (empty: the zone's, else the default).
    channels: Mapped[list[str]] = mapped_column(JSON, default=list)
    on_duty: Mapped[bool] = mapped_column(Boolean, default=True)


keep_hashed(Reporter.phone, "phone_hash")
keep_hashed(Liaison.phone, "phone_hash")
