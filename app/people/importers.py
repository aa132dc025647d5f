"""Import of focal points (reporters.csv) and liaisons (liaisons.csv), keyed by E.164 phone.

A blank cell or an absent optional column leaves the stored value as it is (a new row gets the
default): re-importing a roster must not undo an opt-out or a duty change made by SMS."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from app.geo import service as places
from app.kit.importing import (
    CsvRow,
    CsvTable,
    ImportReport,
    Progress,
    Rejection,
    assign_changed,
    batches,
    parse_bool,
    parse_csv,
    read_with,
    split_list,
)
from app.kit.phones import InvalidPhone, mask, to_e164
from app.people import repository
from app.people.models import LANGUAGES, REPORTER_ROLES, Liaison, Reporter

TIERS = ("liaison", "joc")
UNREGISTERED = "unregistered"
NAME_MAX = 200

Person = TypeVar("Person", Reporter, Liaison)


@dataclass
class PersonRecord:
    """One person read from a file: the E.164 phone and the fields the file gives."""

    line: int
    phone: str
    values: dict[str, Any]


@dataclass
class ParsedPeople:
    """Everything read from a roster file, before it touches the database."""

    kind: str
    records: list[PersonRecord] = field(default_factory=list)
    rejected: list[Rejection] = field(default_factory=list)


# --- cells ------------------------------------------------------------------------------


def _choice(row: CsvRow, column: str, allowed: Sequence[str], what: str) -> str | None:
    cell = row.get(column).lower()
    if not cell:
        return None
    if cell not in allowed:
        raise ValueError(f"unknown {what} {cell!r} (expected {', '.join(allowed)})")
    return cell


def _flags(row: CsvRow, columns: Sequence[str]) -> dict[str, bool]:
    flags: dict[str, bool] = {}
    for column in columns:
        cell = row.get(column)
        if cell:
            try:
                flags[column] = parse_bool(cell)
            except ValueError as exc:
                raise ValueError(f"{column}: {exc}") from None
    return flags


def _phone_and_name(row: CsvRow, region: str) -> tuple[str, dict[str, Any]]:
    try:
        phone = to_e164(row.get("phone"), region)
    except InvalidPhone as exc:
        raise ValueError(f"invalid phone ({exc})") from None  # the message is masked
    name = row.get("name")
    if not name:
        raise ValueError("missing name")
    if len(name) > NAME_MAX:
        raise ValueError(f"name longer than {NAME_MAX} characters")
    values: dict[str, Any] = {"name": name}
    if language := _choice(row, "language", LANGUAGES, "language"):
        values["language"] = language
    return phone, values


def _reporter_values(row: CsvRow) -> dict[str, Any]:
    values: dict[str, Any] = {}
    if home := row.get("home_place_id"):
        values["home_place_id"] = home
    if role := re.sub(r"[\s-]+", "_", row.get("role").lower()):
        if role == UNREGISTERED:
            raise ValueError("role 'unregistered' cannot be imported (it marks unknown senders)")
        if role not in REPORTER_ROLES:
            raise ValueError(f"unknown role {role!r} (expected {', '.join(REPORTER_ROLES)})")
        values["role"] = role
    values.update(_flags(row, ("verified", "active", "opted_out")))
    return values


def _liaison_values(row: CsvRow) -> dict[str, Any]:
    values: dict[str, Any] = {}
    if zones := split_list(row.get("zones")):
        values["zones"] = zones
    if tier := _choice(row, "tier", TIERS, "tier"):
        values["tier"] = tier
    values.update(_flags(row, ("on_duty", "active")))
    return values


# --- parsing ----------------------------------------------------------------------------


def _parse(
    table: CsvTable,
    kind: str,
    region: str,
    required: Sequence[str],
    specific: Callable[[CsvRow], dict[str, Any]],
) -> ParsedPeople:
    table.require(*required)
    # Cells are looked up by canonical name whatever the case of the header.
    canonical = {col: col.strip().lower() for col in table.columns}
    parsed = ParsedPeople(kind)
    first: dict[str, int] = {}
    for raw in table.rows:
        row = CsvRow(raw.line, {canonical[k]: v for k, v in raw.cells.items() if k in canonical})
        try:
            phone, values = _phone_and_name(row, region)
            values.update(specific(row))
        except ValueError as exc:
            parsed.rejected.append(Rejection(row.line, str(exc)))
            continue
        if phone in first:
            reason = f"duplicate phone {mask(phone)} (first on line {first[phone]})"
            parsed.rejected.append(Rejection(row.line, reason))
            continue
        first[phone] = row.line
        parsed.records.append(PersonRecord(row.line, phone, values))
    return parsed


def parse_reporters(lines: Sequence[str], region: str = "CD") -> ParsedPeople:
    """Focal points of a reporters.csv: phone,name,home_place_id,language,role[,flags]."""
    return _parse(
        parse_csv(lines), "reporters", region, ("phone", "name", "home_place_id"), _reporter_values
    )


def parse_liaisons(lines: Sequence[str], region: str = "CD") -> ParsedPeople:
    """Liaisons of a liaisons.csv: phone,name,zones,tier,language[,on_duty,active]."""
    return _parse(parse_csv(lines), "liaisons", region, ("phone", "name", "zones"), _liaison_values)


def _read(
    path: Path, parser: Callable[[Sequence[str], str], ParsedPeople], region: str
) -> ParsedPeople:
    return read_with(path, lambda lines: parser(lines, region))


def read_reporters(path: Path, region: str = "CD") -> ParsedPeople:
    """Parse a reporters file; UnreadableFile when it cannot be read."""
    return _read(path, parse_reporters, region)


def read_liaisons(path: Path, region: str = "CD") -> ParsedPeople:
    """Parse a liaisons file; UnreadableFile when it cannot be read."""
    return _read(path, parse_liaisons, region)


# --- applying ---------------------------------------------------------------------------


async def _apply(
    session: AsyncSession,
    records: Sequence[PersonRecord],
    lookup: Callable[[AsyncSession, list[str]], Awaitable[Mapping[str, Person]]],
    create: Callable[[PersonRecord], Person],
    before_update: Callable[[Person, dict[str, Any]], None],
    report: ImportReport,
    progress: Progress | None,
) -> ImportReport:
    for chunk in batches(len(records)):
        items = [records[i] for i in chunk]
        stored = await lookup(session, [item.phone for item in items])
        new: list[Reporter | Liaison] = []
        for item in items:
            person = stored.get(item.phone)
            if person is None:
                new.append(create(item))
                report.record("created", item.phone)
                continue
            values = dict(item.values)
            before_update(person, values)
            outcome = "updated" if assign_changed(person, values) else "unchanged"
            report.record(outcome, item.phone)
        await repository.add_people(session, new)
        if progress is not None:
            progress(len(items))
    report.rejected.sort()
    return report


def _new_reporter(item: PersonRecord) -> Reporter:
    defaults = {"language": "fr", "role": "focal_point", "verified": True, "active": True}
    return Reporter(phone=item.phone, **{"opted_out": False, **defaults, **item.values})


def _register(reporter: Reporter, values: dict[str, Any]) -> None:
    # A number first seen as an unknown sender becomes a registered, vouched-for focal point.
    if reporter.role == UNREGISTERED:
        values.setdefault("role", "focal_point")
        values.setdefault("verified", True)


def _new_liaison(item: PersonRecord) -> Liaison:
    defaults = {"zones": [], "tier": "liaison", "language": "fr", "on_duty": True, "active": True}
    return Liaison(phone=item.phone, **{**defaults, **item.values})


def _no_change(_: Liaison, __: dict[str, Any]) -> None:
    return None


def canonical_zones(names: Mapping[str, str], zones: Sequence[str]) -> tuple[list[str], list[str]]:
    """(zones as the gazetteer spells them, zones it does not know) given its admin names.

    A misspelt zone would silently page nobody: it is refused, not stored.
    """
    known = [names[zone.lower()] for zone in zones if zone.lower() in names]
    unknown = [zone for zone in zones if zone.lower() not in names]
    return list(dict.fromkeys(known)), unknown


async def apply_reporters(
    session: AsyncSession, parsed: ParsedPeople, progress: Progress | None = None
) -> ImportReport:
    """Upsert the parsed reporters by phone; a home place must already be in the gazetteer."""
    report = ImportReport("reporters", "csv", rejected=list(parsed.rejected))
    homes = {r.values["home_place_id"] for r in parsed.records if "home_place_id" in r.values}
    known = await places.existing_ids(session, homes)
    kept: list[PersonRecord] = []
    for record in parsed.records:
        home = record.values.get("home_place_id")
        if home is not None and home not in known:
            report.rejected.append(Rejection(record.line, f"unknown home place {home!r}"))
            if progress is not None:
                progress(1)
        else:
            kept.append(record)
    return await _apply(
        session,
        kept,
        repository.reporters_by_phones,
        _new_reporter,
        _register,
        report,
        progress,
    )


async def apply_liaisons(
    session: AsyncSession, parsed: ParsedPeople, progress: Progress | None = None
) -> ImportReport:
    """Upsert the parsed liaisons by phone; zones must be territoires or provinces we know."""
    report = ImportReport("liaisons", "csv", rejected=list(parsed.rejected))
    names = await places.admin_names(session)
    kept: list[PersonRecord] = []
    for record in parsed.records:
        zones, unknown = canonical_zones(names, record.values.get("zones", []))
        if unknown:
            listed = ", ".join(map(repr, unknown))
            reason = f"unknown zone {listed}: no territoire or province of the gazetteer"
            report.rejected.append(Rejection(record.line, reason))
            if progress is not None:
                progress(1)
            continue
        if "zones" in record.values:
            record.values["zones"] = zones
        kept.append(record)
    return await _apply(
        session,
        kept,
        repository.liaisons_by_phones,
        _new_liaison,
        _no_change,
        report,
        progress,
    )


async def import_reporters(
    session: AsyncSession, path: Path, region: str = "CD", progress: Progress | None = None
) -> ImportReport:
    """Read and upsert a reporters file; UnreadableFile (nothing written) when unreadable."""
    return await apply_reporters(session, read_reporters(path, region), progress)


async def import_liaisons(
    session: AsyncSession, path: Path, region: str = "CD", progress: Progress | None = None
) -> ImportReport:
    """Read and upsert a liaisons file; UnreadableFile (nothing written) when unreadable."""
    return await apply_liaisons(session, read_liaisons(path, region), progress)
