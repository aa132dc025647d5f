"""`kengele import places|reporters|liaisons FILE`: one file, one transaction, a summary."""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from enum import StrEnum
from functools import partial
from pathlib import Path
from typing import Annotated, TypeVar

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession

from app.flows import roster
from app.geo.importers import read_places
from app.geo.importers.apply import apply_places
from app.geo.importers.csv import Columns, named_columns
from app.geo.importers.records import Format, ParsedPlaces
from app.kit import importing
from app.kit.config import get_settings
from app.kit.db import create_engine, create_sessionmaker, unit_of_work
from app.kit.importing import ImportReport, UnreadableFile
from app.kit.migrate import upgrade
from app.people.importers import (
    ParsedPeople,
    apply_reporters,
    read_liaisons,
    read_reporters,
)
from app.startup import StartupError, check_database

Parsed = TypeVar("Parsed", ParsedPlaces, ParsedPeople)
Apply = Callable[[AsyncSession, Parsed, importing.Progress | None], Awaitable[ImportReport]]


class FileFormat(StrEnum):
    """Formats of a places file."""

    csv = "csv"
    geonames = "geonames"
    geojson = "geojson"


_FORMATS: dict[FileFormat, Format] = {
    FileFormat.csv: "csv",
    FileFormat.geonames: "geonames",
    FileFormat.geojson: "geojson",
}

FileArg = Annotated[
    Path, typer.Argument(help="The file to import.", show_default=False, resolve_path=False)
]
AllowPartial = Annotated[
    bool,
    typer.Option(
        "--allow-partial",
        help="Import the good rows even when some are rejected (else nothing is imported).",
    ),
]


def _fail(message: str) -> typer.Exit:
    typer.echo(f"Nothing imported: {message}", err=True)
    return typer.Exit(code=1)


@contextmanager
def _progress_bar(total: int, label: str) -> Iterator[importing.Progress | None]:
    """A rich progress bar on a terminal; one line every PROGRESS_LINE_EVERY rows otherwise
    (a pipe, a file, a log), on stderr."""
    if not sys.stdout.isatty():
        done = 0
        started = time.monotonic()

        def line(count: int) -> None:
            nonlocal done
            before, done = done, done + count
            if done // PROGRESS_LINE_EVERY > before // PROGRESS_LINE_EVERY or done == total:
                rate = done / max(time.monotonic() - started, 1e-9)
                typer.echo(f"{label}: {done:,}/{total:,} rows ({rate:,.0f} rows/s)", err=True)

        yield line
        return
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn())
    with Progress(*columns, TimeElapsedColumn(), transient=True) as bar:
        task = bar.add_task(label, total=total)
        yield lambda done: bar.advance(task, done)


# When not on a terminal: one progress line per this many rows.
PROGRESS_LINE_EVERY = 10_000


class _Refused(Exception):
    """Rows were rejected and a partial import was not asked for: the transaction rolls back."""

    def __init__(self, report: ImportReport) -> None:
        super().__init__(report.kind)
        self.report = report


async def _apply(
    parsed: Parsed, apply: Apply[Parsed], total: int, label: str, allow_partial: bool
) -> ImportReport:
    await check_database(get_settings(), create=False)
    engine = create_engine(get_settings())
    try:
        await upgrade(engine)
        with _progress_bar(total, label) as progress:
            async with unit_of_work(create_sessionmaker(engine)) as session:
                report = await apply(session, parsed, progress)
                if report.rejected and not allow_partial:
                    raise _Refused(report)
                return report
    finally:
        await engine.dispose()


def _print_report(report: ImportReport, path: Path, encoding: str) -> None:
    typer.echo(
        f"Import of {report.kind} from {path} (format: {report.source}, encoding: {encoding})"
    )
    table = Table()
    table.add_column("outcome")
    table.add_column("count", justify="right")
    for outcome, count in report.counts().items():
        table.add_row(outcome, str(count))
    if report.merged or report.distinct:
        table.add_row("merged repeats", str(len(report.merged)))
        table.add_row("distinct namesakes", str(len(report.distinct)))
    Console().print(table)
    # Plain echo, not rich: names may hold "[...]" (markup) and long reasons must not wrap.
    for title, notes in (("Merged", report.merged), ("Kept apart", report.distinct)):
        if notes:
            typer.echo(f"{title}:")
            for note in notes:
                typer.echo(f"  {note}")
    for note in report.notes:
        typer.echo(f"Note: {note}")
    for warning in report.warnings:
        typer.echo(f"Warning: {warning}")
    if report.rejected:
        typer.echo("Rejected:")
        for rejection in report.rejected:
            typer.echo(f"  {rejection}")


