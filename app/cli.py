"""The `kengele` command."""

from __future__ import annotations

import asyncio
import contextlib
import getpass
import logging
import os
import secrets
import signal
from collections.abc import Awaitable, Callable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import httpx
import typer
from rich.console import Console

from app.auth.schemas import Role
from app.channels_cli import register as register_channel
from app.importing_cli import register as register_import
from app.kit.config import Settings, get_settings
from app.protection.cli import register as register_protection
from app.retention_cli import register as register_retention

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

T = TypeVar("T")

# Plain help, as people know it from other commands: no `<bool>` after flags, choices listed.
cli = typer.Typer(
    help="Kengele: SMS gateway of a community alert network.",
    no_args_is_help=True,
    rich_markup_mode=None,
)
db_cli = typer.Typer(help="Database schema.", no_args_is_help=True)
apikey_cli = typer.Typer(help="API keys of operations rooms and systems.", no_args_is_help=True)
simulate_cli = typer.Typer(
    help="Post signed webhooks as Twilio (or a channel's provider) would.", no_args_is_help=True
)
cli.add_typer(db_cli, name="db")
cli.add_typer(apikey_cli, name="apikey")
cli.add_typer(simulate_cli, name="simulate")

err = Console(stderr=True)


def _setup_logging(level: str) -> None:
    # JSON lines (or text) through one handler that masks phone numbers and drops secrets.
    from app.kit.observability import configure_logging

    configure_logging(get_settings(), level)


def _preflight(settings: Settings, *, create: bool = False) -> None:
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


@cli.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    demo: Annotated[bool, typer.Option("--demo", help="Load the bundled demo data.")] = False,
    no_worker: Annotated[
        bool, typer.Option("--no-worker", help="API only; run `kengele worker` elsewhere.")
    ] = False,
    workers: Annotated[
        int,
        typer.Option(
            min=1, help="Processes serving webhooks, one per core (PostgreSQL only beyond 1)."
        ),
    ] = 1,
) -> None:
    """Run the API (and, unless --no-worker, the background work) on SQLite by default."""
    from app.main import create_app
    from app.serving import serve_app
    from app.startup import StartupError

    settings = get_settings()
    updates: dict[str, Any] = {}
    if demo:
        updates["demo"] = True
        updates["demo_handset"] = True
    if no_worker:
        updates["run_worker"] = False
    settings = settings.model_copy(update=updates)
    _setup_logging(settings.log_level)
    _preflight(settings, create=True)
    try:
        serve_app(create_app, settings, host=host, port=port, workers=workers)
    except StartupError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None


@cli.command()
def worker(
    metrics_port: Annotated[
        int | None,
        typer.Option(help="Serve Prometheus metrics of this worker on this port (/metrics)."),
    ] = None,
    metrics_host: Annotated[str, typer.Option(help="Address of the metrics server.")] = "127.0.0.1",
) -> None:
    """Run only the background work (outbox, escalations, safety net); scale out on PostgreSQL."""
    from app.runtime import Runtime

    settings = get_settings().model_copy(update={"run_worker": True})
    _setup_logging(settings.log_level)
    _preflight(settings)
    if metrics_port is not None:
        from prometheus_client import start_http_server

        # Deliveries and first pages are counted where they happen: in the worker.
        start_http_server(metrics_port, addr=metrics_host)

    async def run() -> None:
        runtime = await Runtime.open(settings)
        loop = asyncio.get_running_loop()
        for signame in ("SIGINT", "SIGTERM"):
            with contextlib.suppress(NotImplementedError, AttributeError):
                loop.add_signal_handler(getattr(signal, signame), runtime.stop.set)
        await runtime.start_background()
        logging.getLogger("kengele").info("worker %s started", runtime.worker.name)
        await runtime.stop.wait()
        await runtime.close()

    asyncio.run(run())


@db_cli.command("upgrade")
def db_upgrade(revision: Annotated[str, typer.Argument()] = "head") -> None:
    """Apply migrations to the database (creating it if need be)."""
    from app.kit.db import create_engine
    from app.kit.migrate import current_revision, upgrade
    from app.startup import describe_database

    _preflight(get_settings(), create=True)
    typer.echo(f"database: {describe_database(get_settings())}", err=True)

    async def run() -> str | None:
        engine = create_engine(get_settings())
        try:
            await upgrade(engine, revision)
            return await current_revision(engine)
        finally:
            await engine.dispose()

    typer.echo(f"database at revision {asyncio.run(run())}")


