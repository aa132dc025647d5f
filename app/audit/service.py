"""Recording who did what: written in the transaction of the action itself, so an action
that is rolled back leaves no entry and one that is committed always has its entry."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.audit import chain
from app.audit import repository as repo
from app.audit.models import AuditEntry
from app.kit import hooks
from app.kit.clock import utcnow

ACTOR_MAX = 100  # the column's length; key names may be as long as that on their own


def record(
    session: AsyncSession,
    *,
    actor: str,
    action: str,
    target_type: str,
    target_id: object,
    detail: dict[str, Any] | None = None,
) -> AuditEntry:
    """Stage an audit entry; it is committed with the caller's unit of work, linked into the
    log's hash chain when it is flushed."""
    entry = AuditEntry(
        at=utcnow(),
        actor=actor[:ACTOR_MAX],
        action=action,
        target_type=target_type,
        target_id=str(target_id),
        detail=detail or {},
    )
    repo.add(session, entry)
    hooks.before_flush(session, "admin log chain", chain.link_new_entries)
    return entry


# Reading the log is its query and nothing more: the repository's, as it is.
recent = repo.recent
