"""Alerts as the operations room reads them: each with how far its paging went."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict

from sqlalchemy.ext.asyncio import AsyncSession

from app.alerts import reliability
from app.alerts.models import Alert
from app.alerts.schemas import AlertRead, PagingRead, ReliabilityRead
from app.escalation.repository import paging_states


async def alert_reads(
    session: AsyncSession, alerts: Sequence[Alert], *, mask_phone: bool
) -> list[AlertRead]:
    """Alerts as the operations room sees them, with how far their paging went."""
    states = await paging_states(session, alerts)
    histories: dict[int, reliability.Reliability] = {}
    if not mask_phone:  # a focal point's record is for the operations room only
        ids = sorted({a.reporter_id for a in alerts if a.reporter_id is not None})
        histories = await reliability.of_reporters(session, ids)
    reads = []
    for alert in alerts:
        read = AlertRead.of(alert, mask_phone=mask_phone)
        state = states.get(alert.id)
        if state is not None:
            read.paging = PagingRead(**asdict(state))
        if alert.reporter_id is not None and not mask_phone:
            history = histories.get(alert.reporter_id, reliability.Reliability())
            read.reporter_reliability = ReliabilityRead.of(history)
        reads.append(read)
    return reads