@db_cli.command("downgrade")
def db_downgrade(revision: Annotated[str, typer.Argument()]) -> None:
    """Revert migrations down to REVISION ('base' empties the database)."""
    from app.kit.db import create_engine
    from app.kit.migrate import current_revision, downgrade

    _preflight(get_settings())

    async def run() -> str | None:
        engine = create_engine(get_settings())
        try:
            await downgrade(engine, revision)
            return await current_revision(engine)
        finally:
            await engine.dispose()

    typer.echo(f"database at revision {asyncio.run(run())}")


def _in_unit_of_work(work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    """Run `work` in one transaction on the configured database (migrated first)."""
    from app.kit.db import create_engine, create_sessionmaker, unit_of_work
    from app.kit.migrate import upgrade

    _preflight(get_settings())

    async def run() -> T:
        engine = create_engine(get_settings())
        try:
            await upgrade(engine)
            async with unit_of_work(create_sessionmaker(engine)) as session:
                return await work(session)
        finally:
            await engine.dispose()

    return asyncio.run(run())


def _cli_actor() -> str:
    """How the audit log names a command-line user."""
    try:
        return f"cli:{getpass.getuser()}"
    except (OSError, KeyError):  # no user name in some containers
        return "cli"


@apikey_cli.command("create")
def apikey_create(
    name: Annotated[str, typer.Option(help="Who the key is for.")],
    role: Annotated[Role, typer.Option(help="What the key may do.")] = "viewer",
) -> None:
    """Create an API key; the key is printed once and only its hash is stored."""
    from app.auth.service import create_key
    from app.kit.errors import KengeleError

    try:
        _, plain = _in_unit_of_work(lambda s: create_key(s, name=name, role=role))
    except KengeleError as exc:
        err.print(f"[red]error:[/red] {exc.detail}")
        raise typer.Exit(1) from exc
    err.print(f"API key '{name}' ({role}) created. It is shown once: store it now.")
    typer.echo(plain)


def _when(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M") if value is not None else "-"


@apikey_cli.command("list")
def apikey_list(
    as_json: Annotated[
        bool, typer.Option("--json", help="One JSON object a line, for scripts.")
    ] = False,
) -> None:
    """List the API keys (never the keys themselves: only their first characters)."""
    from app.auth.schemas import ApiKeyRead
    from app.auth.service import list_keys

    keys = [ApiKeyRead.model_validate(k) for k in _in_unit_of_work(list_keys)]
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
            _when(k.created_at),
            _when(k.last_used_at),
            _when(k.revoked_at),
        )
        for k in keys
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    # Plain text, not a rich table: a key's name may hold "[...]" (markup) and must not wrap.
    for row in rows:
        typer.echo("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)))


@apikey_cli.command("revoke")
def apikey_revoke(key_id: Annotated[int, typer.Argument(help="The key's id (see list).")]) -> None:
    """Revoke an API key: every request with it gets 401 from now on."""
    from app.auth.service import revoke_key
    from app.kit.errors import KengeleError

    try:
        key = _in_unit_of_work(lambda s: revoke_key(s, key_id, by=_cli_actor()))
    except KengeleError as exc:
        err.print(f"[red]error:[/red] {exc.detail}")
        raise typer.Exit(1) from exc
    assert key.revoked_at is not None
    typer.echo(f"API key {key.id} '{key.name}' ({key.role}) revoked at {_when(key.revoked_at)}")


@cli.command()
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
    from app.triage_cli import run_eval, run_triage

    if text == "eval":
        if file is None:
            err.print("[red]error:[/red] kengele triage eval needs a FILE")
            raise typer.Exit(2)
        raise typer.Exit(asyncio.run(run_eval(get_settings(), file)))
    if text == "export-labels":
        from app.alerts.labels import run_export
        from app.kit.clock import as_utc

        start = as_utc(since) if since else None
        raise typer.Exit(asyncio.run(run_export(get_settings(), start)))
    if (text is None) == (jsonl is None) or file is not None:
        err.print("[red]error:[/red] give either a TEXT or --jsonl FILE (or: eval FILE)")
        raise typer.Exit(2)
    _preflight(get_settings())
    code = asyncio.run(run_triage(get_settings(), text=text, phone=from_, jsonl=jsonl))
    raise typer.Exit(code)


def _post_signed(settings: Settings, url: str | None, path: str, form: dict[str, str]) -> None:
    from app.providers.twilio import SIGNATURE_HEADER, compute_signature, signed_url
    from app.startup import signing_target

    base, signed_for = signing_target(settings, url)
    signature = compute_signature(
        settings.twilio_auth_token.get_secret_value(), signed_url(signed_for, path), form
    )
    _post(base, signed_for, path, data=form, headers={SIGNATURE_HEADER: signature})


def _post(base: str, signed_for: str, path: str, **request: Any) -> None:
    """Post to the gateway and print its answer; exit 1 when it refuses or cannot be reached."""
    target = base + path
    typer.echo(f"POST {target} (signed for {signed_for}{path})", err=True)
    try:
        response = httpx.post(target, timeout=30, **request)
    except httpx.HTTPError as exc:
        err.print(f"[red]error:[/red] could not reach {target}: {exc}")
        raise typer.Exit(1) from exc
    typer.echo(f"HTTP {response.status_code}")
    typer.echo(response.text)
    if response.status_code == 403:
        typer.echo(
            f"the gateway checks signatures against its own KENGELE_PUBLIC_URL: give this "
            f"command the same one (it signed for {signed_for})",
            err=True,
        )
    if response.status_code >= 400:
        raise typer.Exit(1)


def _twilio_form(settings: Settings, phone: str, sid_prefix: str) -> dict[str, str]:
    return {
        f"{sid_prefix}Sid": sid_prefix[:2].upper() + secrets.token_hex(16),
        "AccountSid": settings.twilio_account_sid,
        "From": phone,
        "To": settings.twilio_from or "+243800000000",
    }


ChannelOption = Annotated[
    str | None,
    typer.Option("--channel", help="Post as this channel's provider (default: Twilio)."),
]


def _post_as_channel(
    settings: Settings, url: str | None, name: str, phone: str, text: str | None
) -> None:
    """Sign and post as the provider of the channel `name` (an SMS, or a call if no text)."""
    from app.channels.service import inbound_path, named
    from app.kit.errors import KengeleError
    from app.providers import httpsms, smsgate

    try:
        channel = _in_unit_of_work(lambda s: named(s, name))
    except KengeleError as exc:
        err.print(f"[red]error:[/red] {exc.detail}")
        raise typer.Exit(1) from exc
    from app.startup import signing_target

    base, signed_for = signing_target(settings, url)
    path = inbound_path(channel.kind, channel.name)
    key = channel.secrets.get("signing_key", "")
    if channel.kind in ("smsgate", "console") and text is not None:
        body, headers = smsgate.simulated(key, phone, text)
    elif channel.kind == "httpsms":
        event = httpsms.RECEIVED if text is not None else httpsms.MISSED_CALL
        owner = channel.numbers[0] if channel.numbers else ""
        body, headers = httpsms.simulated(key, signed_for + path, event, phone, owner, text or "")
    else:
        what = "an SMS" if text is not None else "a missed call"
        err.print(f"[red]error:[/red] a {channel.kind} channel does not post {what}")
        raise typer.Exit(2)
    _post(base, signed_for, path, content=body, headers=headers)


@simulate_cli.command("sms")
def simulate_sms(
    text: Annotated[str, typer.Argument(help="The SMS body.")],
    from_: Annotated[str, typer.Option("--from", help="Sender's phone.")],
    url: Annotated[
        str | None,
        typer.Option(help="Gateway base URL (default: the running `serve`, else the public URL)."),
    ] = None,
    channel: ChannelOption = None,
) -> None:
    """Post a signed inbound-SMS webhook, as Twilio (or the channel's provider) would."""
    settings = get_settings()
    if channel not in (None, "twilio"):
        _post_as_channel(settings, url, channel, from_, text)
        return
    form = _twilio_form(settings, from_, "Message")
    form.update({"SmsSid": form["MessageSid"], "Body": text, "NumMedia": "0"})
    _post_signed(settings, url, "/webhooks/twilio/sms", form)


@simulate_cli.command("call")
def simulate_call(
    from_: Annotated[str, typer.Option("--from", help="Caller's phone.")],
    url: Annotated[
        str | None,
        typer.Option(help="Gateway base URL (default: the running `serve`, else the public URL)."),
    ] = None,
    channel: ChannelOption = None,
) -> None:
    """Post a signed incoming-call webhook (a missed call, a "flash")."""
    settings = get_settings()
    if channel not in (None, "twilio"):
        _post_as_channel(settings, url, channel, from_, None)
        return
    form = _twilio_form(settings, from_, "Call")
    form.update({"CallStatus": "ringing", "Direction": "inbound"})
    _post_signed(settings, url, "/webhooks/twilio/voice", form)


register_import(cli)
register_channel(cli)
register_retention(cli)
register_protection(cli)


def main() -> None:
    """Entry point of the console script."""
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    cli()


if __name__ == "__main__":
    main()
