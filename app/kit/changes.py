"""Numbering committed changes (the write side of the change log), in commit order.

The number comes from one counter row that the committing transaction updates last, just
before it commits: the row lock makes a second writer wait until the first has committed,
so numbers are handed out in the order transactions become visible. A poller that asks for
changes after N therefore never misses one committed later with a smaller number, which a
plain autoincrement id or a timestamp would allow. The lock is taken last so that it never
waits behind another lock (no deadlock), and is held only for the commit itself.

This is plumbing that the alert, incident and channel services use, so it lives in the kit;
app.changes reads the log (polling, the live stream). Two ways in:
- `record(session, event, entity_id)`: an event of its own (`channel.down`…);
- `Numbered` models (an alert, an incident): `track` makes their flushes count, each row
  changed gets its next version and, at commit, a change number and a change-log row.
Either asks (app.kit.hooks.before_commit) for the numbering step of its transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Integer, String, bindparam, func, insert, select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Mapped, Session, mapped_column
from sqlalchemy.orm.attributes import set_committed_value

from app.kit import hooks
from app.kit.clock import utcnow
from app.kit.models import Base

COUNTER = "changes"
CHANNEL = "kengele_changes"
# The signal woken when a transaction numbered changes (app.kit.hooks.add_signal).
SIGNAL = "changes"
_TOUCHED = "changes.touched"
_EVENTS = "changes.events"
_STEP = "changes"
# Up to this many rows of a model are numbered from a VALUES list (_number_at_once), more
# from arrays: one statement text per count up to here, one for every larger count.
_LISTED_ROWS = 8


class Counter(Base):
    """A named counter; its row lock orders the transactions that take numbers from it."""

    __tablename__ = "counters"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    value: Mapped[int] = mapped_column(BigInteger, default=0)


class Change(Base):
    """One committed change (an alert, an incident, a channel), numbered in commit order."""

    __tablename__ = "changes"

    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    # alert.created, alert.updated, incident.updated, channel.down, channel.up
    event: Mapped[str] = mapped_column(String(32))
    entity_id: Mapped[int] = mapped_column(Integer)


@dataclass(frozen=True)
class Numbered:
    """A model whose rows carry `id`, `version`, `change_seq` and `updated_at`, and the
    change-log events of a row made and of a row changed."""

    model: type[Any]
    created: str
    updated: str


_numbered: dict[type[Any], Numbered] = {}


def track(model: type[Any], *, created: str, updated: str) -> None:
    """Version and number every change of `model`'s rows (registered once, at start)."""
    _numbered[model] = Numbered(model, created, updated)
    hooks.standing("change numbers", _touch)


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
        columns = [Change.seq, *(n.model.change_seq for n in _numbered.values())]
        start = max(
            conn.execute(select(func.coalesce(func.max(column), 0))).scalar() or 0
            for column in columns
        )
        ins = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
        conn.execute(ins(Counter).values(name=COUNTER, value=start).on_conflict_do_nothing())
        value = conn.execute(stmt).scalar()
    assert value is not None
    return int(value)


def _set_numbers(model: type[Any]) -> Any:
    """UPDATE of a model's change numbers, by row id (updated_at kept as it is)."""
    return (
        update(model.__table__)
        .where(model.__table__.c.id == bindparam("row_id"))
        .values(change_seq=bindparam("seq"), updated_at=model.__table__.c.updated_at)
    )


def record(session: Session, event_name: str, entity_id: int) -> None:
    """Put an event of another kind (`channel.down`…) in the change log when this commits."""
    hooks.transaction(session).setdefault(_EVENTS, []).append((event_name, entity_id))
    hooks.before_commit(session, _STEP, _number)


def _touch(session: Session) -> None:
    """Before a flush: the next version of each numbered row changed (a row made in this
    transaction stays at its first), and a number for it at commit."""
    touched: dict[int, tuple[Any, bool]] = hooks.transaction(session).setdefault(_TOUCHED, {})
    for obj in session.new:
        if type(obj) in _numbered:
            touched[id(obj)] = (obj, True)
    for obj in session.dirty:
        if type(obj) in _numbered and session.is_modified(obj):
            created = touched.get(id(obj), (obj, False))[1]
            if not created:
                obj.version = (obj.version or 0) + 1
            touched[id(obj)] = (obj, created)
    if touched:
        hooks.before_commit(session, _STEP, _number)


