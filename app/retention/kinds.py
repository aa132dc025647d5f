"""The kinds of personal data retention removes, and what stands in their place.

Each row remembers what was already removed from it in an integer column `purged`, one bit
per kind, so that a purge never has to read a text (which may be stored encrypted) to know
whether it is still there.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from app.kit.config import Settings

# Bits of the `purged` columns.
RAW = 1  # inbound_messages: the provider's form, the text and the numbers
TEXT = 2  # deliveries: the text sent (a page quotes the report and the call-back number)
NUMBER = 4  # deliveries: the number an SMS went to
ALERT_TEXT = 8  # alerts: the report's words and the humans' summary

# What stands in place of a removed text or number (fits every phone column).
PURGED_TEXT = "[purged]"
PURGED_NUMBER = "purged"

RAW_MESSAGES = "raw_messages"
MESSAGE_TEXTS = "message_texts"
DELIVERY_NUMBERS = "delivery_numbers"
CLOSED_ALERT_TEXTS = "closed_alert_texts"
KINDS = (RAW_MESSAGES, MESSAGE_TEXTS, DELIVERY_NUMBERS, CLOSED_ALERT_TEXTS)


@dataclass(frozen=True)
class Cutoffs:
    """For each kind, the time before which it goes (None: kept for ever)."""

    raw_messages: datetime | None
    message_texts: datetime | None
    delivery_numbers: datetime | None
    closed_alert_texts: datetime | None

    def of(self, kind: str) -> datetime | None:
        """The cutoff of one kind."""
        value: datetime | None = getattr(self, kind)
        return value


def _before(now: datetime, days: int) -> datetime | None:
    return now - timedelta(days=days) if days > 0 else None


def cutoffs(settings: Settings, now: datetime) -> Cutoffs:
    """The cutoffs the retention settings give at `now` (0 days: keep that kind)."""
    return Cutoffs(
        raw_messages=_before(now, settings.retention_raw_messages_days),
        message_texts=_before(now, settings.retention_message_texts_days),
        delivery_numbers=_before(now, settings.retention_delivery_numbers_days),
        closed_alert_texts=_before(now, settings.retention_closed_alert_texts_days),
    )
