"""RFC 7946 GeoJSON of alerts: one Point feature per alert, [longitude, latitude]."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

from pydantic import BaseModel

from app.alerts.formats.common import event_name, timestamp
from app.alerts.models import Alert
from app.geo.schemas import Point
from app.kit.phones import mask, mask_in_text
from app.kit.responses import GEOJSON

MEDIA_TYPE = GEOJSON


class AlertProperties(BaseModel):
    """What a map shows of an alert (the reporter's number masked for viewers)."""

    id: int
    ref: str
    status: str
    category: str
    event: str
    severity: str
    received_at: str
    place: str | None
    admin1: str | None
    admin2: str | None
    reporter_phone: str
    body: str
    incident_id: int | None


class AlertFeature(BaseModel):
    """One alert; geometry is null when the alert has no place."""

    type: Literal["Feature"]
    id: int
    geometry: Point | None
    properties: AlertProperties


class AlertFeatureCollection(BaseModel):
    """The alerts of a query, newest first."""

    type: Literal["FeatureCollection"]
    features: list[AlertFeature]


def feature(alert: Alert, *, mask_phone: bool) -> dict[str, Any]:
    """The feature of one alert."""
    geometry = None
    if alert.lat is not None and alert.lon is not None:
        geometry = {"type": "Point", "coordinates": [alert.lon, alert.lat]}
    phone = (mask(alert.from_phone) or "") if mask_phone else alert.from_phone
    return {
        "type": "Feature",
        "id": alert.id,
        "geometry": geometry,
        "properties": {
            "id": alert.id,
            "ref": alert.ref,
            "status": alert.status,
            "category": alert.category,
            "event": event_name(alert.category),
            "severity": alert.severity,
            "received_at": timestamp(alert.received_at),
            "place": alert.place_name,
            "admin1": alert.admin1,
            "admin2": alert.admin2,
            "reporter_phone": phone,
            "body": mask_in_text(alert.body) if mask_phone else alert.body,
            "incident_id": alert.incident_id,
        },
    }


def feature_collection(alerts: Sequence[Alert], *, mask_phone: bool) -> dict[str, Any]:
    """A FeatureCollection of alerts, in the order given."""
    return {
        "type": "FeatureCollection",
        "features": [feature(a, mask_phone=mask_phone) for a in alerts],
    }
