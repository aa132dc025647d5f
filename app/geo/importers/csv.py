"""Places of a CSV file: our gazetteer layout, or any CSV with named columns (ACLED…)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from app.geo.importers.records import (
    ParsedPlaces,
    PlaceRecord,
    drop_duplicate_ids,
    id_problem,
    name_problem,
    parse_coordinates,
)
from app.kit.importing import CsvRow, Rejection, parse_csv, split_list

# Columns that only an ACLED export has: its places are recorded with source "acled".
_ACLED_MARKERS = ("event type", "actor 1", "fatalities")


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


def _csv_record(row: CsvRow, cols: Columns, present: set[str]) -> PlaceRecord:
    def cell(column: str | None) -> str | None:
        return row.get(column) if column is not None and column in present else None

    name = row.get(cols.name)
    problem = name_problem(name)
    if problem:
        raise ValueError(problem)
    lat, lon = parse_coordinates(row.get(cols.lat), row.get(cols.lon))
    place_id = cell(cols.id) or None
    if place_id and (problem := id_problem(place_id)):
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
    return drop_duplicate_ids(parsed)
