"""`kengele audit verify`: the admin log's chain and every alert's chain of events."""

from __future__ import annotations

from sqlalchemy import select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from app.alerts.chain import event_digest
from app.alerts.models import AlertEvent
from app.audit.chain import GENESIS
from app.audit.verify import BATCH, Break, Report, check, verify_audit_log


async def verify(session: AsyncSession, *, batch: int = BATCH) -> Report:
    """Check the admin audit log's chain and every alert's chain of events."""
    report = Report()
    await verify_audit_log(session, report, batch)
    await _verify_events(session, report, batch)
    report.breaks.sort(key=lambda b: (b.table, b.id))
    return report


async def _verify_events(session: AsyncSession, report: Report, batch: int) -> None:
    position = (0, 0)
    current: int | None = None
    head = GENESIS
    broken: set[int] = set()
    while True:
        rows = (
            await session.scalars(
                select(AlertEvent)
                .where(tuple_(AlertEvent.alert_id, AlertEvent.id) > tuple_(*position))
                .order_by(AlertEvent.alert_id, AlertEvent.id)
                .limit(batch)
            )
        ).all()
        for row in rows:
            report.events += 1
            if row.alert_id != current:
                current, head = row.alert_id, GENESIS
                report.alerts += 1
            if row.alert_id in broken:
                continue
            reason = check(row.prev_hash, row.hash, head, event_digest(row, row.prev_hash or ""))
            if reason:
                report.breaks.append(Break("alert_events", row.id, row.alert_id, reason))
                broken.add(row.alert_id)
                continue
            head = row.hash or GENESIS
        if len(rows) < batch:
            break
        position = (rows[-1].alert_id, rows[-1].id)
        session.expunge_all()
