"""Places of a GeoNames dump: 19 tab-separated columns, no header."""

from __future__ import annotations

from collections.abc import Sequence

from app.geo.importers.records import (
    ParsedPlaces,
    PlaceRecord,
    drop_duplicate_ids,
    name_problem,
    parse_coordinates,
)
from app.kit.importing import Rejection, UnreadableFile, split_list

GEONAMES_FIELDS = 19
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


def _geonames_record(line_no: int, fields: list[str]) -> PlaceRecord:
    if len(fields) != GEONAMES_FIELDS:
        raise ValueError(f"expected {GEONAMES_FIELDS} tab-separated fields, found {len(fields)}")
    geonameid, name, asciiname, alternates = (f.strip() for f in fields[:4])
    if not geonameid.isdigit():
        raise ValueError(f"geonameid {geonameid!r} is not a number")
    problem = name_problem(name)
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
    return drop_duplicate_ids(parsed)
