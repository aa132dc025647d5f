"""Channel health as the outbox sees it: whether a channel down for its failed sends may be
probed, how many sends each channel made and failed, which zones no live channel serves.

A channel down for its failures is still tried: as a probe once every
`channel_probe_seconds` (half-open, app.outbox.channels), and always when no other channel of
a route is up; a send that succeeds brings it back (`came_back`). When channels go down and
come back, and who hears of it, is app.flows.channel_health. While a channel is down, pages
skip it and SMS whose every channel is down wait (app.outbox.service).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import case, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.alerts.models import Alert
from app.channels import service as channels
from app.channels.models import Channel
from app.kit.clock import utcnow
from app.kit.config import Settings
from app.outbox import service as outbox
from app.outbox.models import CHANNEL_SMS, PENDING, Delivery, DeliveryAttempt

# Attempts that reached (or tried to reach) the provider; "down" ones sent nothing.
_SENT = ("ok", "retry", "error")
_FAILED = ("retry", "error")


async def came_back(session: AsyncSession, name: str) -> Channel | None:
    """A send by channel `name` succeeded: a channel down for its failures is up again.
    Returns the channel when it came back (to be announced, app.flows.channel_health)."""
    channel = await channels.find(session, name)
    if channel is None or not channels.down_for_failures(channel):
        return None
    channel = await channels.find(session, name, lock=True)
    if channel is not None and channels.down_for_failures(channel) and channels.mark_up(channel):
        return channel
    return None


async def probe_due(session: AsyncSession, settings: Settings, channel: Channel) -> bool:
    """Whether a channel down for its failures may be tried again (half-open): its last SMS
    attempt that reached the provider is `channel_probe_seconds` old or more (its calls, as
    `sends` says, are not what it is down for)."""
    if not channels.down_for_failures(channel):
        return False
    last = await session.scalar(
        select(func.max(DeliveryAttempt.at))
        .join(Delivery, Delivery.id == DeliveryAttempt.delivery_id)
        .where(
            DeliveryAttempt.channel == channel.name,
            DeliveryAttempt.status.in_(_SENT),
            Delivery.channel == CHANNEL_SMS,
        )
    )
    times = [t for t in (last, channel.down_since) if t is not None]
    if not times:
        return True
    return (utcnow() - max(times)).total_seconds() >= settings.channel_probe_seconds


async def sends(
    session: AsyncSession, since: datetime, name: str | None = None
) -> dict[str, tuple[int, int]]:
    """SMS sends and failed SMS sends per channel since `since` (of channel `name` only if
    given).

    Only SMS: a voice call goes by a channel's provider too (`via` twilio, app.outbox.voice)
    and its attempts name that channel, but calls refused (a number that cannot call) say
    nothing of the channel's SMS; counted, they marked the SMS channel down.
    """
    failed = case((DeliveryAttempt.status.in_(_FAILED), 1), else_=0)
    stmt = (
        select(DeliveryAttempt.channel, func.count(), func.sum(failed))
        .join(Delivery, Delivery.id == DeliveryAttempt.delivery_id)
        .where(
            DeliveryAttempt.at >= since,
            DeliveryAttempt.channel.is_not(None),
            DeliveryAttempt.status.in_(_SENT),
            Delivery.channel == CHANNEL_SMS,
        )
        .group_by(DeliveryAttempt.channel)
    )
    if name is not None:
        stmt = stmt.where(DeliveryAttempt.channel == name)
    return {str(c): (int(n), int(bad or 0)) for c, n, bad in await session.execute(stmt)}


@dataclass(frozen=True)
class Health:
    """One channel's state, and its sends over the last hour."""

    channel: Channel
    sends_last_hour: int
    failures_last_hour: int
    waiting: int


async def report(session: AsyncSession, now: datetime | None = None) -> list[Health]:
    """Every channel's health, in route order."""
    stats = await sends(session, (now or utcnow()) - timedelta(hours=1))
    waiting_rows = await session.execute(
        select(Delivery.via, func.count())
        .where(Delivery.status == PENDING, Delivery.last_error == outbox.WAITING)
        .group_by(Delivery.via)
    )
    waiting = {via: int(n) for via, n in waiting_rows}
    return [
        Health(c, *stats.get(c.name, (0, 0)), waiting.get(c.name, 0))
        for c in await channels.list_all(session)
    ]


@dataclass(frozen=True)
class Unreachable:
    """A zone whose every channel is down, and its pages that cannot leave meanwhile."""

    zone: str
    channels: list[str]
    since: datetime | None
    waiting_pages: int


def _zones(live: Sequence[Channel]) -> dict[str, tuple[str, list[Channel]]]:
    """Each zone the active channels name (by its lower-case key): its name as the first
    channel in route order spells it, and the channels that name it, in route order."""
    zones: dict[str, tuple[str, list[Channel]]] = {}
    for channel in live:
        for zone in dict.fromkeys(z.lower() for z in channel.zones or []):
            spelled = next(z for z in channel.zones or [] if z.lower() == zone)
            zones.setdefault(zone, (spelled, []))[1].append(channel)
    return zones


def serving(live: Sequence[Channel], zone: str) -> list[str]:
    """The names of the active channels (`live`) that name `zone`, in route order."""
    return [c.name for c in _zones(live).get(zone.lower(), ("", []))[1]]


def restored_by(channel: Channel, live: Sequence[Channel]) -> list[dict[str, object]]:
    """The zones `channel`, back up, serves that were cut off until now (every other active
    channel that names them is down), as their webhook event tells them: `zone` and the
    `channels` that name it. `live`: the active channels as `channels.lock_zones` read them."""
    if not channel.active:
        return []
    mine = {z.lower() for z in channel.zones or []}
    return [
        {"zone": name, "channels": [c.name for c in named]}
        for key, (name, named) in _zones(live).items()
        if key in mine and all(c.down for c in named if c.id != channel.id)
    ]


def zone_data(cut: Unreachable) -> dict[str, object]:
    """A zone cut off, as its webhook event tells it."""
    return {
        "zone": cut.zone,
        "channels": cut.channels,
        "since": cut.since.isoformat() if cut.since else None,
        "waiting_pages": cut.waiting_pages,
    }


async def unreachable(
    session: AsyncSession, live: Sequence[Channel] | None = None
) -> list[Unreachable]:
    """The zones (as channels name them) whose every active channel is down (`live`: the
    active channels, when the caller read them fresh; else as this transaction read them)."""
    if live is None:
        live = await channels.active(session)
    down = {c.name for c in live if c.down}
    out = []
    for key, (name, serving) in sorted(_zones(live).items()):
        if not all(c.down for c in serving):
            continue
        # Pages of the zone's alerts whose channel is down now: none of them has left.
        waiting = await session.scalar(
            select(func.count())
            .select_from(Delivery)
            .join(Alert, Alert.id == Delivery.alert_id)
            .where(
                Delivery.purpose == "page",
                Delivery.status == PENDING,
                Delivery.via.in_(down),
                or_(func.lower(Alert.admin2) == key, func.lower(Alert.admin1) == key),
            )
        )
        since = max((c.down_since for c in serving if c.down_since), default=None)
        out.append(Unreachable(name, [c.name for c in serving], since, int(waiting or 0)))
    return out
