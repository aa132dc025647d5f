"""Decisions about channels: what a kind takes, secrets apart, the Twilio channel, health."""

from __future__ import annotations

import re
import secrets
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy.ext.asyncio import AsyncSession

from app.channels import repository as repo
from app.channels.models import HANDSET_KINDS, KINDS, SECRET_OPTIONS, TWILIO, Channel
from app.kit.clock import utcnow
from app.kit.config import Settings
from app.kit.errors import Conflict, NotFound, Unprocessable
from app.kit.phones import InvalidPhone, to_e164
from app.kit.repository import get_or_raise
from app.providers import africastalking, http_channel

VOICE_VALUES = frozenset({"on", "off", "true", "false", "yes", "no", "1", "0"})
NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,31}$")
# The options each kind understands (anything else is a typo the admin must hear about).
OPTIONS: dict[str, frozenset[str]] = {
    # `voice=on`: critical pages no SMS channel can carry are read by phone (app.outbox.voice),
    # from `voice_from` (a voice-capable number; default KENGELE_TWILIO_FROM).
    "twilio": frozenset({"voice", "voice_from"}),
    "smsgate": frozenset({"signing_key", "api_url", "username", "password", "sim", "device_id"}),
    "httpsms": frozenset({"signing_key", "api_key", "api_url"}),
    "africastalking": frozenset({"username", "api_key", "secret", "allow", "api_url"}),
    "http": http_channel.OPTIONS,
    # A handset on the console (the demo): posts as SMS Gateway for Android, sends to the log.
    "console": frozenset({"signing_key"}),
}
# Kinds that need a key to check what they post; generated when not given.
SIGNED_KINDS = frozenset({"smsgate", "httpsms", "console"})
# Kinds whose provider proves itself by a secret in the callback URL (generated if not given).
PATH_SECRET_KINDS = frozenset({"http", "africastalking"})
# Where a kind takes the credentials an admin may be tempted to write into its URL.
_CREDENTIALS_HINT = {"smsgate": "username and password options"}
# The secret each kind checks what its provider posts with: a channel never goes without it.
REQUIRED_SECRET = {
    **{kind: "signing_key" for kind in SIGNED_KINDS},
    **{kind: "secret" for kind in PATH_SECRET_KINDS},
}
# The demo's handset (`kengele serve --demo`), and the key `kengele simulate` signs with.
DEMO_CHANNEL = "demo-handset"
DEMO_SIGNING_KEY = "kengele-demo-signing-key"
# A handset sends from a prepaid SIM: Android asks the user to allow more than 30 SMS in 30
# minutes from one app, and operators flag SIMs that burst. One SMS every 10 s after a burst
# of 5 pages a zone's handful of liaisons at once and never trips either limit.
HANDSET_RATE = (0.1, 5)
# A Twilio long code takes about one segment a second; it queues a few itself.
DEFAULT_RATE = (1.0, 3)
# The app pings every 5 minutes when told to (docs/CHANNELS.md): four missed pings is down.
SMSGATE_HEARTBEAT_SECONDS = 1200
# How the reason of a channel marked down for its failed sends begins (app.flows.channel_health).
FAILING = "sends failing"


def inbound_path(kind: str, name: str, secret: str | None = None) -> str:
    """Where the channel's provider posts (Twilio keeps its three fixed webhooks).

    An `http` channel's URL ends with its secret (when it authenticates by path): shown with
    the secret only when it is given, at creation.
    """
    if kind == "twilio":
        return "/webhooks/twilio/sms"
    if kind in PATH_SECRET_KINDS:
        return f"/webhooks/{kind}/{name}/{secret or '{secret}'}"
    return f"/webhooks/{kind}/{name}"


def _numbers(numbers: list[str], region: str) -> list[str]:
    out: list[str] = []
    for raw in numbers:
        try:
            out.append(to_e164(raw, region))
        except InvalidPhone as exc:
            raise Unprocessable(f"numbers: {exc}") from exc
    return list(dict.fromkeys(out))


