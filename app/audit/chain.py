"""Hash chains over the audit trails, so that a row changed or removed behind the
application's back is found (`kengele audit verify`).

Each alert event carries the SHA-256 of its own content and of the event before it in the
same alert's trail; each entry of the admin audit log does the same in one chain for the
whole log. The hash is computed when the row is flushed, from the values as the application
sees them (plain text, even where a column is stored encrypted), so a key rotation leaves
the chains valid.

Two transactions adding to the same chain at once must not both link to the same previous
row: on PostgreSQL the alert's row is locked (SELECT … FOR UPDATE) and the admin log takes
a transaction-scoped advisory lock before the last hash is read; SQLite runs one writing
transaction at a time (units of work begin IMMEDIATE).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import event, func, select
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import instance_state

from app.alerts.models import Alert, AlertEvent
from app.audit.models import AuditEntry
from app.kit.clock import as_utc, utcnow

GENESIS = "0" * 64
# Any constant: the key of the advisory lock that serialises appends to the admin log.
AUDIT_LOCK_KEY = 0x6B656E67  # "keng"

EVENT_FIELDS = ("alert_id", "at", "actor", "action", "from_status", "to_status", "detail", "note")
AUDIT_FIELDS = ("at", "actor", "action", "target_type", "target_id", "detail")


def _canonical(value: Any) -> Any:
    """A value in a form that survives the trip through the database unchanged."""
    if isinstance(value, datetime):
        return as_utc(value).isoformat(timespec="microseconds")
    if isinstance(value, Mapping | list | tuple):
        # JSON columns give back lists for tuples and string keys for numbers.
        return json.loads(json.dumps(value, default=str))
    return value


def digest(fields: Mapping[str, Any], prev_hash: str) -> str:
    """SHA-256 (hex) of a row's fields and the previous hash, serialised canonically:
    JSON with sorted keys, no spaces, times in UTC ISO 8601 to the microsecond."""
    document = {name: _canonical(value) for name, value in fields.items()}
    document["prev_hash"] = prev_hash
    text = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def event_digest(row: AlertEvent | Mapping[str, Any], prev_hash: str) -> str:
    """The hash of an alert event (a model or a mapping of its columns)."""
    return digest(_pick(row, EVENT_FIELDS), prev_hash)


def audit_digest(row: AuditEntry | Mapping[str, Any], prev_hash: str) -> str:
    """The hash of an admin audit log entry (a model or a mapping of its columns)."""
    return digest(_pick(row, AUDIT_FIELDS), prev_hash)


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


def _pick(row: Any, names: Iterable[str]) -> dict[str, Any]:
    if isinstance(row, Mapping):
        return {name: row[name] for name in names}
    return {name: getattr(row, name) for name in names}


def _in_order(objects: Iterable[object], kind: type) -> list[Any]:
    found = [o for o in objects if isinstance(o, kind)]
    return sorted(found, key=lambda o: instance_state(o).insert_order or 0)


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


def _last_audit_hash(conn: Connection) -> str:
    if conn.dialect.name == "postgresql":
        conn.execute(select(func.pg_advisory_xact_lock(AUDIT_LOCK_KEY)))
    last = conn.execute(select(AuditEntry.hash).order_by(AuditEntry.id.desc()).limit(1)).scalar()
    return last or GENESIS


def _before_flush(session: Session, _context: Any, _instances: Any) -> None:
    events = _in_order(session.new, AlertEvent)
    entries = _in_order(session.new, AuditEntry)
    if not events and not entries:
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
    if entries:
        head = _last_audit_hash(conn)
        for entry in entries:
            entry.at = entry.at or now
            entry.detail = entry.detail if entry.detail is not None else {}
            entry.prev_hash = head
            entry.hash = audit_digest(entry, head)
            head = entry.hash


def install(session_class: type[Session]) -> None:
    """Chain the alert events and audit entries written through sessions of this class."""
    event.listen(session_class, "before_flush", _before_flush)
