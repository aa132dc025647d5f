"""What every export format says the same way: times, event names, place descriptions."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from app.alerts.models import Alert
from app.alerts.status import AlertStatus

# Human-readable event of each triage category, in French: the working language of the
# operations rooms of eastern DR Congo.
EVENT_NAMES = {
    "ATTACK": "Attaque armée",
    "ABDUCTION": "Enlèvement",
    "SEXUAL_VIOLENCE": "Violences sexuelles",
    "CLASH": "Affrontements armés",
    "ARSON": "Incendie volontaire",
    "LOOTING": "Pillage",
    "ARMED_PRESENCE": "Présence d'hommes armés",
    "DISPLACEMENT": "Déplacement de population",
    "THREAT": "Menaces",
    "OTHER": "Autre signalement",
    "FLASH": "Appel d'alerte (bip)",
}

STATUS_NAMES = {
    AlertStatus.NEW: "nouvelle",
    AlertStatus.ACKNOWLEDGED: "prise en charge",
    AlertStatus.VERIFIED: "vérifiée",
    AlertStatus.RESOLVED: "résolue",
    AlertStatus.FALSE_ALARM: "fausse alerte",
}

UNKNOWN_PLACE = "Lieu non précisé"


def timestamp(at: datetime) -> str:
    """ISO 8601 in UTC to the second with an explicit offset (2026-11-24T11:30:00+00:00).

    CAP 1.2 forbids "Z" and fractions of a second; Atom and CSV use the same form so that
    one alert shows the same time everywhere.
    """
    if at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    return at.astimezone(UTC).replace(microsecond=0).isoformat()


# Characters XML 1.0 cannot carry at all (an SMS may hold U+FFFE, or a stray control).
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def xml_text(text: str) -> str:
    """`text` without the characters an XML document cannot hold."""
    return _NOT_XML.sub("", text)


def event_name(category: str) -> str:
    """The human-readable event of a category."""
    return EVENT_NAMES.get(category, category.replace("_", " ").capitalize())


def place_description(alert: Alert) -> str:
    """Place name, territoire, province: 'Mavivi, Beni, Nord-Kivu'."""
    parts = [p for p in (alert.place_name, alert.admin2, alert.admin1) if p]
    # A place named like its territoire (Beni in Beni) is said once.
    unique = [p for i, p in enumerate(parts) if p not in parts[:i]]
    return ", ".join(unique) or UNKNOWN_PLACE


def headline(alert: Alert) -> str:
    """'Attaque armée — Mavivi, Beni, Nord-Kivu'."""
    return f"{event_name(alert.category)} — {place_description(alert)}"
