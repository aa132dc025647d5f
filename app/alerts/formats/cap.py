"""CAP 1.2 (OASIS Common Alerting Protocol) messages of alerts."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from app.alerts.formats.common import (
    STATUS_NAMES,
    event_name,
    headline,
    place_description,
    timestamp,
    xml_text,
)
from app.alerts.models import Alert
from app.alerts.status import AlertStatus
from app.kit.phones import mask_in_text

CAP_NS = "urn:oasis:names:tc:emergency:cap:1.2"
MEDIA_TYPE = "application/cap+xml"
# The circle drawn around the named place: villages are points in the gazetteer, and a
# report names the nearest village, not where the armed men are.
RADIUS_KM = 10.0
RESTRICTION = (
    "Réservé aux salles des opérations et partenaires du réseau d'alerte communautaire : "
    "signalement communautaire, ne pas diffuser au public."
)
SENDER_NAME = "Kengele — réseau d'alerte communautaire"

# Events written in the transaction that creates an alert, and events that only record the
# paging of liaisons: none of them changes what the CAP message says.
NOT_UPDATES = frozenset(
    {
        "created",
        "corroborated",
        "corroborated_by",
        "escalation_started",
        "escalation_restarted",
        "escalation_finished",
        "escalation_merged",
        "escalation_taken_with",
        "escalated",
        # The operations room's own bookkeeping: nothing a CAP consumer acts on.
        "note",
        "assigned",
        "page_fallback",
        "acknowledged_again",
    }
)

_URGENCY = ("Immediate", "Expected", "Future", "Past", "Unknown")
_SEVERITY = ("Extreme", "Severe", "Moderate", "Minor", "Unknown")
_CERTAINTY = ("Observed", "Likely", "Possible", "Unlikely", "Unknown")


@dataclass(frozen=True)
class Envelope:
    """Who sends a message about which version of the alert."""

    identifier: str
    sent: str
    msg_type: str
    references: str | None


def changed_after_creation(actions: Iterable[str]) -> bool:
    """Whether the audit trail shows a change made after the alert was first stored."""
    return any(action not in NOT_UPDATES for action in actions)


def original_identifier(alert: Alert) -> str:
    """Identifier of the first message about the alert."""
    return f"kengele-{alert.ref}"


def envelope(alert: Alert, *, sender: str, changed: bool) -> Envelope:
    """Identifier, time, message type and references of the alert's current version.

    The first version is an Alert sent when the report was received; a later version is an
    Update (a Cancel for a false alarm) identified by the alert's version number, sent when
    the alert last changed, referencing the first message as CAP requires.
    """
    first_sent = cap_time(alert.received_at)
    if not changed and alert.status != AlertStatus.FALSE_ALARM:
        return Envelope(original_identifier(alert), first_sent, "Alert", None)
    sent_at: datetime = max(alert.updated_at, alert.received_at)
    return Envelope(
        identifier=f"{original_identifier(alert)}-v{alert.version}",
        sent=cap_time(sent_at),
        msg_type="Cancel" if alert.status == AlertStatus.FALSE_ALARM else "Update",
        references=f"{sender},{original_identifier(alert)},{first_sent}",
    )


def cap_time(at: datetime) -> str:
    """A CAP 1.2 time: to the second, with an offset; UTC written "-00:00" (CAP 3.3.2)."""
    text = timestamp(at)
    return text[:-6] + "-00:00" if text.endswith("+00:00") else text


def _sub(parent: ET.Element, name: str, text: str | None = None) -> ET.Element:
    child = ET.SubElement(parent, f"{{{CAP_NS}}}{name}")
    if text is not None:
        child.text = xml_text(text)
    return child


def _one_of(value: str, allowed: tuple[str, ...]) -> str:
    return value if value in allowed else "Unknown"


def _param(info: ET.Element, name: str, value: object) -> None:
    param = _sub(info, "parameter")
    _sub(param, "valueName", name)
    _sub(param, "value", str(value))


def _description(alert: Alert) -> str:
    # CAP travels beyond the operations room: no phone number, not even in the text.
    said = [text for text in (alert.body.strip(), (alert.summary or "").strip()) if text]
    if said:
        return mask_in_text("\n".join(said))
    if alert.kind == "call":
        return f"Appel d'alerte sans message d'un point focal ({alert.message_count} appel(s))."
    return "Signalement sans texte."


def _coordinate(value: float) -> str:
    return f"{value:.5f}".rstrip("0").rstrip(".")


def cap_alert(alert: Alert, *, sender: str, changed: bool, web: str | None = None) -> ET.Element:
    """The CAP 1.2 <alert> element of an alert (no reporter phone number in it)."""
    env = envelope(alert, sender=sender, changed=changed)
    root = ET.Element(f"{{{CAP_NS}}}alert")
    _sub(root, "identifier", env.identifier)
    _sub(root, "sender", sender)
    _sub(root, "sent", env.sent)
    _sub(root, "status", "Actual")
    _sub(root, "msgType", env.msg_type)
    _sub(root, "source", "Kengele")
    _sub(root, "scope", "Restricted")
    _sub(root, "restriction", RESTRICTION)
    _sub(root, "note", f"Statut dans Kengele : {STATUS_NAMES.get(alert.status, alert.status)}")
    if env.references:
        _sub(root, "references", env.references)
    if alert.incident_id is not None:
        _sub(root, "incidents", f"kengele-incident-{alert.incident_id}")

    info = _sub(root, "info")
    _sub(info, "language", "fr-CD")
    _sub(info, "category", "Security")
    _sub(info, "event", event_name(alert.category))
    # Once resolved, the threat is over: responders need not act any more.
    urgency = (
        "Past" if alert.status == AlertStatus.RESOLVED else _one_of(alert.cap_urgency, _URGENCY)
    )
    _sub(info, "urgency", urgency)
    _sub(info, "severity", _one_of(alert.cap_severity, _SEVERITY))
    _sub(info, "certainty", _one_of(alert.cap_certainty, _CERTAINTY))
    code = _sub(info, "eventCode")
    _sub(code, "valueName", "kengele:category")
    _sub(code, "value", alert.category)
    _sub(info, "onset", cap_time(alert.received_at))
    _sub(info, "senderName", SENDER_NAME)
    _sub(info, "headline", headline(alert))
    _sub(info, "description", _description(alert))
    if web:
        _sub(info, "web", web)
    _param(info, "kengele:ref", alert.ref)
    _param(info, "kengele:status", alert.status)
    _param(info, "kengele:severity", alert.severity)
    _param(info, "kengele:messages", alert.message_count)
    for name in ("killed", "wounded", "abducted", "attackers"):
        count = getattr(alert, name)
        if count is not None:
            _param(info, f"kengele:{name}", count)

    area = _sub(info, "area")
    _sub(area, "areaDesc", place_description(alert))
    if alert.lat is not None and alert.lon is not None:
        point = f"{_coordinate(alert.lat)},{_coordinate(alert.lon)}"
        _sub(area, "circle", f"{point} {_coordinate(RADIUS_KM)}")
    for name, value in (("territoire", alert.admin2), ("province", alert.admin1)):
        if value:
            geocode = _sub(area, "geocode")
            _sub(geocode, "valueName", name)
            _sub(geocode, "value", value)
    return root


def cap_xml(alert: Alert, *, sender: str, changed: bool, web: str | None = None) -> bytes:
    """The CAP 1.2 document of an alert, UTF-8 with an XML declaration."""
    root = cap_alert(alert, sender=sender, changed=changed, web=web)
    ET.indent(root)
    document: bytes = ET.tostring(
        root, encoding="utf-8", xml_declaration=True, default_namespace=CAP_NS
    )
    return document
