"""Place: one entry of the gazetteer."""

from __future__ import annotations

from sqlalchemy import JSON, Float, String
from sqlalchemy.orm import Mapped, mapped_column

from app.kit.models import Base, TimestampMixin


class Place(TimestampMixin, Base):
    """A named place with coordinates and its province (admin1) and territoire (admin2)."""

    __tablename__ = "places"

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
