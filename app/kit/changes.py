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
  changed gets its next version and, at commit, a change number and a change-log row;
  `touch(session, row)`: a row changed without a column of its own (an event in an alert's
  trail), its next version and `updated_at` written with its change number.
Either asks (app.kit.hooks.before_commit) for the numbering step of its transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import BigInteger, Integer, String, bindparam, func, insert, select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, Session, mapped_column
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.sql.elements import TextClause

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
    # alert.created, alert.updated, incident.updated, channel.down, channel.up, channel.edited
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


def tracked(model: type[Any]) -> bool:
    """Whether rows of `model` are numbered (`track`)."""
    return model in _numbered


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


def _bump(model: type[Any]) -> Any:
    """UPDATE of a touched row's version and `updated_at`, by row id."""
    table = model.__table__
    return (
        update(table)
        .where(table.c.id == bindparam("row_id"))
        .values(version=func.coalesce(table.c.version, 0) + 1, updated_at=bindparam("at"))
    )


def record(session: Session, event_name: str, entity_id: int) -> None:
    """Put an event of another kind (`channel.down`…) in the change log when this commits."""
    hooks.transaction(session).setdefault(_EVENTS, []).append((event_name, entity_id))
    hooks.before_commit(session, _STEP, _number)


@dataclass(frozen=True)
class Row:
    """A numbered row changed by the transaction: made by it (`created`), or touched only
    (`bump`: its next version and `updated_at` to be written with its number)."""

    obj: Any
    created: bool
    bump: bool

    @property
    def at(self) -> Any:
        """The `updated_at` to write (touched rows only: others keep theirs, and an attribute
        read here could be one to load again)."""
        return self.obj.updated_at if self.bump else None


def touch(session: AsyncSession | Session, obj: Any) -> None:
    """`obj`, a numbered row, changed without a column of its own changing (an event added
    to an alert's trail): its next version and `updated_at` go in with its change number,
    in the numbering statement at commit, instead of an UPDATE of their own before it. A
    row made in this transaction stays at its first version."""
    touched: dict[int, Row] = hooks.transaction(session).setdefault(_TOUCHED, {})
    row = touched.get(id(obj))
    if row is not None and row.created:
        return
    touched[id(obj)] = Row(obj, created=False, bump=True)
    set_committed_value(obj, "updated_at", utcnow())
    hooks.before_commit(session, _STEP, _number)


def _touch(session: Session) -> None:
    """Before a flush: the next version of each numbered row changed (a row made in this
    transaction stays at its first), and a number for it at commit. The flush writes that
    version (and `updated_at`, on update): a touch before it needs no second one."""
    touched: dict[int, Row] = hooks.transaction(session).setdefault(_TOUCHED, {})
    for obj in session.new:
        if type(obj) in _numbered:
            touched[id(obj)] = Row(obj, created=True, bump=False)
    for obj in session.dirty:
        if type(obj) in _numbered and session.is_modified(obj):
            row = touched.get(id(obj))
            created = row is not None and row.created
            if not created:
                obj.version = (obj.version or 0) + 1
            touched[id(obj)] = Row(obj, created=created, bump=False)
    if touched:
        hooks.before_commit(session, _STEP, _number)


def _number(session: Session) -> None:
    state = hooks.transaction(session)
    touched: dict[int, Row] = state.pop(_TOUCHED, {})
    rows = [row for row in touched.values() if row.obj in session]
    events: list[tuple[str, int]] = state.pop(_EVENTS, [])
    if not rows and not events:
        return
    # Rows of one model together (alerts before the incidents they made, in the order the
    # models were tracked), then the events of other kinds: entry k takes the k-th number.
    order = list(_numbered)
    rows.sort(key=lambda row: order.index(type(row.obj)))
    entries: list[tuple[str, int]] = []
    for row in rows:
        numbered = _numbered[type(row.obj)]
        entries.append((numbered.created if row.created else numbered.updated, row.obj.id))
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
    for offset, row in enumerate(rows):
        set_committed_value(row.obj, "change_seq", first + offset)
        if row.bump:
            set_committed_value(row.obj, "version", (row.obj.version or 0) + 1)
    hooks.signal_on_commit(session, SIGNAL)


@lru_cache(maxsize=256)
def _statement(sql: str) -> TextClause:
    """The numbering statement of one shape (tables, rows listed per table, channels), parsed
    once: a transaction's numbering is one of a few shapes, and parsing its text each time
    cost about a tenth of a commit."""
    return text(sql)


