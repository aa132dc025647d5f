"""Place: one entry of the gazetteer."""

from __future__ import annotations

from sqlalchemy import JSON, Float, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from app.kit.models import Base, TimestampMixin


class Place(TimestampMixin, Base):
    """A named place with coordinates and its province (admin1) and territoire (admin2)."""

    __tablename__ = "places"
    # The gazetteer's fingerprint reads the newest edit (app/geo/repository.py:fingerprint).
    __table_args__ = (Index("ix_places_updated_at", "updated_at"),)

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200), index=True)
    alt_names: Mapped[list[str]] = mapped_column(JSON, default=list)
    lat: Mapped[float] = mapped_column(Float)
    lon: Mapped[float] = mapped_column(Float)
    admin1: Mapped[str | None] = mapped_column(String(100), index=True)
    admin1_code: Mapped[str | None] = mapped_column(String(16))
    admin2: Mapped[str | None] = mapped_column(String(100), index=True)
    kind: Mapped[str | None] = mapped_column(String(32))
    source: Mapped[str] = mapped_column(String(32), default="csv")
