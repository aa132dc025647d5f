"""What the statistics count: the alerts received in a window, in a zone."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class Scope:
    """Alerts received in [since, until), in a province and/or territoire (any case)."""

    since: datetime
    until: datetime
    admin1: str | None = None
    admin2: str | None = None

    def covers_zone(self, admin1: str | None, admin2: str | None) -> bool:
        """Whether an alert of this province and territoire is in the scope's zone."""
        return (not self.admin1 or (admin1 or "").lower() == self.admin1.lower()) and (
            not self.admin2 or (admin2 or "").lower() == self.admin2.lower()
        )
