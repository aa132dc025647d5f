"""`kengele channel add|list|test`: channels from the command line."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import TYPE_CHECKING, Annotated, Any

import typer

from app.cli.common import err, fail, in_unit_of_work, print_table
from app.kit.config import Settings, get_settings

if TYPE_CHECKING:
    from app.providers.types import SendResult

KINDS_HELP = "twilio, smsgate, httpsms, africastalking, http or console"


def _options(pairs: list[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for i, pair in enumerate(pairs, 1):
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise fail(f"--set number {i} ({key!r}): write it key=value", code=2)
        out[key.strip()] = value
    return out


async def _test_send(settings: Settings, name: str, to: str) -> SendResult:
    """Send one SMS by the channel `name` now, recorded as a delivery like any other."""
    from app.kit.clock import utcnow
    from app.kit.db import create_engine, create_sessionmaker, unit_of_work
    from app.kit.migrate import upgrade
    from app.outbox import service as outbox
    from app.outbox.channels import ChannelSender
    from app.outbox.models import SENDING
    from app.providers.configured import make_sms_sender

    engine = create_engine(settings)
    sessionmaker = create_sessionmaker(engine)
    sender = ChannelSender(settings, sessionmaker, make_sms_sender(settings))
    try:
        await upgrade(engine)
        async with unit_of_work(sessionmaker) as session:
            from app.channels.service import named

            await named(session, name)
            delivery = await outbox.enqueue_sms(
                session, settings, to=to, body="Kengele: test SMS.", purpose="test", via=name
            )
            # Leased to this command: a running worker leaves it alone.
            delivery.status = SENDING
            delivery.attempts = 1
            delivery.leased_by = "cli"
            delivery.claimed_at = utcnow()
            delivery.lease_until = delivery.claimed_at + timedelta(seconds=settings.lease_seconds)
        result = await sender.send(delivery)
        async with unit_of_work(sessionmaker) as session:
            row = await outbox.lock_leased(session, delivery.id, "cli")
            if row is not None:
                await outbox.apply_result(
                    session, settings, row, result, worker="cli", duration_ms=0.0
                )
        return result
    finally:
        await sender.aclose()
        await engine.dispose()


def register(app: typer.Typer) -> None:
    """Add the `channel` command group to the `kengele` command."""
    group = typer.Typer(help="Channels: Twilio, handsets, aggregators.", no_args_is_help=True)

    @group.command("add")
    def add(
        kind: Annotated[str, typer.Argument(help=KINDS_HELP)],
        name: Annotated[str, typer.Argument(help="a-z 0-9 _ -; names the inbound URL")],
        number: Annotated[
            list[str] | None, typer.Option("--number", help="A number it receives on (E.164).")
        ] = None,
        set_: Annotated[
            list[str] | None,
            typer.Option("--set", help="An option, key=value (signing_key, api_url, sim…)."),
        ] = None,
        zone: Annotated[
            list[str] | None, typer.Option("--zone", help="A territoire it serves first.")
        ] = None,
        priority: Annotated[int, typer.Option(help="Place in the routes (lower first).")] = 10,
        heartbeat: Annotated[
            int | None, typer.Option(help="Seconds without a heartbeat before it is down.")
        ] = None,
    ) -> None:
        """Add a channel; prints its inbound URL and its secrets (shown this once only)."""
        from app.channels import service
        from app.flows import channel_edits
        from app.kit.errors import KengeleError

        settings = get_settings()
        options = _options(set_ or [])
        fields = {
            "kind": kind,
            "name": name,
            "numbers": number or [],
            "options": options,
            "zones": zone or [],
            "priority": priority,
            "heartbeat_seconds": heartbeat,
        }

        async def work(session: Any) -> tuple[Any, dict[str, str]]:
            # Through the flow: a zone this channel gives back is told (zone.reachable).
            return await channel_edits.create(session, settings, fields)

        try:
            channel, secrets = in_unit_of_work(work)
        except KengeleError as exc:
            raise fail(exc) from exc
        typer.echo(f"channel {channel.name} ({channel.kind}) added")
        if kind == "http":
            from app.providers import http_channel

            why = http_channel.unmatched_reports(http_channel.HttpConfig.of(channel.options))
            if why is not None:
                err.print(f"Warning: {why}.")
        path = service.inbound_path(kind, name, secrets.get("secret"))
        typer.echo(f"inbound URL: POST {settings.public_url}{path}")
        if secrets:
            err.print("Secrets, shown once: store them now (the provider needs them too).")
            for key, value in sorted(secrets.items()):
                typer.echo(f"{key}={value}")

    @group.command("list")
    def list_() -> None:
        """List the channels in route order (never their secrets)."""
        from app.channels import service
        from app.channels.schemas import ChannelRead

        async def work(session: Any) -> list[ChannelRead]:
            return [ChannelRead.of(c) for c in await service.list_all(session)]

        rows = [("NAME", "KIND", "PRIORITY", "NUMBERS", "ZONES", "STATE", "INBOUND")]
        for c in in_unit_of_work(work):
            state = "off" if not c.active else ("down" if c.down else "up")
            numbers, zones = ",".join(c.numbers) or "-", ",".join(c.zones) or "-"
            rows.append((c.name, c.kind, str(c.priority), numbers, zones, state, c.inbound_path))
        print_table(rows)

    @group.command("test")
    def test(
        name: Annotated[str, typer.Argument(help="The channel's name.")],
        to: Annotated[str, typer.Option("--to", help="Number to text (E.164).")],
    ) -> None:
        """Send a test SMS by this channel now and say how the provider answered."""
        from app.kit.errors import KengeleError
        from app.kit.phones import InvalidPhone, to_e164

        settings = get_settings()
        try:
            phone = to_e164(to, settings.default_region)
            result = asyncio.run(_test_send(settings, name, phone))
        except (KengeleError, InvalidPhone) as exc:
            raise fail(exc) from exc
        if not result.ok:
            err.print(f"[red]not sent:[/red] {result.error}")
            raise typer.Exit(1)
        typer.echo(f"accepted by {name}: {result.provider_id} ({result.provider_status})")

    app.add_typer(group, name="channel")
