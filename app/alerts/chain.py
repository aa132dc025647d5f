"""The hash chain of each alert's trail of events (hashing: app/audit/chain.py).

Each alert event carries the SHA-256 of its own content and of the event before it in the
same alert's trail, computed when the row is written (`write_pending`). Two transactions
adding to the same alert's trail at once must not both link to the same previous event: on
PostgreSQL the alert's row is locked (SELECT … FOR UPDATE) before the last hash is read;
SQLite runs one writing transaction at a time (units of work begin IMMEDIATE).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import bindparam, insert, select
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from app.alerts.models import Alert, AlertEvent
from app.audit.chain import GENESIS, digest, pick
from app.kit import hooks
from app.kit.clock import utcnow

# The head of each trail this transaction has locked (or started), by alert id: a trail is
# locked and read once per transaction, however many events it gets.
_HEADS = "alerts.chain.heads"
_STARTED = "alerts.chain.started"
_LOCKED = "alerts.chain.locked"
_PENDING = "alerts.chain.pending"

EVENT_FIELDS = ("alert_id", "at", "actor", "action", "from_status", "to_status", "detail", "note")


def event_digest(row: AlertEvent | Mapping[str, Any], prev_hash: str) -> str:
    """The hash of an alert event (a model or a mapping of its columns)."""
    return digest(pick(row, EVENT_FIELDS), prev_hash)


def holds(events: Iterable[AlertEvent]) -> bool:
    """Whether one alert's whole trail, read in id order, is an unbroken chain."""
    head = GENESIS
    for row in events:
        if row.prev_hash != head or row.hash != event_digest(row, head):
            return False
        head = row.hash
    return True


def reseal(session: AsyncSession | Session, events: Sequence[AlertEvent]) -> str:
    """Link one alert's whole trail (id order) again after its texts were rewritten on
    purpose (an erasure); the new head, which a later event of this transaction links to.
    Whoever calls it records that in the audit log."""
    head = GENESIS
    for row in events:
        row.prev_hash = head
        row.hash = head = event_digest(row, head)
    if events:
        hooks.transaction(session).setdefault(_HEADS, {})[events[0].alert_id] = head
    return head


# Built once (an alert's trail grows at every report joining it): the id is a parameter.
# FOR NO KEY UPDATE, as every lock of an alert (app.alerts.repository.lock): appends to one
# trail still take turns, and rows that only point at the alert (a page, a webhook event)
# are written by others meanwhile. FOR UPDATE waited for those writers' KEY SHARE locks: a
# worker that wrote a dead page's `delivery.dead` event and then waited for the escalation
# this transaction holds made a cycle (tests/outbox/test_dead_page_locks.py).
_LOCK_ALERT = (
    select(Alert.id).where(Alert.id == bindparam("alert_id")).with_for_update(key_share=True)
)
_LAST_HASH = (
    select(AlertEvent.hash)
    .where(AlertEvent.alert_id == bindparam("alert_id"))
    .order_by(AlertEvent.id.desc())
    .limit(1)
)


# The head is read by a statement of its own, after the lock is held, never in the locking
# statement: under READ COMMITTED a statement that waited for the lock sees the row's new
# version but reads other tables (the trail) as of when it started, so an event committed
# by the transaction it waited for would be missed, and the chain would fork.
def _last_event_hash(conn: Connection, alert_id: int, *, lock: bool) -> str:
    if lock and conn.dialect.name == "postgresql":
        conn.execute(_LOCK_ALERT, {"alert_id": alert_id})
    last = conn.execute(_LAST_HASH, {"alert_id": alert_id}).scalar()
    return last or GENESIS


def started(session: AsyncSession | Session, alert_id: int) -> None:
    """The alert was inserted by this transaction: its trail starts at the genesis, and no
    other transaction can append to it before this one commits (nothing to lock or read)."""
    state = hooks.transaction(session)
    state.setdefault(_HEADS, {})[alert_id] = GENESIS
    state.setdefault(_STARTED, set()).add(alert_id)


def locked(session: AsyncSession | Session, alert_id: int) -> None:
    """This transaction holds the alert's row lock (app.alerts.repository.lock): appending
    to its trail needs only the head read."""
    hooks.transaction(session).setdefault(_LOCKED, set()).add(alert_id)


def started_here(session: AsyncSession | Session, alert_id: int | None) -> bool:
    """Whether this transaction inserted the alert (`started`)."""
    return alert_id in hooks.transaction(session).get(_STARTED, ())


def append(session: AsyncSession | Session, row: dict[str, Any]) -> None:
    """Queue an event for its alert's trail. The events of a transaction are chained and
    written in one INSERT before its next flush, before it commits, or before a trail is
    read in it (`write_pending`): through the driver, not the unit of work, which costs
    more per row than the insert itself."""
    state = hooks.transaction(session)
    state.setdefault(_PENDING, []).append(row)
    hooks.before_flush(session, _PENDING, write_pending)
    hooks.before_commit(session, _PENDING, write_pending)


def queued(session: AsyncSession | Session) -> list[dict[str, Any]]:
    """The events `append` queued in this transaction and not yet written (their columns)."""
    rows: list[dict[str, Any]] = hooks.transaction(session).get(_PENDING, [])
    return rows


def write_pending(session: Session) -> None:
    """Chain and insert the events queued in this transaction (`append`), if any."""
    state = hooks.transaction(session)
    rows: list[dict[str, Any]] = state.pop(_PENDING, [])
    if not rows:
        return
    now = utcnow()
    heads: dict[int, str] = state.setdefault(_HEADS, {})
    held: set[int] = state.get(_LOCKED, set())
    conn = session.connection()
    # In id order, so that two transactions never wait for each other's alerts crosswise.
    for alert_id in sorted({row["alert_id"] for row in rows} - heads.keys()):
        heads[alert_id] = _last_event_hash(conn, alert_id, lock=alert_id not in held)
    for row in rows:
        row["at"] = now
        row["prev_hash"] = heads[row["alert_id"]]
        row["hash"] = heads[row["alert_id"]] = event_digest(row, row["prev_hash"])
    conn.execute(_INSERT_EVENTS, rows)


_INSERT_EVENTS = insert(AlertEvent)
