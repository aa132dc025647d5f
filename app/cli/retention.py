"""`kengele purge` (retention) and `kengele audit verify` (hash chains of the audit trails)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from app.cli.common import with_database
from app.kit.config import get_settings

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

audit_cli = typer.Typer(help="The audit trails.", no_args_is_help=True)
MAX_BREAKS_SHOWN = 20


def purge(
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Only count what would go, per kind.")
    ] = False,
) -> None:
    """Remove what is past its retention time (texts, numbers, raw messages; statistics stay)."""
    from app.kit.clock import utcnow
    from app.retention import service

    settings = get_settings()
    now = utcnow()

    async def count(factory: async_sessionmaker[AsyncSession]) -> dict[str, int]:
        async with factory() as session:
            return await service.count_due(session, settings, now)

    async def remove(factory: async_sessionmaker[AsyncSession]) -> dict[str, int]:
        return await service.purge(factory, settings, now)

    counts = with_database(count if dry_run else remove)
    verb = "would purge" if dry_run else "purged"
    for kind, n in counts.items():
        typer.echo(f"{verb} {kind}: {n}")


@audit_cli.command("verify")
def audit_verify() -> None:
    """Check the hash chains of alert events and of the admin audit log; exit 1 on a break."""
    from app.alerts.verify import verify
    from app.audit.verify import Report

    async def check(factory: async_sessionmaker[AsyncSession]) -> Report:
        async with factory() as session:
            return await verify(session)

    report = with_database(check)
    typer.echo(
        f"checked {report.entries} audit log entries and {report.events} events "
        f"of {report.alerts} alerts"
    )
    if report.ok:
        typer.echo(f"every chain holds; audit log head {report.audit_head}")
        return
    for found in report.breaks[:MAX_BREAKS_SHOWN]:
        typer.echo(f"BROKEN {found.describe()}", err=True)
    if len(report.breaks) > MAX_BREAKS_SHOWN:
        typer.echo(f"... and {len(report.breaks) - MAX_BREAKS_SHOWN} more chains", err=True)
    raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    """Add the commands to the `kengele` command."""
    app.command("purge")(purge)
    app.add_typer(audit_cli, name="audit")
