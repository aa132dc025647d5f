"""`kengele keys rotate` and `kengele reporter erase PHONE --reason TEXT`."""

from __future__ import annotations

import asyncio
from typing import Annotated

import typer

from app.cli.common import cli_actor, fail, in_unit_of_work
from app.kit.config import get_settings


def register(app: typer.Typer) -> None:
    """Add the `keys` and `reporter` command groups to the CLI."""
    keys = typer.Typer(help="Data keys (encryption at rest).", no_args_is_help=True)
    reporter = typer.Typer(help="Focal points.", no_args_is_help=True)

    @keys.command("rotate")
    def keys_rotate(
        new_key: Annotated[
            bool, typer.Option(help="Add a new key to the key file first (else: only re-encrypt).")
        ] = True,
        settle: Annotated[
            float, typer.Option(help="Seconds given to running processes to take the new key.")
        ] = 12.0,
    ) -> None:
        """Re-encrypt every stored number and text under a new data key, gateway running."""
        from app.kit.crypto import DataKeyError
        from app.kit.db import create_engine
        from app.kit.migrate import upgrade
        from app.protection.rotate import add_key_to_file, rotate

        async def run() -> None:
            engine = create_engine(get_settings())
            try:
                await upgrade(engine)
                if new_key:
                    typer.echo(f"new data key {add_key_to_file()} added to the key file")
                done = await rotate(engine, settle_seconds=settle if new_key else 0.0)
            finally:
                await engine.dispose()
            typer.echo(
                f"{done.rewritten} value(s) re-encrypted under key {done.key_id} "
                f"in {done.passes} pass(es); none left under an older key"
            )

        try:
            asyncio.run(run())
        except DataKeyError as exc:
            raise fail(exc) from exc

    @reporter.command("erase")
    def reporter_erase(
        phone: Annotated[str, typer.Argument(help="The focal point's number (any writing).")],
        reason: Annotated[str, typer.Option(help="Why (kept in the audit log).")] = "",
    ) -> None:
        """Erase a focal point: number and texts removed, alerts kept anonymous."""
        from sqlalchemy.ext.asyncio import AsyncSession

        from app.kit.errors import KengeleError
        from app.kit.phones import InvalidPhone, mask, to_e164
        from app.people.service import reporter_by_phone
        from app.protection.erase import Erased, erase_reporter

        if not reason.strip():
            raise fail("--reason is required (it is kept in the audit log)", code=2)
        try:
            e164 = to_e164(phone, get_settings().default_region)
        except InvalidPhone as exc:
            raise fail(exc, code=2) from exc

        async def work(session: AsyncSession) -> Erased:
            found = await reporter_by_phone(session, e164)
            if found is None:
                raise KengeleError(f"no reporter has the number {mask(e164)}")
            return await erase_reporter(session, found.id, reason=reason.strip(), actor=cli_actor())

        try:
            done = in_unit_of_work(work)
        except KengeleError as exc:
            raise fail(exc) from exc
        typer.echo(
            f"erased {mask(e164)}: {done.alerts} alert(s) kept anonymous, "
            f"{done.messages} message(s) and {len(done.deliveries)} delivery(ies) emptied, "
            f"copies removed: {done.copies}"
        )

    app.add_typer(keys, name="keys")
    app.add_typer(reporter, name="reporter")
