"""`kengele apikey create|list|revoke`: API keys of operations rooms and systems."""

from __future__ import annotations

from typing import Annotated

import typer

from app.auth.schemas import Role
from app.cli.common import cli_actor, err, fail, in_unit_of_work, print_table, when

apikey_cli = typer.Typer(help="API keys of operations rooms and systems.", no_args_is_help=True)


@apikey_cli.command("create")
def apikey_create(
    name: Annotated[str, typer.Option(help="Who the key is for.")],
    role: Annotated[Role, typer.Option(help="What the key may do.")] = "viewer",
) -> None:
    """Create an API key; the key is printed once and only its hash is stored."""
    from app.auth.service import create_key
    from app.kit.errors import KengeleError

    try:
        _, plain = in_unit_of_work(lambda s: create_key(s, name=name, role=role))
    except KengeleError as exc:
        raise fail(exc) from exc
    err.print(f"API key '{name}' ({role}) created. It is shown once: store it now.")
    typer.echo(plain)


@apikey_cli.command("list")
def apikey_list(
    as_json: Annotated[
        bool, typer.Option("--json", help="One JSON object a line, for scripts.")
    ] = False,
) -> None:
    """List the API keys (never the keys themselves: only their first characters)."""
    from app.auth.schemas import ApiKeyRead
    from app.auth.service import list_keys

    keys = [ApiKeyRead.model_validate(k) for k in in_unit_of_work(list_keys)]
    if as_json:
        for key in keys:
            typer.echo(key.model_dump_json())
        return
    rows = [("ID", "NAME", "ROLE", "PREFIX", "CREATED", "LAST USED", "REVOKED")]
    rows += [
        (
            str(k.id),
            k.name,
            k.role,
            k.prefix,
            when(k.created_at),
            when(k.last_used_at),
            when(k.revoked_at),
        )
        for k in keys
    ]
    print_table(rows)


@apikey_cli.command("revoke")
def apikey_revoke(key_id: Annotated[int, typer.Argument(help="The key's id (see list).")]) -> None:
    """Revoke an API key: every request with it gets 401 from now on."""
    from app.auth.service import revoke_key
    from app.kit.errors import KengeleError

    try:
        key = in_unit_of_work(lambda s: revoke_key(s, key_id, by=cli_actor()))
    except KengeleError as exc:
        raise fail(exc) from exc
    assert key.revoked_at is not None
    typer.echo(f"API key {key.id} '{key.name}' ({key.role}) revoked at {when(key.revoked_at)}")


def register(app: typer.Typer) -> None:
    """Add the `apikey` command group to the `kengele` command."""
    app.add_typer(apikey_cli, name="apikey")
