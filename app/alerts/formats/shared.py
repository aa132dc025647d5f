"""Exports for partners (`?shared=1`): no words, no reporter, places no finer than settings.

What stays is what a humanitarian partner counts and maps: when, what, how severe, which
province and territoire, how many killed, wounded, abducted. Coordinates are the centroid of
the alert's territoire (when the gazetteer has it) or rounded to a set number of decimals;
in territoire mode the place named is the territoire too, so that a village's name does
not point at the few phones in it. Columns carry HXL hashtags (CSV: a row under the header;
GeoJSON: the `hxl` member of the collection maps each property to its hashtag).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel

from app.alerts.formats.common import event_name, timestamp
from app.alerts.formats.csv import BOM, neutralise
from app.alerts.models import Alert
from app.geo.schemas import Point

# (column or property, HXL hashtag), in order.
COLUMNS: tuple[tuple[str, str], ...] = (
    ("ref", "#event+code"),
    ("date", "#date+reported"),
    ("status", "#status"),
    ("event_category", "#event+category"),
    ("event_name", "#event+name"),
    ("severity", "#severity"),
    ("adm1_name", "#adm1+name"),
    ("adm2_name", "#adm2+name"),
    ("loc_name", "#loc+name"),
    ("geo_lat", "#geo+lat"),
    ("geo_lon", "#geo+lon"),
    ("geo_precision", "#geo+precision"),
    ("affected_killed", "#affected+killed"),
    ("affected_injured", "#affected+injured"),
    ("affected_abducted", "#affected+abducted"),
    ("incident_id", "#event+incident+id"),
)
HXL = dict(COLUMNS)

# Centroids of territoires by (province, territoire) in lower case.
Centroids = Mapping[tuple[str, str], tuple[float, float]]


@dataclass(frozen=True)
class Precision:
    """How coarse shared places are: "territoire" (centroid) or "round" to `decimals`."""

    mode: str
    decimals: int
    centroids: Centroids


def _place(
    alert: Alert, precision: Precision
) -> tuple[str | None, float | None, float | None, str]:
    """(place name, lat, lon, precision label) as a partner gets them."""
    if alert.lat is None or alert.lon is None:
        return None, None, None, ""
    if precision.mode == "territoire" and alert.admin2:
        key = ((alert.admin1 or "").lower(), alert.admin2.lower())
        centroid = precision.centroids.get(key)
        if centroid is not None:
            return alert.admin2, centroid[0], centroid[1], "territoire"
    lat = round(alert.lat, precision.decimals)
    lon = round(alert.lon, precision.decimals)
    name = alert.admin2 if precision.mode == "territoire" else alert.place_name
    return name, lat, lon, f"{precision.decimals} decimals"


def record(alert: Alert, precision: Precision) -> dict[str, Any]:
    """What a partner gets of one alert, by the names of COLUMNS."""
    name, lat, lon, label = _place(alert, precision)
    return {
        "ref": alert.ref,
        "date": timestamp(alert.received_at),
        "status": alert.status,
        "event_category": alert.category,
        "event_name": event_name(alert.category),
        "severity": alert.severity,
        "adm1_name": alert.admin1,
        "adm2_name": alert.admin2,
        "loc_name": name,
        "geo_lat": lat,
        "geo_lon": lon,
        "geo_precision": label,
        "affected_killed": alert.killed,
        "affected_injured": alert.wounded,
        "affected_abducted": alert.abducted,
        "incident_id": alert.incident_id,
    }


def _cell(value: Any) -> str | int | float:
    if value is None:
        return ""
    if isinstance(value, str):
        return neutralise(value)
    result: int | float = value
    return result


def alerts_csv(alerts: Sequence[Alert], precision: Precision) -> str:
    """CSV with a BOM, a header row and the HXL hashtag row."""
    out = io.StringIO()
    out.write(BOM)
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([name for name, _ in COLUMNS])
    writer.writerow([tag for _, tag in COLUMNS])
    for alert in alerts:
        data = record(alert, precision)
        writer.writerow([_cell(data[name]) for name, _ in COLUMNS])
    return out.getvalue()


class SharedProperties(BaseModel):
    """What a partner's map gets of an alert (the keys of COLUMNS; hashtags in `hxl`)."""

    ref: str
    date: str
    status: str
    event_category: str
    event_name: str
    severity: str
    adm1_name: str | None
    adm2_name: str | None
    loc_name: str | None
    geo_lat: float | None
    geo_lon: float | None
    geo_precision: str
    affected_killed: int | None
    affected_injured: int | None
    affected_abducted: int | None
    incident_id: int | None


class SharedFeature(BaseModel):
    """One alert as a partner maps it; geometry is null when the alert has no place."""

    type: Literal["Feature"]
    geometry: Point | None
    properties: SharedProperties


class SharedFeatureCollection(BaseModel):
    """The partner form (`?shared=1`): `hxl` maps each property to its HXL hashtag."""

    type: Literal["FeatureCollection"]
    hxl: dict[str, str]
    features: list[SharedFeature]


def feature_collection(alerts: Sequence[Alert], precision: Precision) -> dict[str, Any]:
    """An RFC 7946 FeatureCollection; its `hxl` member maps properties to hashtags."""
    features = []
    for alert in alerts:
        data = record(alert, precision)
        geometry = None
        if data["geo_lat"] is not None and data["geo_lon"] is not None:
            geometry = {"type": "Point", "coordinates": [data["geo_lon"], data["geo_lat"]]}
        features.append({"type": "Feature", "geometry": geometry, "properties": data})
    return {"type": "FeatureCollection", "hxl": HXL, "features": features}
