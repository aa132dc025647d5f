"""An admin's edits of the channels, and the zones they cut off or give back.

Adding, changing or removing a channel can leave a zone with no channel up (its last one
deactivated, its zones edited) or give one back. Other systems hear it as they hear a channel
going down or up (app.flows.channel_health): a `zone.unreachable` or `zone.reachable` webhook
event per zone, comparing the zones cut off before and after the edit, and the on-duty JOC
officers by SMS. Every edit is also a `channel.edited` event of the live stream, on which the
operations page reads the channels' health again.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.channels import service as channels
from app.channels.models import Channel
from app.flows import channel_health
from app.kit.changes import record
from app.kit.config import Settings

# The live stream's event for an admin's edit (the channel's state, or {"id", "removed"}).
EDITED = "channel.edited"


async def create(
    session: AsyncSession, settings: Settings, fields: Mapping[str, Any]
) -> tuple[Channel, dict[str, str]]:
    """A new channel and its secrets (app.channels.service.create takes `fields`)."""
    before = await channel_health.cut_off(session)
    channel, secrets = await channels.create(session, settings, **fields)
    data = channels.channel_data(channel)
    await channel_health.tell_edited(session, settings, before, data, "ajoute")
    record(session.sync_session, EDITED, channel.id)
    return channel, secrets


async def update(
    session: AsyncSession, settings: Settings, channel_id: int, changes: Mapping[str, Any]
) -> Channel:
    """Change what was given (app.channels.service.update)."""
    before = await channel_health.cut_off(session)
    channel = await channels.update(session, settings, channel_id, changes)
    data = channels.channel_data(channel)
    await channel_health.tell_edited(session, settings, before, data, "modifie")
    record(session.sync_session, EDITED, channel.id)
    return channel


async def delete(session: AsyncSession, settings: Settings, channel_id: int) -> None:
    """Remove a channel (app.channels.service.delete)."""
    before = await channel_health.cut_off(session)
    data = channels.channel_data(await channels.get(session, channel_id))
    await channels.delete(session, channel_id)
    await channel_health.tell_edited(session, settings, before, data, "retire")
    record(session.sync_session, EDITED, channel_id)
