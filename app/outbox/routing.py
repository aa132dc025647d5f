"""Which channels an SMS leaves by, and where it goes when its channel fails.

A reply leaves by the channel its message came in on (and waits for it). A page leaves by
the liaison's own channels, else those of the zone followed by the other channels, else every
channel by priority; each route is ordered for failover. The Twilio settings are the channel
`twilio`, rated per sending number as before channels existed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.alerts.models import Alert
from app.channels import service as channel_service
from app.channels.models import TWILIO, Channel
from app.channels.service import down_for_failures
from app.inbound.models import InboundMessage
from app.kit.config import Settings
from app.people.models import Liaison

# Purposes that answer what a reporter or a liaison sent: by the channel it came in on.
REPLIES = frozenset({"reply", "reporter_ack", "reporter_resolved"})


def sending_number(settings: Settings) -> str:
    """The number (or Messaging Service) Twilio SMS go out from: the key of its rate limit."""
    return settings.twilio_messaging_service_sid or settings.twilio_from or settings.sms_provider


def rate_key(settings: Settings, via: str | None) -> str:
    """The token bucket an SMS by `via` draws from: per channel, Twilio's per number."""
    if via is None or via == TWILIO:
        return sending_number(settings)
    return via


async def rate_of(session: AsyncSession, settings: Settings, key: str) -> tuple[float, int]:
    """(SMS per second, burst) of a token bucket."""
    channel = await channel_service.find(session, key)
    return rate_in(settings, key, {key: channel} if channel is not None else {})


def rate_in(settings: Settings, key: str, channels: Mapping[str, Channel]) -> tuple[float, int]:
    """(SMS per second, burst) of a token bucket, from channels already read (by name)."""
    channel = channels.get(key)
    if channel is None or channel.name == TWILIO:
        return settings.sms_rate_per_second, settings.sms_burst
    return channel.rate_per_second, channel.burst


def _in_zones(channels: Sequence[Channel], zones: set[str]) -> list[str]:
    return [c.name for c in channels if zones & {z.lower() for z in c.zones or []}]


async def route(
    session: AsyncSession,
    *,
    purpose: str,
    via: str | None = None,
    liaison_id: int | None = None,
    alert_id: int | None = None,
) -> list[str]:
    """The channels an SMS may leave by, in failover order (empty: the configured provider)."""
    live = await channel_service.active(session)
    names = [c.name for c in live]
    if via is not None:
        return [via] if via in names else []
    if purpose in REPLIES and alert_id is not None:
        came_in = await session.scalar(
            select(InboundMessage.provider)
            .where(InboundMessage.alert_id == alert_id)
            .order_by(InboundMessage.id)
            .limit(1)
        )
        if came_in in names:
            return [came_in]
    liaison = await session.get(Liaison, liaison_id) if liaison_id is not None else None
    if liaison is not None and liaison.channels:
        own = [n for n in liaison.channels if n in names]
        if own:
            return own
    zones: set[str] = set()
    if liaison is not None:
        zones |= {z.lower() for z in liaison.zones or []}
    alert = await session.get(Alert, alert_id) if alert_id is not None else None
    if alert is not None:
        zones |= {z.lower() for z in (alert.admin2, alert.admin1) if z}
    # The zone's channels first; the others after them, so that a zone served by one
    # handset still has somewhere to fail over to.
    in_zone = _in_zones(live, zones)
    return in_zone + [n for n in names if n not in in_zone]


async def next_channel(
    session: AsyncSession, delivery_route: list[str], via: str | None, *, cyclic: bool
) -> str | None:
    """The next channel of a route after `via` that is not known down (`cyclic`: wrap round,
    and when none is up, the first one down only for its failed sends: the last way out,
    which is still tried rather than the SMS waiting for ever)."""
    if via not in delivery_route:
        return None
    at = delivery_route.index(via)
    after = delivery_route[at + 1 :] + (delivery_route[:at] if cyclic else [])
    failing = None
    for name in after:
        channel = await channel_service.find(session, name)
        if channel is None or not channel.active:
            continue
        if not channel.down:
            return name
        if failing is None and down_for_failures(channel):
            failing = name
    return failing if cyclic else None
