"""Channels going down and coming back, and who hears of it.

A channel goes down when its provider says so (httpSMS `phone.heartbeat.offline`), when it
misses its heartbeats for its window (`heartbeat_seconds`), or when it fails most of its sends
(at least FAILING_MIN_SENDS attempts in the last FAILING_WINDOW, more than FAILING_RATIO of
them failed); a heartbeat brings it back, and so does a send that succeeds (the worker asks
app.outbox.health.came_back, then `changed` here). Each change is a `channel.down` /
`channel.up` webhook event, an event of the live stream, and one SMS to each on-duty JOC
officer by a live channel. A change that leaves zones with no channel up, or gives one back,
is also a `zone.unreachable` / `zone.reachable` webhook event per zone (meanwhile no channel
of the zone can carry its pages; a channel outside it may, if their route has one). The
runtime's "watch-channels" loop runs `check`.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.changes import service as changes
from app.channels import service as channels
from app.channels.models import Channel
from app.kit.changes import record
from app.kit.clock import utcnow
from app.kit.config import Settings
from app.outbox import health, subscriptions
from app.outbox import service as outbox
from app.people import service as people

log = logging.getLogger(__name__)

# SMS to the JOC officers; GSM-7 and one segment whatever the channel's name (≤ 32).
DOWN_TEXT = "Kengele: canal {name} en panne depuis {at} UTC ({reason}); SMS par un autre canal."
UP_TEXT = "Kengele: canal {name} de nouveau en service ({at} UTC)."
# When the channel going down was the last of one or more zones: this one SMS instead.
ZONE_TEXT = (
    "Kengele: zone {zone} sans canal SMS depuis {at} UTC: canal {name} en panne ({reason}), "
    "les autres aussi; {n} pages en attente."
)
# When an admin's edit of a channel leaves zones with no channel up, or gives them back.
# One GSM-7 segment with the longest zone (40, cut), name (32) and `at` (HH:MM).
EDIT_CUT_TEXT = (
    "Kengele: zone {zone} sans canal: {name} {what} par un admin a {at} UTC; {n} pages en attente."
)
EDIT_BACK_TEXT = "Kengele: zone {zone} de nouveau servie par un canal SMS ({at} UTC, canal {name})."
# Failing most sends: at least 8 attempts (sent or refused) in the last 15 minutes, more than
# half of them refused. A provider refusing 30% of requests (retried, so still delivering)
# stays up; one refusing everything is down after 8 attempts. Fewer attempts may be one bad
# number or a short blip (with 5, a provider failing 30% at random has 3 of 5 failed one
# time in six); a longer window keeps a channel that failed at noon down in the afternoon's
# count. Attempts before its last `channel.up` do not count.
FAILING_WINDOW = timedelta(minutes=15)
FAILING_MIN_SENDS = 8
FAILING_RATIO = 0.5


async def changed(session: AsyncSession, settings: Settings, channel: Channel) -> None:
    """Tell everyone that `channel` went down or came back (call once per change)."""
    event = "channel.down" if channel.down else "channel.up"
    log.warning(
        "channel %s is %s: %s",
        channel.name,
        "down" if channel.down else "up",
        channel.down_reason or "heartbeat",
    )
    data = channels.channel_data(channel)
    await subscriptions.emit_event(session, settings, event, {"channel": data})
    record(session.sync_session, event, channel.id)
    at = utcnow().strftime("%Y-%m-%d %H:%M")
    text = (DOWN_TEXT if channel.down else UP_TEXT).format(
        name=channel.name, at=at, reason=(channel.down_reason or "")[:40]
    )
    # One transaction at a time decides on zones, on the channels as they are committed: two
    # channels of a zone changing at once must neither both miss its cut nor both tell it.
    live = await channels.lock_zones(session)
    if channel.down:
        # A zone this channel served that no channel serves now: the room must hear it at once,
        # in the same single SMS (one per officer, however many zones it cut off).
        zones = {z.lower() for z in channel.zones or []}
        cuts = [c for c in await health.unreachable(session, live) if c.zone.lower() in zones]
        for cut in cuts:
            zone = health.zone_data(cut)
            await subscriptions.emit_event(
                session, settings, "zone.unreachable", {"zone": zone, "channel": data}
            )
        if cuts:
            text = ZONE_TEXT.format(
                zone=", ".join(c.zone for c in cuts)[:40],
                at=at,
                name=channel.name,
                reason=(channel.down_reason or "")[:40],
                n=sum(c.waiting_pages for c in cuts),
            )
    else:
        for zone in health.restored_by(channel, live):
            await subscriptions.emit_event(
                session, settings, "zone.reachable", {"zone": zone, "channel": data}
            )
    await _tell_joc(session, settings, text)


async def check(session: AsyncSession, settings: Settings, now: datetime | None = None) -> int:
    """Mark down the channels silent past their heartbeat window or failing most sends;
    returns how many."""
    now = now or utcnow()
    down = 0
    for channel in await channels.lock_all(session):
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
    last_up = await changes.last_at(session, "channel.up", channel.id)
    if last_up is not None and last_up > since:
        since = last_up
    sends, failed = (await health.sends(session, since, channel.name)).get(channel.name, (0, 0))
    if sends < FAILING_MIN_SENDS or failed <= FAILING_RATIO * sends:
        return None
    minutes = int(FAILING_WINDOW.total_seconds() // 60)
    return f"{channels.FAILING}: {failed} of {sends} sends failed in {minutes} min"


async def cut_off(session: AsyncSession) -> dict[str, health.Unreachable]:
    """The zones cut off now, by lower-case name, one transaction deciding at a time: what an
    edit of the channels is compared with (`tell_edited`)."""
    live = await channels.lock_zones(session)
    return {cut.zone.lower(): cut for cut in await health.unreachable(session, live)}


async def tell_edited(
    session: AsyncSession,
    settings: Settings,
    before: dict[str, health.Unreachable],
    channel: dict[str, Any],
    what: str,
) -> None:
    """After an admin's edit of `channel` (its event data; `what`: ajoute, modifie, retire):
    a `zone.unreachable` event per zone it cut off, a `zone.reachable` per zone it gave back,
    and one SMS to each on-duty JOC officer for each of the two, as a channel's fall gets:
    an edit that silences a zone by mistake must not go unseen."""
    live = await channels.lock_zones(session)  # (its statements flush the edit first)
    after = {cut.zone.lower(): cut for cut in await health.unreachable(session, live)}
    cut = [after[key] for key in sorted(after.keys() - before.keys())]
    back = [before[key] for key in sorted(before.keys() - after.keys())]
    for zone in cut:
        await subscriptions.emit_event(
            session,
            settings,
            "zone.unreachable",
            {"zone": health.zone_data(zone), "channel": channel},
        )
    for zone in back:
        data = {"zone": zone.zone, "channels": health.serving(live, zone.zone)}
        await subscriptions.emit_event(
            session, settings, "zone.reachable", {"zone": data, "channel": channel}
        )
    at = utcnow().strftime("%H:%M")
    texts = []
    if cut:
        texts.append(
            EDIT_CUT_TEXT.format(
                zone=", ".join(z.zone for z in cut)[:40],
                at=at,
                name=channel["name"],
                what=what,
                n=sum(z.waiting_pages for z in cut),
            )
        )
    if back:
        zones = ", ".join(z.zone for z in back)[:40]
        texts.append(EDIT_BACK_TEXT.format(zone=zones, at=at, name=channel["name"]))
    for text in texts:
        await _tell_joc(session, settings, text)


async def _tell_joc(session: AsyncSession, settings: Settings, text: str) -> None:
    """One SMS to each on-duty JOC officer (routed like any SMS: by a live channel)."""
    for officer in await people.on_duty(session, "joc"):
        await outbox.enqueue_sms(
            session, settings, to=officer.phone, body=text, purpose="channel", liaison_id=officer.id
        )
