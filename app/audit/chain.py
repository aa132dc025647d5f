"""Hash chains over the audit trails, so that a row changed or removed behind the
application's back is found (`kengele audit verify`): the hashing, and the admin log's chain.

Each entry of the admin audit log carries the SHA-256 of its own content and of the entry
before it, in one chain for the whole log; each alert event does the same in its alert's
trail (app/alerts/chain.py). The hash is computed when the row is flushed, from the values
as the application sees them (plain text, even where a column is stored encrypted), so a
key rotation leaves the chains valid.

Two transactions adding to the log at once must not both link to the same previous entry:
on PostgreSQL the log takes a transaction-scoped advisory lock before the last hash is read;
SQLite runs one writing transaction at a time (units of work begin IMMEDIATE).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import instance_state

from app.audit.models import AuditEntry
from app.kit.clock import as_utc, utcnow

GENESIS = "0" * 64
# Any constant: the key of the advisory lock that serialises appends to the admin log.
AUDIT_LOCK_KEY = 0x6B656E67  # "keng"

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


def audit_digest(row: AuditEntry | Mapping[str, Any], prev_hash: str) -> str:
    """The hash of an admin audit log entry (a model or a mapping of its columns)."""
    return digest(pick(row, AUDIT_FIELDS), prev_hash)


def pick(row: Any, names: Iterable[str]) -> dict[str, Any]:
    """The named fields of a row (a model or a mapping of its columns)."""
    if isinstance(row, Mapping):
        return {name: row[name] for name in names}
    return {name: getattr(row, name) for name in names}


def in_order(objects: Iterable[object], kind: type) -> list[Any]:
    """The objects of `kind` among these, in the order they were added to the session."""
    found = [o for o in objects if isinstance(o, kind)]
    return sorted(found, key=lambda o: instance_state(o).insert_order or 0)


def _last_audit_hash(conn: Connection) -> str:
    if conn.dialect.name == "postgresql":
        conn.execute(select(func.pg_advisory_xact_lock(AUDIT_LOCK_KEY)))
    last = conn.execute(select(AuditEntry.hash).order_by(AuditEntry.id.desc()).limit(1)).scalar()
    return last or GENESIS


def link_new_entries(session: Session) -> None:
    """Before a flush: chain the admin log entries about to be written (app.audit.service
    asks for it in the transaction of each entry)."""
    entries = in_order(session.new, AuditEntry)
    if not entries:
        return
    now = utcnow()
    head = _last_audit_hash(session.connection())
    for entry in entries:
        entry.at = entry.at or now
        entry.detail = entry.detail if entry.detail is not None else {}
        entry.prev_hash = head
        entry.hash = audit_digest(entry, head)
        head = entry.hash
