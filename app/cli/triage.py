"""`kengele triage`: the gateway's triage of a message or a file, or its accuracy on a
labelled file; nothing is stored (the work itself is in triage_runner.py, imported when the
command runs)."""

from __future__ import annotations

import asyncio
from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer

from app.cli.common import fail, preflight
from app.kit.config import get_settings


def triage(
    text: Annotated[
        str | None, typer.Argument(help='The message to triage, or "eval" to score FILE.')
    ] = None,
    file: Annotated[
        Path | None,
        typer.Argument(help='With "eval": a labelled JSONL file (lines with "expect").'),
    ] = None,
    from_: Annotated[
        str | None, typer.Option("--from", help="Sender's phone (their home place counts).")
    ] = None,
    jsonl: Annotated[
        Path | None,
        typer.Option(
            help='A file of {"id", "from", "body", "received_at"?} lines; one result per line.'
        ),
    ] = None,
    since: Annotated[
        datetime | None,
        typer.Option(formats=["%Y-%m-%d"], help="With export-labels: alerts since DATE (UTC)."),
    ] = None,
) -> None:
    """Triage messages with the configured database's gazetteer; nothing is stored.


    `kengele triage eval FILE` prints the accuracy on a labelled file instead;
    `kengele triage export-labels [--since DATE]` prints the human-verified alerts as
    labelled JSONL (no phone number, no sender)."""
    from app.cli.triage_runner import run_eval, run_triage

    if text == "eval":
        if file is None:
            raise fail("kengele triage eval needs a FILE", code=2)
        preflight(get_settings())  # the settings, the word lists, the database: one line each
        raise typer.Exit(asyncio.run(run_eval(get_settings(), file)))
    if text == "export-labels":
        from app.alerts.labels import run_export
        from app.kit.clock import as_utc

        start = as_utc(since) if since else None
        raise typer.Exit(asyncio.run(run_export(get_settings(), start)))
    if (text is None) == (jsonl is None) or file is not None:
        raise fail("give either a TEXT or --jsonl FILE (or: eval FILE)", code=2)
    preflight(get_settings())
    code = asyncio.run(run_triage(get_settings(), text=text, phone=from_, jsonl=jsonl))
    raise typer.Exit(code)


def register(app: typer.Typer) -> None:
    """Add `triage` to the `kengele` command."""
    app.command()(triage)
