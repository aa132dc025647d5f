"""Atom feed (RFC 4287) of alerts whose entries link to their CAP messages, as alert hubs read."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Sequence
from datetime import datetime

from app.alerts.formats.cap import MEDIA_TYPE as CAP_MEDIA_TYPE
from app.alerts.formats.common import STATUS_NAMES, event_name, headline, timestamp, xml_text
from app.alerts.models import Alert
from app.kit.phones import mask_in_text

ATOM_NS = "http://www.w3.org/2005/Atom"
MEDIA_TYPE = "application/atom+xml"


def _sub(parent: ET.Element, name: str, text: str | None = None, **attrs: str) -> ET.Element:
    child = ET.SubElement(parent, name, attrs)
    if text is not None:
        child.text = xml_text(text)
    return child


def entry_id(alert: Alert, host: str) -> str:
    """A permanent tag URI of the alert (RFC 4151): tag:host,2026-11-24:alert/K-2F7Q."""
    return f"tag:{host},{alert.received_at.date().isoformat()}:alert/{alert.ref}"


def feed(
    alerts: Sequence[Alert],
    *,
    base_url: str,
    host: str,
    self_url: str,
    now: datetime,
) -> bytes:
    """The feed of these alerts, newest first; no reporter phone number in it."""
    # Names stay unqualified under a declared default namespace: ElementTree's
    # default_namespace option refuses the unqualified attributes Atom uses (rel, href).
    root = ET.Element("feed", xmlns=ATOM_NS)
    _sub(root, "id", f"tag:{host},2024:kengele/alerts")
    _sub(root, "title", "Kengele — alertes du réseau d'alerte communautaire")
    latest = max((a.updated_at for a in alerts), default=now)
    _sub(root, "updated", timestamp(latest))
    author = _sub(root, "author")
    _sub(author, "name", "Kengele")
    _sub(root, "link", rel="self", type=MEDIA_TYPE, href=self_url)
    for alert in alerts:
        api = f"{base_url}/api/v1/alerts/{alert.id}"
        entry = _sub(root, "entry")
        _sub(entry, "id", entry_id(alert, host))
        _sub(entry, "title", headline(alert))
        _sub(entry, "updated", timestamp(max(alert.updated_at, alert.received_at)))
        _sub(entry, "published", timestamp(alert.received_at))
        _sub(entry, "link", rel="alternate", type=CAP_MEDIA_TYPE, href=f"{api}.cap")
        _sub(entry, "link", rel="related", type="application/json", href=api)
        _sub(entry, "category", term=alert.category, label=event_name(alert.category))
        status = STATUS_NAMES.get(alert.status, alert.status)
        summary = f"{alert.ref} · gravité {alert.severity} · statut {status}"
        _sub(entry, "summary", f"{summary}\n{mask_in_text(alert.body)}".rstrip())
    ET.indent(root)
    document: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    return document
