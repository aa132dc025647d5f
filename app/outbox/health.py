"""Channel health: heartbeats missed, channels down and up, what the operations room hears.

A channel goes down when its provider says so (httpSMS `phone.heartbeat.offline`), when it
misses its heartbeats for its window (`heartbeat_seconds`), or when it fails most of its sends
(at least FAILING_MIN_SENDS attempts in the last FAILING_WINDOW, more than FAILING_RATIO of
them failed); a heartbeat brings it back, and so does a send that succeeds. A channel down
for its failures is still tried: as a probe once every `channel_probe_seconds` (half-open,
app.outbox.channels), and always when no other channel of a route is up. Each change is a
`channel.down` / `channel.up` webhook event, an event of the live stream, and one SMS to each
on-duty JOC officer by a live channel. While a channel is down, pages skip it and SMS whose
every channel is down wait (app.outbox.service).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import case, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.alerts.models import Alert
from app.channels import repository as channels_repo
from app.channels import service as channels
from app.channels.models import Channel
from app.kit.changes import Change, record
from app.kit.clock import utcnow
from app.kit.config import Settings
from app.outbox import service as outbox
from app.outbox.models import PENDING, Delivery, DeliveryAttempt
from app.people.models import Liaison

log = logging.getLogger(__name__)

# SMS to the JOC officers; GSM-7 and one segment whatever the channel's name (≤ 32).
DOWN_TEXT = "Kengele: canal {name} en panne depuis {at} UTC ({reason}); SMS par un autre canal."
UP_TEXT = "Kengele: canal {name} de nouveau en service ({at} UTC)."
# When the channel going down was the last of one or more zones: this one SMS instead.
ZONE_TEXT = (
    "Kengele: zone {zone} sans canal SMS depuis {at} UTC: canal {name} en panne ({reason}), "
    "les autres aussi; {n} pages en attente."
)
# Failing most sends: at least 8 attempts (sent or refused) in the last 15 minutes, more than
# half of them refused. A provider refusing 30% of requests (retried, so still delivering)
# stays up; one refusing everything is down after 8 attempts. Fewer attempts may be one bad
# number or a short blip (with 5, a provider failing 30% at random has 3 of 5 failed one
# time in six); a longer window keeps a channel that failed at noon down in the afternoon's
# count. Attempts before its last `channel.up` do not count.
FAILING_WINDOW = timedelta(minutes=15)
FAILING_MIN_SENDS = 8
FAILING_RATIO = 0.5
# Attempts that reached (or tried to reach) the provider; "down" ones sent nothing.
_SENT = ("ok", "retry", "error")
_FAILED = ("retry", "error")


async def changed(session: AsyncSession, settings: Settings, channel: Channel) -> None:
    """Tell everyone that `channel` went down or came back (call once per change)."""
    event = "channel.down" if channel.down else "channel.up"
    log.warning(
        "channel %s is %s: %s",
        channel.name,
        "down" if channel.down else "up",
        channel.down_reason or "heartbeat",
    )
    await outbox.emit_event(session, settings, event, {"channel": channels.channel_data(channel)})
    record(session.sync_session, event, channel.id)
    at = utcnow().strftime("%Y-%m-%d %H:%M")
    text = (DOWN_TEXT if channel.down else UP_TEXT).format(
        name=channel.name, at=at, reason=(channel.down_reason or "")[:40]
    )
    if channel.down:
        # A zone this channel served that no channel serves now: the room must hear it at once,
        # in the same single SMS (one per officer, however many zones it cut off).
        zones = {z.lower() for z in channel.zones or []}
        cuts = [cut for cut in await unreachable(session) if cut.zone.lower() in zones]
        if cuts:
            text = ZONE_TEXT.format(
                zone=", ".join(c.zone for c in cuts)[:40],
                at=at,
                name=channel.name,
                reason=(channel.down_reason or "")[:40],
                n=sum(c.waiting_pages for c in cuts),
            )
    texts = [text]
    stmt = select(Liaison).where(Liaison.tier == "joc", Liaison.on_duty, Liaison.active)
    for officer in (await session.scalars(stmt)).all():
        for body in texts:
            await outbox.enqueue_sms(
                session,
                settings,
                to=officer.phone,
                body=body,
                purpose="channel",
                liaison_id=officer.id,
            )


async def check(session: AsyncSession, settings: Settings, now: datetime | None = None) -> int:
    """Mark down the channels silent past their heartbeat window or failing most sends;
    returns how many."""
    now = now or utcnow()
    down = 0
    for channel in await channels_repo.lock_all(session):
        reason = None
        if channels.silent_too_long(channel, now):
            reason = f"no heartbeat for {(channel.heartbeat_seconds or 0) // 60} min"
        elif not channel.down:
            reason = await _failing(session, channel, now)
        if reason is not None:
            channels.mark_down(channel, reason, now)
            await changed(session, settings, channel)
            down += 1
    return down


async def _failing(session: AsyncSession, channel: Channel, now: datetime) -> str | None:
    """Why the channel counts as failing most of its sends, or None."""
    since = now - FAILING_WINDOW
    last_up = await session.scalar(
        select(func.max(Change.at)).where(
            Change.event == "channel.up", Change.entity_id == channel.id
        )
    )
    if last_up is not None and last_up > since:
        since = last_up
    sends, failed = (await _sends(session, since, channel.name)).get(channel.name, (0, 0))
    if sends < FAILING_MIN_SENDS or failed <= FAILING_RATIO * sends:
        return None
    minutes = int(FAILING_WINDOW.total_seconds() // 60)
    return f"{channels.FAILING}: {failed} of {sends} sends failed in {minutes} min"


async def sent(session: AsyncSession, settings: Settings, name: str) -> None:
    """A send by channel `name` succeeded: a channel down for its failures is up again."""
    channel = await channels_repo.by_name(session, name)
    if channel is None or not channels.down_for_failures(channel):
        return
    channel = await channels_repo.by_name(session, name, lock=True)
    if channel is not None and channels.down_for_failures(channel) and channels.mark_up(channel):
        await changed(session, settings, channel)


async def probe_due(session: AsyncSession, settings: Settings, channel: Channel) -> bool:
    """Whether a channel down for its failures may be tried again (half-open): its last
    attempt that reached the provider is `channel_probe_seconds` old or more."""
    if not channels.down_for_failures(channel):
        return False
    last = await session.scalar(
        select(func.max(DeliveryAttempt.at)).where(
            DeliveryAttempt.channel == channel.name, DeliveryAttempt.status.in_(_SENT)
        )
    )
    times = [t for t in (last, channel.down_since) if t is not None]
    if not times:
        return True
    return (utcnow() - max(times)).total_seconds() >= settings.channel_probe_seconds


async def _sends(
    session: AsyncSession, since: datetime, name: str | None = None
) -> dict[str, tuple[int, int]]:
    """Sends and failed sends per channel since `since` (of channel `name` only if given)."""
    failed = case((DeliveryAttempt.status.in_(_FAILED), 1), else_=0)
    stmt = (
        select(DeliveryAttempt.channel, func.count(), func.sum(failed))
        .where(
            DeliveryAttempt.at >= since,
            DeliveryAttempt.channel.is_not(None),
            DeliveryAttempt.status.in_(_SENT),
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
    stats = await _sends(session, (now or utcnow()) - timedelta(hours=1))
    waiting_rows = await session.execute(
        select(Delivery.via, func.count())
        .where(Delivery.status == PENDING, Delivery.last_error == outbox.WAITING)
        .group_by(Delivery.via)
    )
    waiting = {via: int(n) for via, n in waiting_rows}
    return [
        Health(c, *stats.get(c.name, (0, 0)), waiting.get(c.name, 0))
        for c in await channels_repo.list_all(session)
    ]


@dataclass(frozen=True)
class Unreachable:
    """A zone whose every channel is down, and its pages that cannot leave meanwhile."""

    zone: str
    channels: list[str]
    since: datetime | None
    waiting_pages: int


async def unreachable(session: AsyncSession) -> list[Unreachable]:
    """The zones (as channels name them) whose every active channel is down."""
    live = await channels_repo.active(session)
    down = {c.name for c in live if c.down}
    served: dict[str, list[Channel]] = {}
    names: dict[str, str] = {}
    for channel in live:
        for zone in channel.zones or []:
            served.setdefault(zone.lower(), []).append(channel)
            names.setdefault(zone.lower(), zone)
    out = []
    for key, serving in sorted(served.items()):
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
        out.append(Unreachable(names[key], [c.name for c in serving], since, int(waiting or 0)))
    return out
