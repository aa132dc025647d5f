"""Gazetteer import: places from our CSV, any CSV with named columns (ACLED…), GeoNames dumps
and GeoJSON points. Parsing is pure (file → records with line numbers, rejections); applying
upserts the records by id through the repository."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from app.geo import repository
from app.geo.distance import haversine_km
from app.geo.models import Place
from app.kit.importing import (
    CsvRow,
    ImportReport,
    Progress,
    Rejection,
    UnreadableFile,
    assign_changed,
    batches,
    parse_csv,
    read_with,
    split_list,
)
from app.kit.text import ascii_fold

Format = Literal["csv", "geonames", "geojson"]

# Rows of one name closer than this are the same place written twice; farther, namesakes.
MERGE_RADIUS_KM = 5.0
ID_MAX = 64
NAME_MAX = 200
_SLUG_MAX = ID_MAX - 4  # room for a "-nnn" suffix
GEONAMES_FIELDS = 19
# Columns that only an ACLED export has: its places are recorded with source "acled".
_ACLED_MARKERS = ("event type", "actor 1", "fatalities")
# GeoNames feature codes of populated places, read as the `kind` of our gazetteer.
_GEONAMES_KINDS = {
    "PPLC": "city",
    "PPLA": "city",
    "PPLA2": "town",
    "PPLA3": "town",
    "PPLA4": "village",
    "PPL": "village",
    "PPLL": "village",
    "PPLX": "neighbourhood",
}


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


@dataclass(frozen=True)
class Columns:
    """Which CSV column holds which field (None: the file has no such column)."""

    name: str = "name"
    lat: str = "lat"
    lon: str = "lon"
    id: str | None = "id"
    alt_names: str | None = "alt_names"
    admin1: str | None = "admin1"
    admin1_code: str | None = "admin1_code"
    admin2: str | None = "admin2"
    kind: str | None = "kind"


STANDARD_COLUMNS = Columns()


def named_columns(
    name: str | None = None,
    lat: str | None = None,
    lon: str | None = None,
    id: str | None = None,
    admin1: str | None = None,
    admin2: str | None = None,
) -> Columns:
    """Columns named on the command line; fields not named are not read."""
    return Columns(
        name=name or "name",
        lat=lat or "lat",
        lon=lon or "lon",
        id=id,
        alt_names=None,
        admin1=admin1,
        admin1_code=None,
        admin2=admin2,
        kind=None,
    )


# --- cells ------------------------------------------------------------------------------


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


def _name_problem(name: str) -> str | None:
    if not name:
        return "missing name"
    if len(name) > NAME_MAX:
        return f"name longer than {NAME_MAX} characters"
    return None


def _id_problem(place_id: str) -> str | None:
    if len(place_id) > ID_MAX:
        return f"id longer than {ID_MAX} characters"
    return None


# --- parsers ----------------------------------------------------------------------------


def _csv_record(row: CsvRow, cols: Columns, present: set[str]) -> PlaceRecord:
    def cell(column: str | None) -> str | None:
        return row.get(column) if column is not None and column in present else None

    name = row.get(cols.name)
    problem = _name_problem(name)
    if problem:
        raise ValueError(problem)
    lat, lon = parse_coordinates(row.get(cols.lat), row.get(cols.lon))
    place_id = cell(cols.id) or None
    if place_id and (problem := _id_problem(place_id)):
        raise ValueError(problem)
    alt = cell(cols.alt_names)
    return PlaceRecord(
        line=row.line,
        name=name,
        lat=lat,
        lon=lon,
        id=place_id,
        alt_names=None if alt is None else [n for n in split_list(alt) if n != name],
        admin1=cell(cols.admin1),
        admin1_code=cell(cols.admin1_code),
        admin2=cell(cols.admin2),
        kind=cell(cols.kind),
    )


def _drop_duplicate_ids(parsed: ParsedPlaces) -> ParsedPlaces:
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


def parse_places_csv(lines: Sequence[str], columns: Columns | None = None) -> ParsedPlaces:
    """Places of a CSV file: our gazetteer layout, or the columns named in `columns`."""
    table = parse_csv(lines)
    named = columns is not None
    cols = columns or STANDARD_COLUMNS
    required = [cols.name, cols.lat, cols.lon]
    optional = [cols.id, cols.alt_names, cols.admin1, cols.admin1_code, cols.admin2, cols.kind]
    if named:
        required += [col for col in optional if col is not None]
    found = table.require(*required)
    mapping = dict(zip(required, found, strict=True))
    for col in optional:
        if col is not None and col not in mapping and (header := table.column(col)):
            mapping[col] = header
    # An area's level ("territoire", "secteur", ...) may come in a `level` column instead.
    if cols.kind == "kind" and "kind" not in mapping and (header := table.column("level")):
        mapping["kind"] = header
    resolved = Columns(
        name=mapping[cols.name],
        lat=mapping[cols.lat],
        lon=mapping[cols.lon],
        **{
            key: mapping.get(col) if col is not None else None
            for key, col in (
                ("id", cols.id),
                ("alt_names", cols.alt_names),
                ("admin1", cols.admin1),
                ("admin1_code", cols.admin1_code),
                ("admin2", cols.admin2),
                ("kind", cols.kind),
            )
        },
    )
    headers = {name.casefold() for name in table.columns}
    if not named:
        source = "csv"
    elif all(marker in headers for marker in _ACLED_MARKERS):
        source = "acled"
    else:
        source = "csv-columns"
    parsed = ParsedPlaces(source)
    present = set(table.columns)
    for row in table.rows:
        try:
            parsed.records.append(_csv_record(row, resolved, present))
        except ValueError as exc:
            parsed.rejected.append(Rejection(row.line, str(exc)))
    return _drop_duplicate_ids(parsed)


def _geonames_record(line_no: int, fields: list[str]) -> PlaceRecord:
    if len(fields) != GEONAMES_FIELDS:
        raise ValueError(f"expected {GEONAMES_FIELDS} tab-separated fields, found {len(fields)}")
    geonameid, name, asciiname, alternates = (f.strip() for f in fields[:4])
    if not geonameid.isdigit():
        raise ValueError(f"geonameid {geonameid!r} is not a number")
    problem = _name_problem(name)
    if problem:
        raise ValueError(problem)
    lat, lon = parse_coordinates(fields[4], fields[5])
    feature_class, feature_code = fields[6].strip(), fields[7].strip()
    country, admin1 = fields[8].strip(), fields[10].strip()
    alt_names = [n for n in split_list(f"{asciiname},{alternates}", ",") if n != name]
    kind = _GEONAMES_KINDS.get(feature_code) or (feature_code.lower() or feature_class.lower())
    return PlaceRecord(
        line=line_no,
        name=name,
        lat=lat,
        lon=lon,
        id=f"gn-{geonameid}",
        alt_names=alt_names,
        # GeoNames gives codes, not names: admin1/admin2 names are left as they are.
        admin1_code=f"{country}.{admin1}"[:16] if country and admin1 else None,
        kind=kind or None,
    )


def parse_geonames(lines: Sequence[str]) -> ParsedPlaces:
    """Places of a GeoNames dump (19 tab-separated columns, no header), ids "gn-<geonameid>"."""
    parsed = ParsedPlaces("geonames")
    plausible = 0
    for line_no, line in enumerate(lines, start=1):
        text = line.rstrip("\r\n")
        if not text.strip() or text.startswith("#"):
            continue
        fields = text.split("\t")
        plausible += len(fields) >= 15
        try:
            parsed.records.append(_geonames_record(line_no, fields))
        except ValueError as exc:
            parsed.rejected.append(Rejection(line_no, str(exc)))
    if not plausible:
        raise UnreadableFile("not a GeoNames dump: no line has the 19 tab-separated columns")
    return _drop_duplicate_ids(parsed)


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
    problem = _name_problem(name)
    if problem:
        raise ValueError(problem)
    place_id = _text(props.get("id", feature.get("id")), "id") or None
    if place_id and (problem := _id_problem(place_id)):
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
    return _drop_duplicate_ids(parsed)


def detect_format(path: Path, lines: Sequence[str]) -> Format:
    """The format of a places file, from its extension, else from its first line."""
    suffix = path.suffix.lower()
    if suffix in (".geojson", ".json"):
        return "geojson"
    first = next((line for line in lines if line.strip()), "")
    if first.lstrip().startswith("{"):
        return "geojson"
    fields = first.split("\t")
    if len(fields) >= 15 and fields[0].strip().isdigit():
        return "geonames"
    return "csv"


def read_places(
    path: Path, fmt: Format | None = None, columns: Columns | None = None
) -> ParsedPlaces:
    """Parse a places file of any supported format; UnreadableFile when it cannot be read."""

    def parse(lines: list[str]) -> ParsedPlaces:
        detected = fmt or detect_format(path, lines)
        if detected == "geonames":
            return parse_geonames(lines)
        if detected == "geojson":
            return parse_geojson(lines)
        return parse_places_csv(lines, columns)

    return read_with(path, parse)


# --- applying ---------------------------------------------------------------------------


@dataclass
class _Planned:
    """One place to write: its id, its records (several when repeats were merged)."""

    id: str
    records: list[PlaceRecord]
    # The id was derived from the name (no id column): a weaker claim to the stored place.
    derived: bool = False

    @property
    def first(self) -> PlaceRecord:
        return self.records[0]


def cluster_by_name(records: Sequence[PlaceRecord]) -> dict[str, list[list[PlaceRecord]]]:
    """Records without an id grouped by name slug, then into clusters of nearby points."""
    groups: dict[str, list[list[PlaceRecord]]] = {}
    for record in records:
        clusters = groups.setdefault(slugify(record.name), [])
        for cluster in clusters:
            head = cluster[0]
            if haversine_km(head.lat, head.lon, record.lat, record.lon) <= MERGE_RADIUS_KM:
                cluster.append(record)
                break
        else:
            clusters.append([record])
    return groups


async def _plan(
    session: AsyncSession, parsed: ParsedPlaces, report: ImportReport
) -> list[_Planned]:
    planned = [_Planned(r.id, [r]) for r in parsed.records if r.id is not None]
    used = {p.id for p in planned}
    unnamed = [r for r in parsed.records if r.id is None]
    groups = cluster_by_name([r for r in unnamed if slugify(r.name)])
    for record in unnamed:
        if not slugify(record.name):
            report.rejected.append(
                Rejection(
                    record.line, "name has no letters or digits to make an id of", parsed.unit
                )
            )
    candidates = [
        slug if n == 1 else f"{slug}-{n}"
        for slug, clusters in groups.items()
        for n in range(1, len(clusters) + 2)
    ]
    known = await repository.places_by_ids(session, candidates)
    fetched = set(candidates)
    for slug, clusters in groups.items():
        n = 0
        ids: list[str] = []
        for cluster in clusters:
            head = cluster[0]
            while True:
                n += 1
                candidate = slug if n == 1 else f"{slug}-{n}"
                if candidate in used:
                    continue
                # Ids past the ones looked up at once (many far-apart namesakes) are read here.
                if candidate not in fetched:
                    fetched.add(candidate)
                    if found := await repository.get(session, candidate):
                        known[candidate] = found
                stored = known.get(candidate)
                # A stored namesake far away is another place: take the next free id.
                if stored is None or (
                    haversine_km(stored.lat, stored.lon, head.lat, head.lon) <= MERGE_RADIUS_KM
                ):
                    break
            used.add(candidate)
            ids.append(candidate)
            planned.append(_Planned(candidate, cluster, derived=True))
            if len(cluster) > 1:
                lines = ", ".join(str(r.line) for r in cluster)
                report.merged.append(
                    f"{head.name}: {len(cluster)} rows merged into {candidate} "
                    f"({parsed.unit}s {lines})"
                )
        if len(clusters) > 1:
            kept = ", ".join(
                f"{pid} ({parsed.unit} {c[0].line}: {c[0].lat:g},{c[0].lon:g})"
                for pid, c in zip(ids, clusters, strict=True)
            )
            report.distinct.append(f"{clusters[0][0].name}: {len(clusters)} distinct places {kept}")
    return planned


def _planned_values(item: _Planned, stored: Place | None) -> dict[str, Any]:
    values = item.first.values()
    variants = {r.name for r in item.records[1:]} - {item.first.name}
    if variants:
        base = values.get("alt_names", stored.alt_names if stored else [])
        values["alt_names"] = list(dict.fromkeys([*base, *sorted(variants)]))
    return values


# A place this far from the middle of the gazetteer is most likely a mistake (latitude and
# longitude swapped, a sign lost): the whole DR Congo fits within about 1,100 km of its centre.
FAR_OUTSIDE_KM = 1500.0


def _median(values: list[float]) -> float:
    ordered = sorted(values)
    middle = len(ordered) // 2
    if len(ordered) % 2:
        return ordered[middle]
    return (ordered[middle - 1] + ordered[middle]) / 2


def far_outside(
    records: Sequence[PlaceRecord], gazetteer: list[tuple[float, float]], unit: str = "line"
) -> list[str]:
    """A warning for each record far from the middle of the gazetteer (records included)."""
    if len(gazetteer) < 3:
        return []
    lat = _median([p[0] for p in gazetteer])
    lon = _median([p[1] for p in gazetteer])
    warnings = []
    for record in records:
        km = haversine_km(lat, lon, record.lat, record.lon)
        if km > FAR_OUTSIDE_KM:
            warnings.append(
                f"{unit} {record.line}: {record.name} ({record.lat}, {record.lon}) is "
                f"{km:,.0f} km from the middle of the gazetteer: latitude and longitude swapped?"
            )
    return warnings


async def apply_places(
    session: AsyncSession, parsed: ParsedPlaces, progress: Progress | None = None
) -> ImportReport:
    """Upsert the parsed places by id (flush only: the caller's unit of work commits)."""
    report = ImportReport("places", parsed.source, rejected=list(parsed.rejected))
    planned = await _plan(session, parsed, report)
    if progress is not None:
        progress(len(parsed.records) - sum(len(item.records) for item in planned))
    kept_apart: list[str] = []
    written_rows, analyzed_at = 0, 1000
    for chunk in batches(len(planned)):
        items = [planned[i] for i in chunk]
        stored = await repository.places_by_ids(session, (item.id for item in items))
        new: list[Place] = []
        for item in items:
            place = stored.get(item.id)
            values = _planned_values(item, place)
            if place is None:
                values.setdefault("alt_names", [])
                new.append(Place(id=item.id, source=parsed.source, **values))
                report.record("created", item.id)
            elif item.derived and place.source != parsed.source:
                # Matched by name and distance only: a place another source made is kept as is.
                kept_apart.append(item.id)
                report.record("unchanged", item.id)
            elif assign_changed(place, values):
                # The source follows the data: it names the file that last changed the place.
                place.source = parsed.source
                report.record("updated", item.id)
            else:
                report.record("unchanged", item.id)
        await repository.add_places(session, new)
        # Written: the session need not track them any more (a large import would otherwise
        # make every flush walk all the places so far).
        for place in [*new, *stored.values()]:
            session.expunge(place)
        written_rows += len(items)
        if (
            written_rows >= analyzed_at * 2
            and (await session.connection()).dialect.name == "postgresql"
        ):
            # The planner's figures for the table, which grows in this transaction: without
            # them the next batches' lookups by id scan the whole table.
            await session.execute(text("ANALYZE places"))
            analyzed_at = written_rows
        if progress is not None:
            progress(sum(len(item.records) for item in items))
    if kept_apart:
        report.notes.append(
            f"{len(kept_apart)} place(s) matched by name and distance were already in the "
            f"gazetteer from another source and were left as they are"
        )
    written = [item.first for item in planned if item.id not in kept_apart]
    report.warnings = far_outside(written, await repository.coordinates(session), parsed.unit)
    report.rejected.sort()
    return report


async def import_places(
    session: AsyncSession,
    path: Path,
    fmt: Format | None = None,
    columns: Columns | None = None,
    progress: Progress | None = None,
) -> ImportReport:
    """Read and upsert a places file; UnreadableFile (nothing written) when it cannot be read."""
    return await apply_places(session, read_places(path, fmt, columns), progress)
