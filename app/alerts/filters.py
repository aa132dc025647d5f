"""The filters of the alert list, as the API and the exports pass them to alerts' service."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from app.alerts.status import AlertStatus


@dataclass(frozen=True)
class AlertFilter:
    """Filters of the alerts list (all optional)."""

    status: Sequence[AlertStatus] = ()
    min_severity: str | None = None
    category: Sequence[str] = ()
    admin1: str | None = None
    admin2: str | None = None
    place_id: str | None = None
    since: datetime | None = None
    until: datetime | None = None