def _split(kind: str, options: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """Options and secrets of a kind, or 422 naming an option the kind does not take."""
    allowed = OPTIONS[kind]
    unknown = sorted(set(options) - allowed)
    if unknown:
        takes = ", ".join(sorted(allowed)) or "none"
        raise Unprocessable(f"options: {kind} takes no option {unknown} (it takes: {takes})")
    if "voice" in options and str(options["voice"]).strip().lower() not in VOICE_VALUES:
        raise Unprocessable("options: voice is on or off")
    if "voice_from" in options:
        try:
            to_e164(str(options["voice_from"]))
        except InvalidPhone as exc:
            raise Unprocessable(f"options: voice_from: {exc}") from exc
    if "sim" in options and str(options["sim"]) not in ("1", "2", "3"):
        raise Unprocessable("options: sim is 1, 2 or 3 (the SIM slot that sends)")
    if "api_url" in options and not str(options["api_url"]).startswith(("http://", "https://")):
        raise Unprocessable("options: api_url must be an http:// or https:// URL")
    for url_option in ("api_url", "out_url"):
        # Options are shown to admins as they are: a password in a URL would be too.
        if url_option in options and urlsplit(str(options[url_option])).password is not None:
            raise Unprocessable(
                f"options: {url_option} must carry no user:password; give them as the "
                f"{_CREDENTIALS_HINT.get(kind, 'token option, put in requests by {token}')}"
            )
    try:
        if kind == "http":
            literal = http_channel.literal_credentials(http_channel.HttpConfig.of(options))
            if literal:
                raise ValueError(
                    f"options: {', '.join(literal)} would carry a credential written as it is, "
                    "which admins are shown with the options: give it as the token option "
                    "and write {token} there instead (a second one: token2, {token2})"
                )
        if kind == "africastalking":
            africastalking.check_allow_list(str(options.get("allow", "")))
    except ValueError as exc:
        raise Unprocessable(str(exc)) from exc
    plain = {k: v for k, v in options.items() if k not in SECRET_OPTIONS}
    hidden = {k: str(v) for k, v in options.items() if k in SECRET_OPTIONS}
    # An empty key is one anybody holds: an HMAC keyed with "" is forged by anyone.
    empty = sorted(k for k, v in hidden.items() if not v.strip())
    if empty:
        raise Unprocessable(
            f"options: {', '.join(empty)} must not be empty: give a value or leave it out"
            " (a signing_key or secret left out is generated)"
        )
    return plain, hidden


async def create(
    session: AsyncSession,
    settings: Settings,
    *,
    kind: str,
    name: str,
    numbers: list[str] | None = None,
    options: Mapping[str, Any] | None = None,
    zones: list[str] | None = None,
    priority: int = 10,
    rate_per_second: float | None = None,
    burst: int | None = None,
    heartbeat_seconds: int | None = None,
) -> tuple[Channel, dict[str, str]]:
    """A new channel and its secrets (to show once: they are never returned again)."""
    if kind not in KINDS:
        raise Unprocessable(f"kind: unknown kind {kind!r}; use {', '.join(KINDS)}")
    if not NAME.match(name):
        raise Unprocessable("name: 1-32 of a-z 0-9 _ -, starting with a letter or digit")
    if await repo.by_name(session, name) is not None:
        raise Conflict(f"a channel named {name!r} exists already")
    plain, hidden = _split(kind, options or {})
    if kind in SIGNED_KINDS and "signing_key" not in hidden:
        hidden["signing_key"] = secrets.token_urlsafe(24)
    if kind in PATH_SECRET_KINDS and "secret" not in hidden:
        hidden["secret"] = secrets.token_urlsafe(24)
    rate, default_burst = HANDSET_RATE if kind in HANDSET_KINDS else DEFAULT_RATE
    if heartbeat_seconds is None and kind == "smsgate":
        heartbeat_seconds = SMSGATE_HEARTBEAT_SECONDS
    channel = Channel(
        kind=kind,
        name=name,
        numbers=_numbers(numbers or [], settings.default_region),
        options=plain,
        secrets=hidden,
        zones=list(dict.fromkeys(zones or [])),
        priority=priority,
        rate_per_second=rate_per_second if rate_per_second is not None else rate,
        burst=burst if burst is not None else default_burst,
        heartbeat_seconds=heartbeat_seconds,
        active=True,
    )
    await repo.add(session, channel)
    return channel, dict(hidden)


async def update(
    session: AsyncSession, settings: Settings, channel_id: int, changes: Mapping[str, Any]
) -> Channel:
    """Change what was given; options merge (a null value removes one)."""
    channel = await get(session, channel_id)
    if "options" in changes:
        merged = {**channel.options, **channel.secrets}
        for key, value in (changes["options"] or {}).items():
            if value is None:
                merged.pop(key, None)
            else:
                merged[key] = value
        required = REQUIRED_SECRET.get(channel.kind)
        if required is not None and required not in merged:
            # Without it every post would be refused, or, checked with "", forged by anyone.
            raise Unprocessable(
                f"options: {required} cannot be removed: the {channel.kind} channel checks"
                " what its provider posts with it (give a new value to replace it)"
            )
        channel.options, channel.secrets = _split(channel.kind, merged)
    if "numbers" in changes:
        channel.numbers = _numbers(changes["numbers"], settings.default_region)
    if "zones" in changes:
        channel.zones = list(dict.fromkeys(changes["zones"]))
    for field in ("priority", "rate_per_second", "burst", "active", "heartbeat_seconds"):
        if field in changes:
            setattr(channel, field, changes[field])
    await session.flush()
    return channel


async def get(session: AsyncSession, channel_id: int) -> Channel:
    """The channel with this id, or 404."""
    return await get_or_raise(session, Channel, channel_id, "channel")


async def delete(session: AsyncSession, channel_id: int) -> None:
    """Remove a channel (SMS queued for it fail over to the next channel of their route)."""
    await session.delete(await get(session, channel_id))


async def webhook_channel(session: AsyncSession, kind: str, name: str) -> Channel:
    """The channel of this kind and name a webhook is posted to, or 404.

    A channel turned off (`active: false`, while its handset is being fixed) still takes
    what its app posts, once authenticated: an alert that reached the handset is not
    refused (the app would give it up after its retries, about two days). Nothing is sent
    through it meanwhile. A lost or stolen handset is shut out by removing its channel or
    changing its signing key."""
    channel = await repo.by_name(session, name)
    if channel is None or channel.kind != kind:
        raise NotFound(f"no {kind} channel named {name!r}")
    return channel


async def named(session: AsyncSession, name: str) -> Channel:
    """The channel with this name, or 404."""
    channel = await repo.by_name(session, name)
    if channel is None:
        raise NotFound(f"no channel named {name!r}")
    return channel


async def ensure_twilio(session: AsyncSession, settings: Settings) -> bool:
    """The Twilio settings as the channel `twilio` (last in the default route); True if added.

    Its credentials stay in the settings (KENGELE_TWILIO_*), where deployments keep them.
    """
    if await repo.by_name(session, TWILIO) is not None:
        return False
    numbers = [settings.twilio_from] if settings.twilio_from.startswith("+") else []
    rate, burst = settings.sms_rate_per_second, settings.sms_burst
    await repo.add(
        session,
        Channel(
            kind="twilio",
            name=TWILIO,
            numbers=numbers,
            options={},
            secrets={},
            zones=[],
            priority=100,
            rate_per_second=rate,
            burst=burst,
            active=True,
        ),
    )
    return True


async def ensure_demo(session: AsyncSession, settings: Settings) -> bool:
    """The demo's console handset, first in the routes; True if added."""
    if await repo.by_name(session, DEMO_CHANNEL) is not None:
        return False
    await create(
        session,
        settings,
        kind="console",
        name=DEMO_CHANNEL,
        numbers=["+243970000000"],
        options={"signing_key": DEMO_SIGNING_KEY},
        priority=1,
    )
    return True


async def heard(
    session: AsyncSession, name: str, *, heartbeat: bool = False, down: str | None = None
) -> Channel | None:
    """The channel `name` spoke (a heartbeat says it is up; with `down`, its provider says
    not): the channel, locked, when that turned it up or down; else None.

    A message coming in proves the phone receives, not that it can send: only heartbeats
    bring a channel back up.
    """
    channel = await repo.by_name(session, name, lock=True)
    if channel is None:
        return None
    if down is not None:
        flipped = mark_down(channel, down)
    else:
        seen(channel, heartbeat=heartbeat)
        flipped = heartbeat and mark_up(channel)
    return channel if flipped else None


def seen(channel: Channel, now: datetime | None = None, *, heartbeat: bool = False) -> None:
    """The channel just spoke to us (a message, a status, or a heartbeat)."""
    now = now or utcnow()
    if heartbeat:
        channel.last_heartbeat_at = now
    else:
        channel.last_inbound_at = now


def mark_down(channel: Channel, reason: str, now: datetime | None = None) -> bool:
    """The channel is known down (pages skip it); True when it was up until now."""
    if channel.down:
        return False
    channel.down = True
    channel.down_since = now or utcnow()
    channel.down_reason = reason[:200]
    return True


def down_for_failures(channel: Channel) -> bool:
    """Whether the channel is down because most of its sends failed (not for silence)."""
    return channel.down and (channel.down_reason or "").startswith(FAILING)


def mark_up(channel: Channel) -> bool:
    """The channel works again; True when it was down until now."""
    if not channel.down:
        return False
    channel.down = False
    channel.down_since = None
    channel.down_reason = None
    return True


def silent_too_long(channel: Channel, now: datetime) -> bool:
    """Whether a channel that sends heartbeats has missed them for its whole window."""
    if channel.heartbeat_seconds is None or channel.down:
        return False
    last = channel.last_heartbeat_at or channel.created_at
    return last is not None and (now - last).total_seconds() > channel.heartbeat_seconds


def channel_data(channel: Channel) -> dict[str, Any]:
    """A channel as events tell it (no secrets, no options)."""
    return {
        "id": channel.id,
        "name": channel.name,
        "kind": channel.kind,
        "active": channel.active,
        "zones": list(channel.zones or []),
        "down": channel.down,
        "down_since": channel.down_since.isoformat() if channel.down_since else None,
        "reason": channel.down_reason,
        "last_heartbeat_at": (
            channel.last_heartbeat_at.isoformat() if channel.last_heartbeat_at else None
        ),
        "last_inbound_at": channel.last_inbound_at.isoformat() if channel.last_inbound_at else None,
    }


async def find(session: AsyncSession, name: str, *, lock: bool = False) -> Channel | None:
    """The channel with this name, or None (`lock`: for an update of its state)."""
    return await repo.by_name(session, name, lock=lock)


async def by_ids(session: AsyncSession, ids: set[int]) -> Sequence[Channel]:
    """These channels (those that still exist)."""
    return await repo.by_ids(session, ids)


async def list_all(session: AsyncSession) -> Sequence[Channel]:
    """Every channel, in route order."""
    return await repo.list_all(session)


async def active(session: AsyncSession) -> Sequence[Channel]:
    """Channels in use, in route order."""
    return await repo.active(session)


async def lock_zones(session: AsyncSession) -> Sequence[Channel]:
    """The active channels, read fresh, one transaction at a time deciding on zones cut off
    (a lock held to the commit)."""
    return await repo.lock_zones(session)


async def lock_all(session: AsyncSession) -> Sequence[Channel]:
    """Every active channel, locked for a health check (one checker at a time)."""
    return await repo.lock_all(session)
