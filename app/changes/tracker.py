"""Numbers every committed change of an alert or an incident, so that a poller never misses one.

Each transaction that changes alerts or incidents takes a block of BLOCK numbers, the first of
which comes from the transaction itself; the rows it changes carry their number in the same
INSERT/UPDATE that changes them (no second statement), and the change log gets one multi-row
INSERT at commit. No row is updated by every writer:

- PostgreSQL: the block is the transaction's id (pg_current_xact_id, 64 bits, never wraps)
  times BLOCK, plus a fixed offset (see _offset). Transactions do not commit in the order of
  their ids, so readers never look past `current()`: the block of the oldest transaction still
  running (pg_snapshot_xmin of the current snapshot), less one. Everything numbered below it
  was committed (or rolled back) before the reader's next statement starts, and every
  transaction still to commit numbers above it. A long transaction holds changes numbered
  after it back from pollers until it ends; it never lets them skip one.
- SQLite: one writer at a time (units of work begin IMMEDIATE), so a counter row taken under
  the write lock numbers blocks in commit order; `current()` is the counter's value.
"""

from __future__ import annotations

import weakref
from typing import Any

from sqlalchemy import event, func, insert, select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import Session

from app.alerts.models import Alert, Incident
from app.changes.models import Change, Counter
from app.kit.clock import utcnow

COUNTER = "changes"
OFFSET = "changes_xid_offset"
CHANNEL = "kengele_changes"
# Numbers per transaction (a transaction changing more rows than this is refused).
BLOCK = 2**20
_TOUCHED = "kengele_changes_touched"
_WROTE = "kengele_changes_wrote"
_EVENTS = "kengele_changes_events"
_NUMBERS = "kengele_changes_numbers"

Tracked = Alert | Incident

# PostgreSQL: the offset added to transaction ids, per engine (read once per process).
_offsets: weakref.WeakKeyDictionary[Engine, int] = weakref.WeakKeyDictionary()


def _highest_in_use(conn: Connection) -> int:
    return max(
        conn.execute(select(func.coalesce(func.max(column), 0))).scalar() or 0
        for column in (Change.seq, Alert.change_seq, Incident.change_seq)
    )


def _offset(conn: Connection) -> int:
    """What PostgreSQL adds to transaction ids: 0, unless numbers in use are above them.

    Transaction ids restart low in a new cluster (a dump restored elsewhere) while the numbers
    in the tables do not; numbering must then go on above them. The offset is stored (counter
    row OFFSET) so that every process uses the same one; it is raised only when the numbers in
    use would otherwise go backwards, which happens only on the first start after a restore.
    """
    engine = conn.engine
    if engine in _offsets:
        return _offsets[engine]
    stored = conn.execute(select(Counter.value).where(Counter.name == OFFSET)).scalar()
    offset = int(stored or 0)
    xid = int(conn.execute(text("SELECT pg_current_xact_id()::text::bigint")).scalar() or 0)
    if (xid + offset) * BLOCK <= _highest_in_use(conn):
        offset = _highest_in_use(conn) // BLOCK + 1 - xid + 1
        conn.execute(
            pg_insert(Counter)
            .values(name=OFFSET, value=offset)
            .on_conflict_do_update(index_elements=[Counter.name], set_={"value": offset})
        )
    _offsets[engine] = offset
    return offset


def _first_number(conn: Connection) -> int:
    """The first number of this transaction's block."""
    if conn.dialect.name == "postgresql":
        offset = _offset(conn)
        xid = conn.execute(text("SELECT pg_current_xact_id()::text::bigint")).scalar()
        return (int(xid or 0) + offset) * BLOCK
    return next_numbers(conn, BLOCK) - BLOCK + 1


def current(conn: Connection) -> int:
    """The highest number a reader may go up to now: every change numbered up to it is
    committed and visible to the reader's next statement, every later one will number above."""
    if conn.dialect.name == "postgresql":
        offset = _offset(conn)
        xmin = conn.execute(
            text("SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint")
        ).scalar()
        return (int(xmin or 0) + offset) * BLOCK - 1
    value = conn.execute(select(Counter.value).where(Counter.name == COUNTER)).scalar()
    return int(value or 0)


def next_numbers(conn: Connection, count: int) -> int:
    """SQLite: take `count` numbers from the counter row; returns the last one."""
    stmt = (
        update(Counter)
        .where(Counter.name == COUNTER)
        .values(value=Counter.value + count)
        .returning(Counter.value)
    )
    value = conn.execute(stmt).scalar()
    if value is None:  # the row is gone (emptied tables): start after every number in use
        ins = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
        start = _highest_in_use(conn)
        conn.execute(ins(Counter).values(name=COUNTER, value=start).on_conflict_do_nothing())
        value = conn.execute(stmt).scalar()
    assert value is not None
    return int(value)


def _number(session: Session) -> int:
    """The next number of this transaction's block."""
    numbers: list[int] | None = session.info.get(_NUMBERS)
    if numbers is None:
        numbers = session.info[_NUMBERS] = [_first_number(session.connection()), 0]
    first, used = numbers
    if used >= BLOCK:
        raise RuntimeError(f"one transaction changed more than {BLOCK} alerts and incidents")
    numbers[1] = used + 1
    return first + used


def _before_flush(session: Session, _context: Any, _instances: Any) -> None:
    touched: dict[int, tuple[Tracked, bool]] = session.info.setdefault(_TOUCHED, {})
    for obj in session.new:
        if isinstance(obj, Alert | Incident):
            if id(obj) not in touched:
                obj.change_seq = _number(session)
            touched[id(obj)] = (obj, True)
    for obj in session.dirty:
        if isinstance(obj, Alert | Incident) and session.is_modified(obj):
            created = touched.get(id(obj), (obj, False))[1]
            if not created:  # a row made in this transaction is at its first version
                obj.version = (obj.version or 0) + 1
            if id(obj) not in touched:  # one number per row and transaction
                obj.change_seq = _number(session)
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
    now = utcnow()
    changes: list[dict[str, Any]] = []
    for obj, created in rows:
        if isinstance(obj, Alert):
            name = "alert.created" if created else "alert.updated"
        else:
            name = "incident.updated"
        changes.append({"seq": obj.change_seq, "at": now, "event": name, "entity_id": obj.id})
    for name, entity_id in events:
        changes.append({"seq": _number(session), "at": now, "event": name, "entity_id": entity_id})
    conn = session.connection()
    conn.execute(insert(Change), changes)
    if conn.dialect.name == "postgresql":
        # Transactional: listeners hear it when (and only if) this transaction commits.
        conn.execute(text(f"NOTIFY {CHANNEL}"))
    session.info[_WROTE] = True


def _forget(session: Session, *_: Any) -> None:
    session.info.pop(_TOUCHED, None)
    session.info.pop(_EVENTS, None)
    session.info.pop(_WROTE, None)
    session.info.pop(_NUMBERS, None)


def _committed(session: Session) -> None:
    session.info.pop(_NUMBERS, None)


def install(session_class: type[Session]) -> None:
    """Track changes of alerts and incidents made through sessions of this class."""
    event.listen(session_class, "before_flush", _before_flush)
    event.listen(session_class, "before_commit", _before_commit)
    event.listen(session_class, "after_commit", _committed)
    event.listen(session_class, "after_soft_rollback", _forget)


def wrote_changes(session: Session) -> bool:
    """Whether the transaction that just committed numbered changes (read once)."""
    return bool(session.info.pop(_WROTE, False))
