"""SQL for the audit log."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit.models import AuditEntry
from app.kit.repository import newest_first


def add(session: AsyncSession, entry: AuditEntry) -> None:
    """Stage an entry (it is written with the change it accounts for)."""
    session.add(entry)


async def recent(
    session: AsyncSession,
    *,
    before: int | None = None,
    limit: int = 50,
    action: str | None = None,
    target_type: str | None = None,
    target_id: str | None = None,
) -> Sequence[AuditEntry]:
    """Entries newest first, older than the entry `before` when given."""
    query = newest_first(select(AuditEntry), AuditEntry.id, before, limit)
    if action is not None:
        query = query.where(AuditEntry.action == action)
    if target_type is not None:
        query = query.where(AuditEntry.target_type == target_type)
    if target_id is not None:
        query = query.where(AuditEntry.target_id == target_id)
    return (await session.scalars(query)).all()
