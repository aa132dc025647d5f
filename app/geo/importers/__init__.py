"""Gazetteer import: places from our CSV, any CSV with named columns (ACLED…), GeoNames dumps
and GeoJSON points, one module a format. Parsing is pure (file → records with line numbers,
rejections); applying (apply.py) upserts the records by id through the repository."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession

from app.geo.importers.apply import apply_places
from app.geo.importers.csv import Columns, parse_places_csv
from app.geo.importers.geojson import parse_geojson
from app.geo.importers.geonames import parse_geonames
from app.geo.importers.records import Format, ParsedPlaces, source_problem
from app.kit.importing import ImportReport, Progress, UnreadableFile, read_with


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
    path: Path,
    fmt: Format | None = None,
    columns: Columns | None = None,
    source: str | None = None,
) -> ParsedPlaces:
    """Parse a places file of any supported format; UnreadableFile when it cannot be read.

    `source` records the places under that source instead of the format's own: "geonames"
    marks an outside gazetteer, whatever its format (IMPORTED_SOURCES in records.py)."""
    if source is not None and (problem := source_problem(source)):
        raise UnreadableFile(problem)

    def parse(lines: list[str]) -> ParsedPlaces:
        detected = fmt or detect_format(path, lines)
        if detected == "geonames":
            return parse_geonames(lines)
        if detected == "geojson":
            return parse_geojson(lines)
        return parse_places_csv(lines, columns)

    parsed = read_with(path, parse)
    parsed.recorded_as = source
    return parsed


async def import_places(
    session: AsyncSession,
    path: Path,
    fmt: Format | None = None,
    columns: Columns | None = None,
    progress: Progress | None = None,
    source: str | None = None,
) -> ImportReport:
    """Read and upsert a places file; UnreadableFile (nothing written) when it cannot be read."""
    return await apply_places(session, read_places(path, fmt, columns, source), progress)