def _number(session: Session) -> None:
    state = hooks.transaction(session)
    touched: dict[int, tuple[Any, bool]] = state.pop(_TOUCHED, {})
    rows = [(obj, created) for obj, created in touched.values() if obj in session]
    events: list[tuple[str, int]] = state.pop(_EVENTS, [])
    if not rows and not events:
        return
    # Rows of one model together (alerts before the incidents they made, in the order the
    # models were tracked), then the events of other kinds: entry k takes the k-th number.
    order = list(_numbered)
    rows.sort(key=lambda row: order.index(type(row[0])))
    entries: list[tuple[str, int]] = []
    for obj, created in rows:
        numbered = _numbered[type(obj)]
        entries.append((numbered.created if created else numbered.updated, obj.id))
    entries.extend(events)
    conn = session.connection()
    last = None
    if conn.dialect.name == "postgresql":
        # Transactional: listeners hear it when (and only if) this transaction commits.
        hooks.notify_on_commit(session, CHANNEL)
        last = _number_at_once(session, rows, entries)
    if last is None:
        last = _number_step_by_step(conn, rows, entries)
    first = last - len(entries) + 1
    for offset, (obj, _created) in enumerate(rows):
        set_committed_value(obj, "change_seq", first + offset)
    hooks.signal_on_commit(session, SIGNAL)


def _number_at_once(
    session: Session, rows: list[tuple[Any, bool]], entries: list[tuple[str, int]]
) -> int | None:
    """PostgreSQL: take the numbers, set them on the rows, write the log and send the
    transaction's notifications (the stream's, the outbox's), in one statement; the last
    number, or None when the counter row is gone (nothing done, nothing sent)."""
    count = len(entries)
    params: dict[str, Any] = {
        "count": count,
        "name": COUNTER,
        "at": utcnow(),
        "offsets": list(range(1, count + 1)),
        "events": [name for name, _ in entries],
        "entity_ids": [entity_id for _, entity_id in entries],
    }
    conn = session.connection()
    parts = ["c AS (UPDATE counters SET value = value + :count WHERE name = :name RETURNING value)"]
    by_model: dict[type[Any], list[tuple[int, int]]] = {}
    for offset, (obj, _created) in enumerate(rows, start=1):
        by_model.setdefault(type(obj), []).append((obj.id, offset))
    for n, (model, numbered) in enumerate(by_model.items()):
        table = model.__tablename__
        if len(numbered) <= _LISTED_ROWS:
            # A few rows (a webhook's alert, the lead alert, their incident): listed, one
            # parameter each. PostgreSQL assumes ten rows in a bound array, costs a generic
            # plan at ten index probes per table, and so planned the statement again at
            # every call once the tables were large; a VALUES list has its true size.
            listed = []
            for k, (row_id, offset) in enumerate(numbered):
                params[f"id{n}_{k}"], params[f"o{n}_{k}"] = row_id, offset
                listed.append(f"(CAST(:id{n}_{k} AS integer), CAST(:o{n}_{k} AS bigint))")
            rows_sql = f"(VALUES {', '.join(listed)})"
        else:
            params[f"ids{n}"] = [row_id for row_id, _ in numbered]
            params[f"offsets{n}"] = [offset for _, offset in numbered]
            rows_sql = f"unnest(CAST(:ids{n} AS integer[]), CAST(:offsets{n} AS bigint[]))"
        parts.append(
            f"u{n} AS (UPDATE {table} SET change_seq = c.value - :count + t.o FROM c, "
            f"{rows_sql} AS t(id, o) WHERE {table}.id = t.id)"
        )
    parts.append(
        "log AS (INSERT INTO changes (seq, at, event, entity_id) "
        "SELECT c.value - :count + t.o, CAST(:at AS timestamptz), t.event, t.entity_id FROM c, "
        "unnest(CAST(:offsets AS bigint[]), CAST(:events AS varchar[]), "
        "CAST(:entity_ids AS integer[])) AS t(o, event, entity_id))"
    )
    channels = hooks.take_notifications(session)
    sql = f"WITH {', '.join(parts)} SELECT c.value, {hooks.notify_sql(channels)} FROM c"
    value = conn.execute(text(sql), params).scalar()
    if value is None:  # still to send, just before the commit
        for channel in channels:
            hooks.notify_on_commit(session, channel)
        return None
    return int(value)


def _number_step_by_step(
    conn: Connection, rows: list[tuple[Any, bool]], entries: list[tuple[str, int]]
) -> int:
    """The same in several statements (SQLite; PostgreSQL when the counter row is gone)."""
    last = next_numbers(conn, len(entries))
    first = last - len(entries) + 1
    now = utcnow()
    numbers: dict[type[Any], list[dict[str, int]]] = {}
    for offset, (obj, _created) in enumerate(rows):
        numbers.setdefault(type(obj), []).append({"row_id": obj.id, "seq": first + offset})
    for model, params in numbers.items():
        conn.execute(_set_numbers(model), params)
    changes = [
        {"seq": first + offset, "at": now, "event": name, "entity_id": entity_id}
        for offset, (name, entity_id) in enumerate(entries)
    ]
    conn.execute(insert(Change), changes)
    return last
