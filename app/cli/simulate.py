"""`kengele simulate sms|call`: signed webhooks, as Twilio (or a channel's provider) posts them."""

from __future__ import annotations

import secrets
from typing import Annotated, Any

import httpx
import typer

from app.cli.common import fail, in_unit_of_work
from app.kit.config import Settings, get_settings

simulate_cli = typer.Typer(
    help="Post signed webhooks as Twilio (or a channel's provider) would.", no_args_is_help=True
)
ChannelOption = Annotated[
    str | None,
    typer.Option("--channel", help="Post as this channel's provider (default: Twilio)."),
]
UrlOption = Annotated[
    str | None,
    typer.Option(help="Gateway base URL (default: the running `serve`, else the public URL)."),
]


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
        raise fail(f"could not reach {target}: {exc}") from exc
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


def _post_as_channel(
    settings: Settings, url: str | None, name: str, phone: str, text: str | None
) -> None:
    """Sign and post as the provider of the channel `name` (an SMS, or a call if no text)."""
    from app.channels.service import inbound_path, named
    from app.kit.errors import KengeleError
    from app.providers import httpsms, smsgate

    try:
        channel = in_unit_of_work(lambda s: named(s, name))
    except KengeleError as exc:
        raise fail(exc) from exc
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
        raise fail(f"a {channel.kind} channel does not post {what}", code=2)
    _post(base, signed_for, path, content=body, headers=headers)


def _simulate(url: str | None, channel: str | None, phone: str, text: str | None) -> None:
    """Post an SMS (`text`), or a missed call (no text), as the channel's provider or Twilio."""
    settings = get_settings()
    if channel not in (None, "twilio"):
        _post_as_channel(settings, url, channel, phone, text)
    elif text is None:
        form = _twilio_form(settings, phone, "Call")
        form.update({"CallStatus": "ringing", "Direction": "inbound"})
        _post_signed(settings, url, "/webhooks/twilio/voice", form)
    else:
        form = _twilio_form(settings, phone, "Message")
        form.update({"SmsSid": form["MessageSid"], "Body": text, "NumMedia": "0"})
        _post_signed(settings, url, "/webhooks/twilio/sms", form)


@simulate_cli.command("sms")
def simulate_sms(
    text: Annotated[str, typer.Argument(help="The SMS body.")],
    from_: Annotated[str, typer.Option("--from", help="Sender's phone.")],
    url: UrlOption = None,
    channel: ChannelOption = None,
) -> None:
    """Post a signed inbound-SMS webhook, as Twilio (or the channel's provider) would."""
    _simulate(url, channel, from_, text)


@simulate_cli.command("call")
def simulate_call(
    from_: Annotated[str, typer.Option("--from", help="Caller's phone.")],
    url: UrlOption = None,
    channel: ChannelOption = None,
) -> None:
    """Post a signed incoming-call webhook (a missed call, a "flash")."""
    _simulate(url, channel, from_, None)


def register(app: typer.Typer) -> None:
    """Add the `simulate` command group to the `kengele` command."""
    app.add_typer(simulate_cli, name="simulate")