def _run(
    path: Path,
    read: Callable[[], Parsed],
    apply: Apply[Parsed],
    kind: str,
    allow_partial: bool,
) -> None:
    try:
        parsed = read()
    except UnreadableFile as exc:
        raise _fail(str(exc)) from None
    total = len(parsed.records)
    if not total and not parsed.rejected:
        raise _fail(f"{path}: no {kind} in the file (a header and no rows?)")
    encoding = importing.describe_encoding(path.read_bytes())
    try:
        report = asyncio.run(_apply(parsed, apply, total, f"Importing {kind}", allow_partial))
    except _Refused as refused:
        _print_report(refused.report, path, encoding)
        rejected = len(refused.report.rejected)
        raise _fail(
            f"{rejected} row(s) rejected; fix them, or pass --allow-partial to import the others"
        ) from None
    except StartupError as exc:
        raise _fail(str(exc)) from None
    except (SQLAlchemyError, OSError) as exc:
        raise _fail(f"database error: {exc}") from None
    _print_report(report, path, encoding)


def register(app: typer.Typer) -> None:
    """Add the `import` command group to the `kengele` command."""
    group = typer.Typer(
        help="Import places, focal points or liaisons from a file (idempotent).",
        no_args_is_help=True,
    )

    @group.command("places")
    def places(
        file: FileArg,
        fmt: Annotated[
            FileFormat | None,
            typer.Option(
                "--format", help="Override detection by extension or content.", show_default=False
            ),
        ] = None,
        name_col: Annotated[str | None, typer.Option(help="Column of the place name.")] = None,
        lat_col: Annotated[str | None, typer.Option(help="Column of the latitude.")] = None,
        lon_col: Annotated[str | None, typer.Option(help="Column of the longitude.")] = None,
        id_col: Annotated[
            str | None, typer.Option(help="Column of a stable id (else: the name slug).")
        ] = None,
        admin1_col: Annotated[str | None, typer.Option(help="Column of the province.")] = None,
        admin2_col: Annotated[str | None, typer.Option(help="Column of the territoire.")] = None,
        source: Annotated[
            str | None,
            typer.Option(
                help="Record the places under this source instead of the format's own. "
                "'geonames' marks an outside gazetteer (GeoNames, cities1000...) in any format: "
                "its places are matched by exact name only, near the served area, and a place "
                "of your own of the same name outranks them.",
                show_default=False,
            ),
        ] = None,
        allow_partial: AllowPartial = False,
    ) -> None:
        """Places: our gazetteer CSV, any CSV with --name-col/--lat-col/--lon-col, GeoNames
        dumps or GeoJSON points."""
        named = (name_col, lat_col, lon_col, id_col, admin1_col, admin2_col)
        columns: Columns | None = None
        if any(named):
            columns = named_columns(*named)
        file_format = None if fmt is None else _FORMATS[fmt]
        recorded_as = None if source is None else source.strip().lower()
        _run(
            file,
            lambda: read_places(file, file_format, columns, recorded_as),
            apply_places,
            "places",
            allow_partial,
        )

    @group.command("reporters")
    def reporters(file: FileArg, allow_partial: AllowPartial = False) -> None:
        """Focal points: phone,name,home_place_id,language,role[,verified,active,opted_out]
        (role: focal_point, community_relay or protection_committee)."""
        region = get_settings().default_region
        read = partial(read_reporters, file, region)
        _run(file, read, apply_reporters, "reporters", allow_partial)

    @group.command("liaisons")
    def liaisons(file: FileArg, allow_partial: AllowPartial = False) -> None:
        """Liaisons: phone,name,zones (|-separated territoires),tier,language[,on_duty,active].

        Pages still queued for a liaison the file puts off duty or deactivates go to the next
        liaison of the zone, as when the roster is changed through the API."""
        settings = get_settings()
        read = partial(read_liaisons, file, settings.default_region)
        apply = partial(roster.apply_liaisons, settings=settings)
        _run(file, read, apply, "liaisons", allow_partial)

    app.add_typer(group, name="import")
