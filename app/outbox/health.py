"""Channel health: heartbeats missed, channels down and up, what the operations room hears.

A channel goes down when its provider says so (httpSMS `phone.heartbeat.offline`) or when it
misses its heartbeats for its window (`heartbeat_seconds`); a heartbeat brings it back. Each
change is a `channel.down` / `channel.up` webhook event, an event of the live stream, and an
SMS to the on-duty JOC officers by a live channel. While a channel is down, pages skip it and
SMS whose every channel is down wait (app.outbox.service).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.changes.tracker import record
from app.channels import repository as channels_repo
from app.channels import service as channels
from app.channels.models import Channel
from app.config import Settings
from app.kit.clock import utcnow
from app.outbox import service as outbox
from app.outbox.models import PENDING, Delivery, DeliveryAttempt
from app.people.models import Liaison

log = logging.getLogger(__name__)

# SMS to the JOC officers; GSM-7 and one segment whatever the channel's name (≤ 32).
DOWN_TEXT = "Kengele: canal {name} en panne depuis {at} UTC ({reason}); SMS par un autre canal."
UP_TEXT = "Kengele: canal {name} de nouveau en service ({at} UTC)."


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
    stmt = select(Liaison).where(Liaison.tier == "joc", Liaison.on_duty, Liaison.active)
    for officer in (await session.scalars(stmt)).all():
        await outbox.enqueue_sms(
            session, settings, to=officer.phone, body=text, purpose="channel", liaison_id=officer.id
        )


async def check(session: AsyncSession, settings: Settings, now: datetime | None = None) -> int:
    """Mark down the channels silent past their heartbeat window; returns how many."""
    now = now or utcnow()
    down = 0
    for channel in await channels_repo.lock_all(session):
        if channels.silent_too_long(channel, now):
            minutes = (channel.heartbeat_seconds or 0) // 60
            channels.mark_down(channel, f"no heartbeat for {minutes} min", now)
            await changed(session, settings, channel)
            down += 1
    return down


@dataclass(frozen=True)
class Health:
    """One channel's state, and its sends over the last hour."""

    channel: Channel
    sends_last_hour: int
    failures_last_hour: int
    waiting: int


async def report(session: AsyncSession, now: datetime | None = None) -> list[Health]:
    """Every channel's health, in route order."""
    since = (now or utcnow()) - timedelta(hours=1)
    failed = case((DeliveryAttempt.status.in_(("retry", "error")), 1), else_=0)
    sent = DeliveryAttempt.status.in_(("ok", "retry", "error"))
    rows = await session.execute(
        select(DeliveryAttempt.channel, func.count(), func.sum(failed))
        .where(DeliveryAttempt.at >= since, DeliveryAttempt.channel.is_not(None), sent)
        .group_by(DeliveryAttempt.channel)
    )
    stats = {name: (int(n), int(bad or 0)) for name, n, bad in rows}
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
