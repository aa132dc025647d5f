"""The hash chain of each alert's trail of events (hashing: app/audit/chain.py).

Each alert event carries the SHA-256 of its own content and of the event before it in the
same alert's trail, computed when the row is flushed. Two transactions adding to the same
alert's trail at once must not both link to the same previous event: on PostgreSQL the
alert's row is locked (SELECT … FOR UPDATE) before the last hash is read; SQLite runs one
writing transaction at a time (units of work begin IMMEDIATE).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from app.alerts.models import Alert, AlertEvent
from app.audit.chain import GENESIS, digest, in_order, pick
from app.kit.clock import utcnow

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


def reseal(events: Iterable[AlertEvent]) -> str:
    """Link one alert's whole trail (id order) again after its texts were rewritten on
    purpose (an erasure); the new head. Whoever calls it records that in the audit log."""
    head = GENESIS
    for row in events:
        row.prev_hash = head
        row.hash = head = event_digest(row, head)
    return head


def _last_event_hash(conn: Connection, alert_id: int) -> str:
    if conn.dialect.name == "postgresql":
        conn.execute(select(Alert.id).where(Alert.id == alert_id).with_for_update())
    last = conn.execute(
        select(AlertEvent.hash)
        .where(AlertEvent.alert_id == alert_id)
        .order_by(AlertEvent.id.desc())
        .limit(1)
    ).scalar()
    return last or GENESIS


def link_new_events(session: Session) -> None:
    """Before a flush: chain the alert events about to be written (add_event asks for it in
    the transaction of each event)."""
    events = in_order(session.new, AlertEvent)
    if not events:
        return
    conn = session.connection()
    now = utcnow()
    heads: dict[int, str] = {}
    # In id order, so that two transactions never wait for each other's alerts crosswise.
    for alert_id in sorted({e.alert_id for e in events}):
        heads[alert_id] = _last_event_hash(conn, alert_id)
    for row in events:
        row.at = row.at or now
        row.detail = row.detail if row.detail is not None else {}
        row.prev_hash = heads[row.alert_id]
        row.hash = event_digest(row, row.prev_hash)
        heads[row.alert_id] = row.hash
