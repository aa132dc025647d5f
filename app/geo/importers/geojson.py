"""Places of a GeoJSON FeatureCollection of Points."""

from __future__ import annotations

import json
import math
from collections.abc import Sequence

from app.geo.importers.records import (
    ParsedPlaces,
    PlaceRecord,
    check_coordinates,
    drop_duplicate_ids,
    id_problem,
    name_problem,
)
from app.kit.importing import Rejection, UnreadableFile, split_list


def _text(value: object, what: str) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise ValueError(f"{what} is not a text")
    return str(value).strip()


def _geojson_record(index: int, feature: object) -> PlaceRecord:
    if not isinstance(feature, dict) or feature.get("type") != "Feature":
        raise ValueError("not a GeoJSON Feature")
    geometry = feature.get("geometry")
    if not isinstance(geometry, dict) or geometry.get("type") != "Point":
        kind = geometry.get("type") if isinstance(geometry, dict) else None
        raise ValueError(f"geometry is not a Point ({kind or 'none'})")
    coords = geometry.get("coordinates")
    if (
        not isinstance(coords, list)
        or len(coords) < 2
        or not all(isinstance(c, int | float) and not isinstance(c, bool) for c in coords[:2])
    ):
        raise ValueError("bad coordinates: not a [longitude, latitude] pair of numbers")
    if not all(math.isfinite(c) for c in coords[:2]):
        raise ValueError("bad coordinates: not numbers")
    lat, lon = check_coordinates(float(coords[1]), float(coords[0]))
    props = feature.get("properties") or {}
    if not isinstance(props, dict):
        raise ValueError("properties is not an object")
    name = _text(props.get("name"), "name") or ""
    problem = name_problem(name)
    if problem:
        raise ValueError(problem)
    place_id = _text(props.get("id", feature.get("id")), "id") or None
    if place_id and (problem := id_problem(place_id)):
        raise ValueError(problem)
    raw_alt = props.get("alt_names")
    alt_names: list[str] | None
    if raw_alt is None:
        alt_names = None
    elif isinstance(raw_alt, list):
        # Each item is one name (it may hold a "|"); nulls and repeats are dropped.
        alt_names = list(dict.fromkeys(t for n in raw_alt if (t := _text(n, "alt_names"))))
    else:
        alt_names = split_list(_text(raw_alt, "alt_names") or "")
    optional = {
        key: _text(props[key], key) or ""
        for key in ("admin1", "admin1_code", "admin2", "kind")
        if key in props
    }
    return PlaceRecord(
        line=index,
        name=name,
        lat=lat,
        lon=lon,
        id=place_id,
        alt_names=None if alt_names is None else [n for n in alt_names if n != name],
        admin1=optional.get("admin1"),
        admin1_code=optional.get("admin1_code"),
        admin2=optional.get("admin2"),
        kind=optional.get("kind"),
    )


def parse_geojson(lines: Sequence[str]) -> ParsedPlaces:
    """Places of a GeoJSON FeatureCollection of Points (rejections count features from 1)."""
    try:
        document = json.loads("".join(lines))
    except json.JSONDecodeError as exc:
        raise UnreadableFile(f"invalid JSON: {exc}") from exc
    if not isinstance(document, dict) or document.get("type") != "FeatureCollection":
        raise UnreadableFile("not a GeoJSON FeatureCollection")
    features = document.get("features")
    if not isinstance(features, list):
        raise UnreadableFile("the FeatureCollection has no list of features")
    parsed = ParsedPlaces("geojson", unit="feature")
    for index, feature in enumerate(features, start=1):
        try:
            parsed.records.append(_geojson_record(index, feature))
        except ValueError as exc:
            parsed.rejected.append(Rejection(index, str(exc), "feature"))
    return drop_duplicate_ids(parsed)
