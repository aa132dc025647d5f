"""Places as read from a file, in any format, and the checks every format shares: names,
ids and coordinates. Pure: nothing here touches the database."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any, Literal

from app.kit.importing import Rejection
from app.kit.text import ascii_fold

Format = Literal["csv", "geonames", "geojson"]

ID_MAX = 64
NAME_MAX = 200
_SLUG_MAX = ID_MAX - 4  # room for a "-nnn" suffix


@dataclass
class PlaceRecord:
    """One place read from a file; None marks a field the file does not give."""

    line: int
    name: str
    lat: float
    lon: float
    id: str | None = None
    alt_names: list[str] | None = None
    admin1: str | None = None
    admin1_code: str | None = None
    admin2: str | None = None
    kind: str | None = None

    def values(self) -> dict[str, Any]:
        """The fields the file gives, as Place attributes (id excluded)."""
        given = {
            "name": self.name,
            "lat": self.lat,
            "lon": self.lon,
            "alt_names": self.alt_names,
            "admin1": self.admin1,
            "admin1_code": self.admin1_code,
            "admin2": self.admin2,
            "kind": self.kind,
        }
        # "" is a blank cell of a column the file has: the field is unknown, stored as NULL.
        return {key: (None if v == "" else v) for key, v in given.items() if v is not None}


@dataclass
class ParsedPlaces:
    """Everything read from one file, before it touches the database."""

    source: str
    records: list[PlaceRecord] = field(default_factory=list)
    rejected: list[Rejection] = field(default_factory=list)
    unit: str = "line"
    # The source the places are stored with when not the format's own (`--source`).
    recorded_as: str | None = None

    @property
    def stored_source(self) -> str:
        """The source the places of this file are stored with."""
        return self.recorded_as or self.source


def _number(text: str, what: str) -> float:
    cell = text.strip()
    if not cell:
        raise ValueError(f"bad coordinates: {what} is missing")
    if "," in cell and "." not in cell:
        cell = cell.replace(",", ".")  # decimal comma of French spreadsheets
    try:
        value = float(cell)
    except ValueError:
        raise ValueError(f"bad coordinates: {what} {text.strip()!r} is not a number") from None
    if not math.isfinite(value):
        raise ValueError(f"bad coordinates: {what} {text.strip()!r} is not a number")
    return value


def check_coordinates(lat: float, lon: float) -> tuple[float, float]:
    """The point itself, or ValueError when it cannot be a place on Earth worth keeping."""
    if abs(lat) > 90:
        raise ValueError(f"bad coordinates: latitude {lat} is beyond ±90")
    if abs(lon) > 180:
        raise ValueError(f"bad coordinates: longitude {lon} is beyond ±180")
    if lat == 0 and lon == 0:
        raise ValueError("bad coordinates: 0,0 (a blank position, not a place)")
    return lat, lon


def parse_coordinates(lat_text: str, lon_text: str) -> tuple[float, float]:
    """Latitude and longitude from two cells; ValueError with the reason otherwise."""
    return check_coordinates(_number(lat_text, "latitude"), _number(lon_text, "longitude"))


def slugify(name: str) -> str:
    """A stable id from a name: accents dropped, lower case, words joined by "-"."""
    ascii_name = ascii_fold(name)
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")
    return slug[:_SLUG_MAX].rstrip("-")


# Sources of large outside gazetteers: a name there never outranks the same name of our own,
# is matched exactly only, and only near the served area (app.geo.matcher.Gazetteer).
IMPORTED_SOURCES = frozenset({"geonames"})

SOURCE_MAX = 32
_SOURCE = re.compile(r"[a-z0-9][a-z0-9._-]*")


def source_problem(source: str) -> str | None:
    """Why `source` cannot name where places come from, or None."""
    if len(source) > SOURCE_MAX or not _SOURCE.fullmatch(source):
        return (
            f"source {source!r} must be 1 to {SOURCE_MAX} lower-case letters, digits, "
            f"'.', '_' or '-' (for example: geonames)"
        )
    return None


def name_problem(name: str) -> str | None:
    if not name:
        return "missing name"
    if len(name) > NAME_MAX:
        return f"name longer than {NAME_MAX} characters"
    return None


def id_problem(place_id: str) -> str | None:
    if len(place_id) > ID_MAX:
        return f"id longer than {ID_MAX} characters"
    return None


def drop_duplicate_ids(parsed: ParsedPlaces) -> ParsedPlaces:
    """`parsed` without the records whose id came earlier in the file (each one rejected)."""
    first: dict[str, int] = {}
    kept: list[PlaceRecord] = []
    for record in parsed.records:
        if record.id is None:
            kept.append(record)
        elif record.id in first:
            parsed.rejected.append(
                Rejection(
                    record.line,
                    f"duplicate id {record.id!r} (first on {parsed.unit} {first[record.id]})",
                    parsed.unit,
                )
            )
        else:
            first[record.id] = record.line
            kept.append(record)
    parsed.records = kept
    parsed.rejected.sort()
    return parsed
