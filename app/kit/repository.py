"""What every repository repeats: get or 404, lookups by many keys, keyset pages, rows read
once per transaction, a loaded row's columns written without the unit of work."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any, TypeVar, cast

from sqlalchemy import Select, Table, Update, bindparam, inspect, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute
from sqlalchemy.orm.attributes import set_committed_value

from app.kit import changes, hooks
from app.kit.clock import utcnow
from app.kit.errors import NotFound
from app.kit.models import Base

M = TypeVar("M", bound=Base)
K = TypeVar("K")
T = TypeVar("T")

# One UPDATE per table and set of columns, built once (`write_columns`).
_UPDATES: dict[tuple[str, tuple[str, ...]], Update] = {}

# Keeps IN lists well below the bind-parameter limits of SQLite and asyncpg.
CHUNK = 500


async def get_or_raise(session: AsyncSession, model: type[M], key: Any, what: str) -> M:
    """The row with this primary key, else NotFound (404) "no <what> <key>"."""
    row = await session.get(model, key)
    if row is None:
        raise NotFound(f"no {what} {key}")
    return row


def chunked(values: Iterable[K]) -> Iterator[list[K]]:
    """The distinct values, sorted, in lists of at most CHUNK (one `IN` each)."""
    wanted = sorted(set(values))  # type: ignore[type-var]
    for begin in range(0, len(wanted), CHUNK):
        yield wanted[begin : begin + CHUNK]


async def by_keys(
    session: AsyncSession, model: type[M], column: InstrumentedAttribute[K], keys: Iterable[K]
) -> dict[K, M]:
    """The rows whose `column` is one of `keys`, by that value (one query per CHUNK keys)."""
    found: dict[K, M] = {}
    for chunk in chunked(keys):
        for row in await session.scalars(select(model).where(column.in_(chunk))):
            found[getattr(row, column.key)] = row
    return found


def newest_first(
    stmt: Select[T], column: InstrumentedAttribute[int], before: int | None, limit: int
) -> Select[T]:
    """A keyset page: ids below `before` (the cursor), highest first, at most `limit`."""
    if before is not None:
        stmt = stmt.where(column < before)
    return stmt.order_by(column.desc()).limit(limit)


def oldest_first(
    stmt: Select[T], column: InstrumentedAttribute[int], after: int | None, limit: int
) -> Select[T]:
    """A keyset page: ids above `after` (the cursor), lowest first, at most `limit`."""
    if after is not None:
        stmt = stmt.where(column > after)
    return stmt.order_by(column).limit(limit)


async def read_once(session: AsyncSession, key: str, stmt: Select[M]) -> list[M]:
    """The rows `stmt` selects, read once per transaction (`key` names them) and without an
    autoflush: reference data that what is pending (alerts, events, deliveries) cannot change,
    asked for several times by one webhook. The objects are the session's own, so a change
    made to one later in the transaction is seen, and one deleted since is left out; a
    writer that adds such a row calls `forget_read`."""
    state = hooks.transaction(session)
    found: list[M] | None = state.get(key)
    if found is None:
        with session.no_autoflush:
            found = state[key] = list((await session.scalars(stmt)).all())
    return [row for row in found if inspect(row).persistent and row not in session.deleted]


def forget_read(session: AsyncSession, key: str) -> None:
    """Read the rows of `key` again next time (this transaction added one)."""
    hooks.transaction(session).pop(key, None)


async def write_columns(session: AsyncSession, obj: Base, **values: Any) -> None:
    """Write these columns of `obj`, a row this transaction holds locked, with one UPDATE
    now, and show them on the object as committed: a row the request path changes needs
    no unit of work at the flush. A numbered row (app.kit.changes.track) gets its next
    version and change number with the commit's numbering (`changes.touch`); another
    gets `updated_at` as the ORM would set it."""
    table = cast(Table, type(obj).__table__)
    if not changes.tracked(type(obj)) and "updated_at" in table.c:
        values["updated_at"] = utcnow()
    names = tuple(sorted(values))
    statement = _UPDATES.get((table.name, names))
    if statement is None:
        statement = (
            update(table)
            .where(table.c.id == bindparam("row_id"))
            .values({name: bindparam(name) for name in names})
        )
        _UPDATES[(table.name, names)] = statement
    await session.execute(statement, {"row_id": obj.id, **values})  # type: ignore[attr-defined]
    written(session, obj, values)


def written(session: AsyncSession, obj: Base, values: dict[str, Any]) -> None:
    """What an UPDATE of its own (`write_columns`, or a statement that also computes some
    columns in SQL) wrote into a locked row: shown on the object as committed, and a
    numbered row touched for the commit's numbering."""
    for name, value in values.items():
        set_committed_value(obj, name, value)
    if changes.tracked(type(obj)):
        changes.touch(session, obj)
