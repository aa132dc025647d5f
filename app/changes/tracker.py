"""Numbers every committed change of an alert or an incident, in commit order.

The number comes from one counter row that the committing transaction updates last, just
before it commits: the row lock makes a second writer wait until the first has committed,
so numbers are handed out in the order transactions become visible. A poller that asks for
changes after N therefore never misses one committed later with a smaller number, which a
plain autoincrement id or a timestamp would allow. The lock is taken last so that it never
waits behind another lock (no deadlock), and is held only for the commit itself.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import event, func, insert, select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from app.alerts.models import Alert, Incident
from app.changes.models import Change, Counter
from app.kit.clock import utcnow

COUNTER = "changes"
CHANNEL = "kengele_changes"
_TOUCHED = "kengele_changes_touched"
_WROTE = "kengele_changes_wrote"
_EVENTS = "kengele_changes_events"

Tracked = Alert | Incident


def next_numbers(conn: Connection, count: int) -> int:
    """Take `count` numbers of the change sequence; returns the last one (row-locked)."""
    stmt = (
        update(Counter)
        .where(Counter.name == COUNTER)
        .values(value=Counter.value + count)
        .returning(Counter.value)
    )
    value = conn.execute(stmt).scalar()
    if value is None:  # the row is gone (emptied tables): start after every number in use
        start = max(
            conn.execute(select(func.coalesce(func.max(column), 0))).scalar() or 0
            for column in (Change.seq, Alert.change_seq, Incident.change_seq)
        )
        ins = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
        conn.execute(ins(Counter).values(name=COUNTER, value=start).on_conflict_do_nothing())
        value = conn.execute(stmt).scalar()
    assert value is not None
    return int(value)


def _before_flush(session: Session, _context: Any, _instances: Any) -> None:
    touched: dict[int, tuple[Tracked, bool]] = session.info.setdefault(_TOUCHED, {})
    for obj in session.new:
        if isinstance(obj, Alert | Incident):
            touched[id(obj)] = (obj, True)
    for obj in session.dirty:
        if isinstance(obj, Alert | Incident) and session.is_modified(obj):
            created = touched.get(id(obj), (obj, False))[1]
            if not created:  # a row made in this transaction is at its first version
                obj.version = (obj.version or 0) + 1
            touched[id(obj)] = (obj, created)


def record(session: Session, event_name: str, entity_id: int) -> None:
    """Put an event of another kind (`channel.down`…) in the change log when this commits."""
    session.info.setdefault(_EVENTS, []).append((event_name, entity_id))


def _before_commit(session: Session) -> None:
    session.flush()
    touched: dict[int, tuple[Tracked, bool]] = session.info.pop(_TOUCHED, {})
    rows = [(obj, created) for obj, created in touched.values() if obj in session]
    events: list[tuple[str, int]] = session.info.pop(_EVENTS, [])
    if not rows and not events:
        return
    conn = session.connection()
    last = next_numbers(conn, len(rows) + len(events))
    now = utcnow()
    changes: list[dict[str, Any]] = []
    first_event = last - len(events) + 1
    for seq, (name, entity_id) in enumerate(events, start=first_event):
        changes.append({"seq": seq, "at": now, "event": name, "entity_id": entity_id})
    for seq, (obj, created) in enumerate(rows, start=first_event - len(rows)):
        model = type(obj)
        conn.execute(
            update(model)
            .where(model.id == obj.id)
            .values(change_seq=seq, updated_at=model.updated_at)
        )
        set_committed_value(obj, "change_seq", seq)
        if isinstance(obj, Alert):
            name = "alert.created" if created else "alert.updated"
        else:
            name = "incident.updated"
        changes.append({"seq": seq, "at": now, "event": name, "entity_id": obj.id})
    conn.execute(insert(Change), changes)
    if conn.dialect.name == "postgresql":
        # Transactional: listeners hear it when (and only if) this transaction commits.
        conn.execute(text(f"NOTIFY {CHANNEL}"))
    session.info[_WROTE] = True


def _forget(session: Session, *_: Any) -> None:
    session.info.pop(_TOUCHED, None)
    session.info.pop(_EVENTS, None)
    session.info.pop(_WROTE, None)


def install(session_class: type[Session]) -> None:
    """Track changes of alerts and incidents made through sessions of this class."""
    event.listen(session_class, "before_flush", _before_flush)
    event.listen(session_class, "before_commit", _before_commit)
    event.listen(session_class, "after_soft_rollback", _forget)


def wrote_changes(session: Session) -> bool:
    """Whether the transaction that just committed numbered changes (read once)."""
    return bool(session.info.pop(_WROTE, False))
