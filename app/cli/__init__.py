"""The `kengele` command: one module a command group, all added here."""

from __future__ import annotations

import os

import typer

from app.cli import (
    apikey,
    channels,
    db,
    importing,
    protection,
    retention,
    serve,
    simulate,
    triage,
)

# Plain help, as people know it from other commands: no `<bool>` after flags, choices listed.
cli = typer.Typer(
    help="Kengele: SMS gateway of a community alert network.",
    no_args_is_help=True,
    rich_markup_mode=None,
)
# The help lists the commands, then the groups, each in the order they are added.
for group in (serve, db, apikey, triage, simulate, importing, channels, retention, protection):
    group.register(cli)


def main() -> None:
    """Entry point of the console script."""
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    cli()
