"""Checking the hash chains of the audit trails (`kengele audit verify`): the report, and
the admin log's chain (the alert events' chains: app/alerts/verify.py).

Every chain is read in id order, a batch at a time; the first link of a chain that does not
hold is reported with its table, row id and alert. A row changed in place no longer matches
its hash; a row removed, inserted or re-hashed breaks the link of the row after it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit.chain import GENESIS, audit_digest
from app.audit.models import AuditEntry

BATCH = 1000


@dataclass(frozen=True)
class Break:
    """The first link of a chain that does not hold."""

    table: str
    id: int
    alert_id: int | None
    reason: str

    def describe(self) -> str:
        """One line for a terminal or a log."""
        alert = f" alert={self.alert_id}" if self.alert_id is not None else ""
        return f"{self.table} id={self.id}{alert}: {self.reason}"


@dataclass
class Report:
    """What a verification read and found."""

    events: int = 0
    alerts: int = 0
    entries: int = 0
    audit_head: str = GENESIS
    breaks: list[Break] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Whether every chain holds."""
        return not self.breaks


def check(stored_prev: str | None, stored: str | None, expected_prev: str, actual: str) -> str:
    """Why a link does not hold ("" when it does)."""
    if stored is None or stored_prev is None:
        return "no hash: the row was written outside the application"
    if stored_prev != expected_prev:
        return "broken link: a row before it in the chain was removed, added or re-hashed"
    if stored != actual:
        return "content changed: the row no longer matches its hash"
    return ""


async def verify_audit_log(session: AsyncSession, report: Report, batch: int) -> None:
    """Check the admin audit log's chain into `report`."""
    head = GENESIS
    after = 0
    while True:
        rows = (
            await session.scalars(
                select(AuditEntry).where(AuditEntry.id > after).order_by(AuditEntry.id).limit(batch)
            )
        ).all()
        for row in rows:
            report.entries += 1
            reason = check(row.prev_hash, row.hash, head, audit_digest(row, row.prev_hash or ""))
            if reason:
                report.breaks.append(Break("audit_log", row.id, None, reason))
                return
            head = row.hash or GENESIS
        if len(rows) < batch:
            break
        after = rows[-1].id
        session.expunge_all()
    report.audit_head = head
