"""Writing parsed places: repeats merged, ids derived from names where the file has none,
upserts by id through the repository (flush only: the caller's unit of work commits)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from app.geo import repository
from app.geo.distance import haversine_km
from app.geo.importers.records import IMPORTED_SOURCES, ParsedPlaces, PlaceRecord, slugify
from app.geo.models import Place
from app.kit.importing import ImportReport, Progress, Rejection, assign_changed, batches

# Rows of one name closer than this are the same place written twice; farther, namesakes.
MERGE_RADIUS_KM = 5.0


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


# A file of this many places is more likely an outside gazetteer than one's own.
LARGE_OWN_GAZETTEER = 20_000

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
    source = parsed.stored_source
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
                new.append(Place(id=item.id, source=source, **values))
                report.record("created", item.id)
            elif item.derived and place.source != source:
                # Matched by name and distance only: a place another source made is kept as is.
                kept_apart.append(item.id)
                report.record("unchanged", item.id)
            elif assign_changed(place, values):
                # The source follows the data: it names the file that last changed the place.
                place.source = source
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
    if source not in IMPORTED_SOURCES and len(planned) >= LARGE_OWN_GAZETTEER:
        report.notes.append(
            f"{len(planned):,} places recorded as your own gazetteer (matched with typos, "
            f"anywhere); if the file is an outside gazetteer (GeoNames cities...), import it "
            f"with --source geonames: exact names near the served area only, and far less "
            f"memory in every serving process"
        )
    if parsed.recorded_as is not None:
        outside = (
            ": an outside gazetteer, its places matched by their exact names only, near the "
            "served area, and outranked by a place of your own of the same name"
            if source in IMPORTED_SOURCES
            else ""
        )
        report.notes.append(f"places recorded with source {source!r}{outside}")
    if kept_apart:
        report.notes.append(
            f"{len(kept_apart)} place(s) matched by name and distance were already in the "
            f"gazetteer from another source and were left as they are"
        )
    if source not in IMPORTED_SOURCES:
        # An outside gazetteer covers the world, or a country: far is where its places are.
        written = [item.first for item in planned if item.id not in kept_apart]
        report.warnings = far_outside(written, await repository.coordinates(session), parsed.unit)
    report.rejected.sort()
    return report
