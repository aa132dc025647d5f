"""What the triage tests share: the day they read messages on, and a result in one line."""

from __future__ import annotations

from datetime import datetime

from app.geo.matcher import Gazetteer
from app.triage.engine import triage_message
from app.triage.types import Sender

MONDAY = datetime.fromisoformat("2024-12-30T09:00:00+02:00")  # a Monday in Kivu


def summary(text: str, gazetteer: Gazetteer, sender: Sender) -> tuple[str, str, str | None]:
    """(category, severity, place id) of `text` from `sender`, received on MONDAY."""
    r = triage_message(text, gazetteer=gazetteer, sender=sender, received_at=MONDAY)
    return r.category, r.severity, r.place.id if r.place else None