def _number_at_once(
    session: Session, rows: list[Row], entries: list[tuple[str, int]]
) -> int | None:
    """PostgreSQL: take the numbers, set them on the rows (with the next version of those
    touched only), write the log and send the transaction's notifications (the stream's,
    the outbox's), in one statement; the last number, or None when the counter row is gone
    (nothing done, nothing sent)."""
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
    by_model: dict[type[Any], list[tuple[Row, int]]] = {}
    for offset, row in enumerate(rows, start=1):
        by_model.setdefault(type(row.obj), []).append((row, offset))
    for n, (model, numbered) in enumerate(by_model.items()):
        table = model.__tablename__
        if len(numbered) <= _LISTED_ROWS:
            # A few rows (a webhook's alert, the lead alert, their incident): listed, one
            # parameter each. PostgreSQL assumes ten rows in a bound array, costs a generic
            # plan at ten index probes per table, and so planned the statement again at
            # every call once the tables were large; a VALUES list has its true size.
            listed = []
            for k, (row, offset) in enumerate(numbered):
                key = f"{n}_{k}"
                params[f"id{key}"], params[f"o{key}"] = row.obj.id, offset
                params[f"b{key}"], params[f"t{key}"] = row.bump, row.at
                listed.append(
                    f"(CAST(:id{key} AS integer), CAST(:o{key} AS bigint), "
                    f"CAST(:b{key} AS boolean), CAST(:t{key} AS timestamptz))"
                )
            rows_sql = f"(VALUES {', '.join(listed)})"
        else:
            params[f"ids{n}"] = [row.obj.id for row, _ in numbered]
            params[f"offsets{n}"] = [offset for _, offset in numbered]
            params[f"bumps{n}"] = [row.bump for row, _ in numbered]
            params[f"ats{n}"] = [row.at for row, _ in numbered]
            rows_sql = (
                f"unnest(CAST(:ids{n} AS integer[]), CAST(:offsets{n} AS bigint[]), "
                f"CAST(:bumps{n} AS boolean[]), CAST(:ats{n} AS timestamptz[]))"
            )
        # A row touched only (t.b) gets its next version and `updated_at` here: one new
        # version of the row, where an UPDATE of its own before this made two.
        parts.append(
            f"u{n} AS (UPDATE {table} SET change_seq = c.value - :count + t.o, "
            f"version = CASE WHEN t.b THEN coalesce({table}.version, 0) + 1 "
            f"ELSE {table}.version END, "
            f"updated_at = CASE WHEN t.b THEN t.at ELSE {table}.updated_at END "
            f"FROM c, {rows_sql} AS t(id, o, b, at) WHERE {table}.id = t.id)"
        )
    parts.append(
        "log AS (INSERT INTO changes (seq, at, event, entity_id) "
        "SELECT c.value - :count + t.o, CAST(:at AS timestamptz), t.event, t.entity_id FROM c, "
        "unnest(CAST(:offsets AS bigint[]), CAST(:events AS varchar[]), "
        "CAST(:entity_ids AS integer[])) AS t(o, event, entity_id))"
    )
    channels = hooks.take_notifications(session)
    sql = f"WITH {', '.join(parts)} SELECT c.value, {hooks.notify_sql(session, channels)} FROM c"
    value = conn.execute(_statement(sql), params).scalar()
    if value is None:  # still to send, just before the commit
        for channel in channels:
            hooks.notify_on_commit(session, channel)
        return None
    return int(value)


def _number_step_by_step(conn: Connection, rows: list[Row], entries: list[tuple[str, int]]) -> int:
    """The same in several statements (SQLite; PostgreSQL when the counter row is gone)."""
    last = next_numbers(conn, len(entries))
    first = last - len(entries) + 1
    now = utcnow()
    numbers: dict[type[Any], list[dict[str, int]]] = {}
    bumps: dict[type[Any], list[dict[str, Any]]] = {}
    for offset, row in enumerate(rows):
        numbers.setdefault(type(row.obj), []).append({"row_id": row.obj.id, "seq": first + offset})
        if row.bump:
            bumps.setdefault(type(row.obj), []).append(
                {"row_id": row.obj.id, "at": row.obj.updated_at}
            )
    for model, params in bumps.items():
        conn.execute(_bump(model), params)
    for model, params in numbers.items():
        conn.execute(_set_numbers(model), params)
    changes = [
        {"seq": first + offset, "at": now, "event": name, "entity_id": entity_id}
        for offset, (name, entity_id) in enumerate(entries)
    ]
    conn.execute(insert(Change), changes)
    return last
