"""`kengele db upgrade|downgrade`: the database schema."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Annotated

import typer

from app.cli.common import preflight
from app.kit.config import get_settings

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncEngine

db_cli = typer.Typer(help="Database schema.", no_args_is_help=True)


def _migrate(move: Callable[[AsyncEngine, str], Awaitable[None]], revision: str) -> None:
    """Move the configured database to `revision` and say where it is now."""
    from app.kit.db import create_engine
    from app.kit.migrate import current_revision

    async def run() -> str | None:
        engine = create_engine(get_settings())
        try:
            await move(engine, revision)
            return await current_revision(engine)
        finally:
            await engine.dispose()

    typer.echo(f"database at revision {asyncio.run(run())}")


@db_cli.command("upgrade")
def db_upgrade(revision: Annotated[str, typer.Argument()] = "head") -> None:
    """Apply migrations to the database (creating it if need be)."""
    from app.kit.migrate import upgrade
    from app.startup import describe_database

    preflight(get_settings(), create=True)
    typer.echo(f"database: {describe_database(get_settings())}", err=True)
    _migrate(upgrade, revision)


@db_cli.command("downgrade")
def db_downgrade(revision: Annotated[str, typer.Argument()]) -> None:
    """Revert migrations down to REVISION ('base' empties the database)."""
    from app.kit.migrate import downgrade

    preflight(get_settings())
    _migrate(downgrade, revision)


def register(app: typer.Typer) -> None:
    """Add the `db` command group to the `kengele` command."""
    app.add_typer(db_cli, name="db")
