"""What providers report: how an SMS or call fared, and that a channel spoke.

Twilio's status callbacks and a channel's delivery receipts land here: the delivery moves
forward only (app.outbox.service.apply_status); a failure goes to the next channel of its
route (app.outbox.service.fail_over), and when none is left a failed page goes to the next
liaison of the zone, else its JOC (app.escalation.service.on_page_failed). A page the outbox
worker gives up on (dead: a permanent refusal such as an unsubscribed or invalid number, or its
last attempt used) goes the same way (`page_dead`, the worker's hook). A channel that went up or
down is announced (app.flows.channel_health.changed).
"""

from __future__ import annotations

import asyncio
import logging
from functools import partial

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.alerts import service as alerts
from app.channels import service as channels
from app.escalation import service as escalation
from app.flows import channel_health
from app.kit import metrics
from app.kit.config import Settings
from app.kit.db import retry_conflicts, unit_of_work
from app.kit.errors import conflicted
from app.outbox import service as outbox
from app.outbox.models import PAGING, Delivery

log = logging.getLogger(__name__)
# A callback can overtake the worker's record of the provider's answer by milliseconds: an
# unknown id is looked for again after each of these pauses, then kept (`apply_early`).
UNKNOWN_SID_PAUSES = (0.05, 0.1, 0.25, 0.5, 1.0, 0.0)
# How often the statuses kept for an id no delivery had yet are looked at again.
EARLY_STATUS_SECONDS = 5.0


async def record_status(
    sessionmaker: async_sessionmaker[AsyncSession],
    settings: Settings,
    provider_id: str,
    status: str,
    error_code: int | None,
    channel: str | None = None,
) -> bool:
    """A provider's word on an SMS: forward only; a failure goes to the next channel of its
    route, else to the next liaison. False when no delivery has this id yet: the status is
    then kept, and applied once its send's result is recorded (`apply_early`).

    `channel`: the gateway app's channel that reported it, whose sends alone it may move
    (None: Twilio's, whose ids are unique)."""

    async def look(keep: bool) -> bool:
        async with unit_of_work(sessionmaker) as session:
            found = await _apply(session, settings, provider_id, status, error_code, channel)
            if not found and keep:
                outbox.keep_early_status(session, provider_id, status, error_code, channel)
        return found

    for pause in UNKNOWN_SID_PAUSES:
        # The last look keeps it for later. A look the database aborted for a conflict (the
        # delivery and its alert or escalation locked in another order) is tried again: a
        # failed page's status lost would page nobody else. Aborted every time, the status
        # is kept, and applied by `apply_early` as one that came early.
        try:
            found = await retry_conflicts(
                partial(look, pause == 0.0),
                what=f"status of {channel or 'twilio'} message",
                counted=metrics.STATUS_CONFLICTS.inc,
            )
        except Exception as exc:
            if not conflicted(exc):
                raise
            async with unit_of_work(sessionmaker) as session:
                outbox.keep_early_status(session, provider_id, status, error_code, channel)
            log.warning("status of %s kept after conflicts, applied later", provider_id)
            return False
        if found:
            return True
        await asyncio.sleep(pause)
    log.warning("status of a message not recorded yet, kept: %s", provider_id)
    return False


async def apply_early(sessionmaker: async_sessionmaker[AsyncSession], settings: Settings) -> float:
    """A background loop's pass: the statuses kept for an id no delivery had, applied now
    that one has (its send's result recorded late: the worker retried through a database
    blip, say), as `record_status` would have; seconds to the next pass. Most passes find
    none, in a read that takes no write lock (SQLite's is the whole database's)."""
    async with sessionmaker() as session:
        if not await outbox.early_statuses_kept(session):
            return EARLY_STATUS_SECONDS
    async with unit_of_work(sessionmaker) as session:
        for early in await outbox.early_statuses_known(session):
            await _apply(
                session, settings, early.provider_id, early.status, early.error_code, early.channel
            )
    return EARLY_STATUS_SECONDS


async def _apply(
    session: AsyncSession,
    settings: Settings,
    provider_id: str,
    status: str,
    error_code: int | None,
    channel: str | None = None,
) -> bool:
    """Apply a provider's status; False when no delivery (of `channel`) has this id."""
    delivery, became = await outbox.apply_status(session, provider_id, status, error_code, channel)
    if delivery is None:
        return False
    if became == "failed" and not await outbox.fail_over(session, settings, delivery, None):
        await escalation.on_page_failed(session, settings, delivery)
    elif became == "delivered" and delivery.purpose in PAGING and delivery.alert_id is not None:
        await alerts.page_delivered(session, delivery.alert_id)
    return True


async def page_dead(session: AsyncSession, settings: Settings, delivery: Delivery) -> None:
    """The worker gave up on a delivery (dead), in the transaction that recorded it: a page
    goes to the next liaison of the zone, else its JOC, as an undelivered one does. Without
    this a page refused at once (Twilio 21610, 21211) paged nobody else: with a policy that
    pages one liaison, the alert waited for its next step, or for nobody."""
    await escalation.on_page_failed(session, settings, delivery)


async def record_call_status(
    sessionmaker: async_sessionmaker[AsyncSession],
    settings: Settings,
    provider_id: str,
    status: str,
    call_status: str,
) -> None:
    """A provider's word on a voice call (`status` as an SMS's, `call_status` its own)."""
    await record_status(sessionmaker, settings, provider_id, status, None)
    if status == "failed":
        async with unit_of_work(sessionmaker) as session:
            await outbox.note_call_failure(session, provider_id, call_status)


async def channel_heard(
    sessionmaker: async_sessionmaker[AsyncSession],
    settings: Settings,
    name: str,
    *,
    heartbeat: bool = False,
    down: str | None = None,
) -> None:
    """The channel spoke (see channels.heard); announce it when it went up or down."""
    async with unit_of_work(sessionmaker) as session:
        channel = await channels.heard(session, name, heartbeat=heartbeat, down=down)
        if channel is not None:
            await channel_health.changed(session, settings, channel)
