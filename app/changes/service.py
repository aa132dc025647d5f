"""What the live stream sends: changes as Server-Sent Events, rendered for one caller."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.alerts.models import Incident
from app.alerts.schemas import IncidentRead
from app.changes import repository as repo
from app.channels import service as channels_service
from app.channels.service import channel_data
from app.escalation.reads import alert_reads
from app.kit.changes import Change
from app.kit.pagination import MAX_SEQ

BATCH = 200


def sse(event: str, data: dict[str, Any], event_id: int | None = None) -> str:
    """One Server-Sent Event."""
    lines = []
    if event_id is not None:
        lines.append(f"id: {event_id}")
    lines.append(f"event: {event}")
    lines.append("data: " + json.dumps(data, separators=(",", ":"), default=str))
    return "\n".join(lines) + "\n\n"


def parse_last_event_id(value: str | None) -> int | None:
    """The change number in a Last-Event-ID header; None when absent or not one of ours."""
    text = (value or "").strip()
    # ASCII digits only ("\u00b2" is a digit to isdigit, not to int), and no more of them
    # than a change number has (int() refuses thousands).
    if not (text.isascii() and text.isdigit()) or len(text) > len(str(MAX_SEQ)):
        return None
    return int(text)


async def render(session: AsyncSession, changes: Sequence[Change], *, mask_phone: bool) -> str:
    """The events of these changes, with the current state of what changed."""
    alert_ids = {c.entity_id for c in changes if c.event.startswith("alert.")}
    incident_ids = {c.entity_id for c in changes if c.event.startswith("incident.")}
    found = await repo.alerts_by_ids(session, alert_ids)
    alerts = {r.id: r for r in await alert_reads(session, found, mask_phone=mask_phone)}
    incidents = {i.id: i for i in await repo.incidents_by_ids(session, incident_ids)}
    channel_ids = {c.entity_id for c in changes if c.event.startswith("channel.")}
    channels = {c.id: c for c in await channels_service.by_ids(session, channel_ids)}
    out: list[str] = []
    for change in changes:
        body: dict[str, Any] = {"seq": change.seq, "event": change.event}
        if change.event.startswith("channel."):
            channel = channels.get(change.entity_id)
            if channel is not None:
                body["channel"] = channel_data(channel)
            elif change.event == "channel.edited":  # removed by an admin
                body["channel"] = {"id": change.entity_id, "removed": True}
            else:
                continue
        elif change.event.startswith("alert."):
            alert = alerts.get(change.entity_id)
            if alert is None:
                continue
            body["alert"] = alert.model_dump(mode="json")
        else:
            incident: Incident | None = incidents.get(change.entity_id)
            if incident is None:
                continue
            body["incident"] = IncidentRead.model_validate(incident).model_dump(mode="json")
        out.append(sse(change.event, body, change.seq))
    return "".join(out)


async def current(session: AsyncSession) -> int:
    """The last change number given out (committed changes are numbered up to it)."""
    return await repo.current(session)


async def start_after(session: AsyncSession, last_event_id: int | None) -> tuple[int, str]:
    """Where a stream starts, and a `stream.reset` event when what was missed is not kept."""
    current = await repo.current(session)
    if last_event_id is None:
        return current, ""
    if last_event_id > current:
        # Not one of ours (another database, emptied tables): start from now, and say so.
        return current, _reset("unknown Last-Event-ID", current)
    if last_event_id == current:
        return current, ""
    oldest = await repo.oldest_kept(session)
    if oldest is None or last_event_id < oldest - 1:
        # Changes after Last-Event-ID were forgotten (older than the replay window).
        start = current if oldest is None else oldest - 1
        return start, _reset("events after Last-Event-ID are no longer kept; reload", start)
    return last_event_id, ""


def _reset(reason: str, seq: int) -> str:
    return sse("stream.reset", {"reason": reason, "seq": seq}, seq)


async def next_batch(session: AsyncSession, after: int) -> Sequence[Change]:
    """The next changes to send."""
    return await repo.after(session, after, BATCH)


async def last_at(session: AsyncSession, event: str, entity_id: int) -> datetime | None:
    """When the last change `event` (`channel.up`…) of the entity `entity_id` was logged."""
    return await repo.last_at(session, event, entity_id)


async def prune(session: AsyncSession, before: datetime) -> int:
    """Forget changes older than `before` (an unbroken run is kept); returns how many."""
    return await repo.prune(session, before)
