"""The map of the day's alerts: the region (gazetteer places, lakes, borders) and the alerts
projected into a box, drawn by the HTML (SVG) and the PDF alike."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from app.reports.service import DailyReport

STATIC = Path(__file__).resolve().parents[1] / "web" / "static"
LAKE_FILL, LAKE_LINE = "#bcd5ea", "#8fb3d6"
# Lines under the alerts, as on the operations page: colour, width (px), dashes.
LINES = {"border": ("#7a7f87", 1.2, "6 3 2 3"), "province": ("#a58fae", 1.0, "")}
SEVERITY_COLOURS = {"critical": "#c0392b", "high": "#e67e22", "medium": "#b7950b", "low": "#5d7ea6"}


@dataclass(frozen=True)
class MapPoint:
    """An alert on the map: where, its number in the day's list, its severity."""

    x: float
    y: float
    number: int
    severity: str


@dataclass(frozen=True)
class MapLayout:
    """The map drawn in a width x height box: gazetteer places and the day's alerts."""

    width: float
    height: float
    places: list[tuple[float, float]]
    points: list[MapPoint]
    lakes: list[list[tuple[float, float]]]
    lines: list[tuple[str, list[tuple[float, float]]]]  # (kind of LINES, points)


@lru_cache(maxsize=1)
def _landmarks() -> dict[str, Any]:
    """The landmarks the operations page draws too (landmarks.json)."""
    data: dict[str, Any] = json.loads((STATIC / "landmarks.json").read_text(encoding="utf-8"))
    return data


def _lakes() -> list[list[tuple[float, float]]]:
    """Rings (lon, lat) of the lakes."""
    return [[(float(x), float(y)) for x, y in lake["ring"]] for lake in _landmarks()["lakes"]]


def _lines() -> list[tuple[str, list[tuple[float, float]]]]:
    """National borders and province lines, (kind, [(lon, lat), ...])."""
    data = _landmarks()
    return [("border", [(float(x), float(y)) for x, y in b]) for b in data["borders"]] + [
        ("province", [(float(x), float(y)) for x, y in line])
        for line in data.get("provinces", {}).get("lines", [])
    ]


def _spread(values: list[float]) -> tuple[float, float]:
    # A few far-away gazetteer entries must not shrink the region to a corner.
    ordered = sorted(values)
    if len(ordered) >= 20:
        return ordered[len(ordered) // 50], ordered[-1 - len(ordered) // 50]
    return ordered[0], ordered[-1]


def layout(report: DailyReport, width: float, max_height: float) -> MapLayout | None:
    """Equirectangular projection of the region (places and alerts) into the box."""
    located = [
        (i, a)
        for i, a in enumerate(report.alerts, start=1)
        if a.lat is not None and a.lon is not None
    ]
    if not located:
        return None
    lats = [a.lat for _, a in located if a.lat is not None]
    lons = [a.lon for _, a in located if a.lon is not None]
    if report.places:
        lat0, lat1 = _spread([p[0] for p in report.places])
        lon0, lon1 = _spread([p[1] for p in report.places])
        lats += [lat0, lat1]
        lons += [lon0, lon1]
    south, north = min(lats) - 0.2, max(lats) + 0.2
    west, east = min(lons) - 0.2, max(lons) + 0.2
    squeeze = math.cos(math.radians((south + north) / 2))
    span_x, span_y = (east - west) * squeeze, north - south
    scale = min(width / span_x, max_height / span_y)
    height = span_y * scale

    def xy(lat: float, lon: float) -> tuple[float, float]:
        return (lon - west) * squeeze * scale, (north - lat) * scale

    places = [
        xy(lat, lon) for lat, lon in report.places if south <= lat <= north and west <= lon <= east
    ]
    lakes = [
        [xy(lat, lon) for lon, lat in ring]
        for ring in _lakes()
        if any(south <= lat <= north and west <= lon <= east for lon, lat in ring)
    ]
    lines = [
        (kind, [xy(lat, lon) for lon, lat in line])
        for kind, line in _lines()
        if any(south <= lat <= north and west <= lon <= east for lon, lat in line)
    ]
    points = [
        MapPoint(*xy(a.lat, a.lon), number=i, severity=a.severity)
        for i, a in located
        if a.lat is not None and a.lon is not None
    ]
    return MapLayout(
        width=span_x * scale, height=height, places=places, points=points, lakes=lakes, lines=lines
    )
