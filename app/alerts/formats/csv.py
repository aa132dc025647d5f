"""CSV of alerts for spreadsheets, with an optional HXL hashtag row for humanitarian tools."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Sequence

from app.alerts.formats.common import event_name, timestamp
from app.alerts.models import Alert
from app.kit.phones import mask, mask_in_text

MEDIA_TYPE = "text/csv; charset=utf-8"
# Excel reads a file as UTF-8 only when it starts with a byte order mark (else: accents break).
BOM = "\ufeff"

# (header, HXL hashtag) of each column, in order.
COLUMNS: tuple[tuple[str, str], ...] = (
    ("id", "#event+id"),
    ("ref", "#event+code"),
    ("received_at", "#date+reported"),
    ("status", "#status"),
    ("category", "#event+category"),
    ("event", "#event+name"),
    ("severity", "#severity"),
    ("place", "#loc+name"),
    ("admin1", "#adm1+name"),
    ("admin2", "#adm2+name"),
    ("lat", "#geo+lat"),
    ("lon", "#geo+lon"),
    ("reporter_phone", "#contact+phone"),
    ("body", "#description"),
    ("incident_id", "#event+incident+id"),
    ("messages", "#meta+count"),
)

# A cell a spreadsheet would read as a formula (=HYPERLINK(...), +cmd|..., @SUM(...)):
# OWASP's advice is to make it text with a leading apostrophe.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
# Numbers are E.164 ('+' and digits) or masked (bullets): harmless even when read as a
# formula, and kept unchanged so that scripts reading the file get the number itself.
_PHONE = re.compile(r"\+?[0-9•]{3,20}")


def neutralise(text: str) -> str:
    """Text that no spreadsheet runs as a formula."""
    if text.startswith(_FORMULA_START) or text.lstrip().startswith(_FORMULA_START):
        return "'" + text
    return text


def _phone(alert: Alert, mask_phone: bool) -> str:
    phone = (mask(alert.from_phone) or "") if mask_phone else alert.from_phone
    return phone if _PHONE.fullmatch(phone) else neutralise(phone)


def _text(value: str | None) -> str:
    return neutralise(value) if value else ""


def row(alert: Alert, *, mask_phone: bool) -> list[str | int | float]:
    """The cells of one alert."""
    return [
        alert.id,
        alert.ref,
        timestamp(alert.received_at),
        alert.status,
        alert.category,
        event_name(alert.category),
        alert.severity,
        _text(alert.place_name),
        _text(alert.admin1),
        _text(alert.admin2),
        alert.lat if alert.lat is not None else "",
        alert.lon if alert.lon is not None else "",
        _phone(alert, mask_phone),
        _text(mask_in_text(alert.body) if mask_phone else alert.body),
        alert.incident_id if alert.incident_id is not None else "",
        alert.message_count,
    ]


def alerts_csv(alerts: Sequence[Alert], *, mask_phone: bool, hxl: bool = False) -> str:
    """The CSV document (BOM, header row, HXL row when asked, one row per alert)."""
    out = io.StringIO()
    out.write(BOM)
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([name for name, _ in COLUMNS])
    if hxl:
        writer.writerow([tag for _, tag in COLUMNS])
    for alert in alerts:
        writer.writerow(row(alert, mask_phone=mask_phone))
    return out.getvalue()
