"""Retention: what is past its time goes, in small batches; the records statistics need stay.

An alert keeps its category, severity, place, times, counts, status and trail; what goes
are the words (report, summary), the copies of messages (inbound forms, texts sent) and
the numbers texts were sent to. `kengele purge --dry-run` counts, `kengele purge` and the
worker's `retention` loop remove.
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.kit.clock import utcnow
from app.kit.config import Settings
from app.kit.db import unit_of_work
from app.retention import repository as repo
from app.retention.kinds import (
    ALERT_TEXT,
    CLOSED_ALERT_TEXTS,
    DELIVERY_NUMBERS,
    KINDS,
    MESSAGE_TEXTS,
    PURGED_TEXT,
    RAW_MESSAGES,
    cutoffs,
)

log = logging.getLogger("kengele.retention")


async def count_due(session: AsyncSession, settings: Settings, now: datetime) -> dict[str, int]:
    """For each kind, how many rows a purge at `now` would change (0 for a kind kept)."""
    limits = cutoffs(settings, now)
    counts: dict[str, int] = {}
    for kind in KINDS:
        cutoff = limits.of(kind)
        counts[kind] = 0 if cutoff is None else await repo.count_due(session, kind, cutoff)
    return counts


async def purge_batch(
    session: AsyncSession, settings: Settings, kind: str, now: datetime, limit: int
) -> int:
    """Remove `kind` from at most `limit` rows past their time; returns how many."""
    cutoff = cutoffs(settings, now).of(kind)
    if cutoff is None:
        return 0
    ids = await repo.due_ids(session, kind, cutoff, limit)
    if not ids:
        return 0
    if kind == RAW_MESSAGES:
        await repo.purge_raw(session, ids)
    elif kind == MESSAGE_TEXTS:
        await repo.purge_delivery_texts(session, ids)
    elif kind == DELIVERY_NUMBERS:
        await repo.purge_delivery_numbers(session, ids)
    elif kind == CLOSED_ALERT_TEXTS:
        for alert in await repo.alerts_by_ids(session, ids):
            alert.body = PURGED_TEXT
            alert.summary = None
            alert.purged = (alert.purged or 0) | ALERT_TEXT
    return len(ids)


async def purge(
    sessionmaker: async_sessionmaker[AsyncSession],
    settings: Settings,
    now: datetime | None = None,
    *,
    max_batches: int | None = None,
) -> dict[str, int]:
    """Purge every kind past its time, one transaction per batch; returns counts per kind.

    `max_batches` bounds the batches of each kind (the worker's pass); None goes to the end.
    """
    now = now or utcnow()
    done = dict.fromkeys(KINDS, 0)
    for kind in KINDS:
        batches = 0
        while max_batches is None or batches < max_batches:
            async with unit_of_work(sessionmaker) as session:
                n = await purge_batch(session, settings, kind, now, settings.retention_batch)
            done[kind] += n
            batches += 1
            if n < settings.retention_batch:
                break
    if any(done.values()):
        log.info("retention: purged %s", ", ".join(f"{k}={v}" for k, v in done.items() if v))
    return done
