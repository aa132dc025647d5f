"""What every repository repeats: get or 404, lookups by many keys, keyset pages."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any, TypeVar

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from app.kit.errors import NotFound
from app.kit.models import Base

M = TypeVar("M", bound=Base)
K = TypeVar("K")
T = TypeVar("T")

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
