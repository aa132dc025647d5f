"""What the command groups share: the error console, logging, the check before a command
touches the database, work on the configured database, how the audit log names the user,
plain-text tables."""

from __future__ import annotations

import asyncio
import getpass
import logging
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, TypeVar

import typer
from rich.console import Console

from app.kit.config import Settings, get_settings

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

T = TypeVar("T")

err = Console(stderr=True)


def fail(problem: object, code: int = 1) -> typer.Exit:
    """Print `problem` (an error's detail, or a text) as an error line; the exit to raise."""
    err.print(f"[red]error:[/red] {getattr(problem, 'detail', problem)}")
    return typer.Exit(code)


def setup_logging(level: str) -> None:
    """JSON lines (or text) through one handler that masks phone numbers and drops secrets."""
    from app.kit.observability import configure_logging

    configure_logging(get_settings(), level)


def preflight(settings: Settings, *, create: bool = False) -> None:
    """Check settings and the database; on a problem print one line and exit 1."""
    from app.runtime import check_settings
    from app.startup import StartupError, check_database, describe_database

    try:
        check_settings(settings)
        asyncio.run(check_database(settings, create=create))
    except StartupError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None
    # Shown by serve and worker (they configure logging), not by one-shot commands.
    logging.getLogger("kengele").info("database: %s", describe_database(settings))


def with_database(work: Callable[[async_sessionmaker[AsyncSession]], Awaitable[T]]) -> T:
    """Run `work(sessionmaker)` on the configured database, migrated first."""
    from app.kit.db import create_engine, create_sessionmaker
    from app.kit.migrate import upgrade

    preflight(get_settings())

    async def run() -> T:
        engine = create_engine(get_settings())
        try:
            await upgrade(engine)
            return await work(create_sessionmaker(engine))
        finally:
            await engine.dispose()

    return asyncio.run(run())


def in_unit_of_work(work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    """Run `work` in one transaction on the configured database (migrated first)."""
    from app.kit.db import unit_of_work

    async def in_transaction(sessionmaker: async_sessionmaker[AsyncSession]) -> T:
        async with unit_of_work(sessionmaker) as session:
            return await work(session)

    return with_database(in_transaction)


def cli_actor() -> str:
    """How the audit log names a command-line user."""
    try:
        return f"cli:{getpass.getuser()}"
    except (OSError, KeyError):  # no user name in some containers
        return "cli"


def when(value: datetime | None) -> str:
    """A moment as the tables write it, or a dash."""
    return value.strftime("%Y-%m-%d %H:%M") if value is not None else "-"


def print_table(rows: Sequence[Sequence[str]]) -> None:
    """Rows (the first one the header) in aligned columns.

    Plain text, not a rich table: a name may hold "[...]" (markup) and must not wrap."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        typer.echo("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)))
