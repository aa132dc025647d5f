"""The repository base: get or 404, lookups by many keys in chunks, keyset pages."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine

from app.geo.models import Place
from app.kit.errors import NotFound
from app.kit.repository import CHUNK, by_keys, chunked, get_or_raise, newest_first, oldest_first

IDS = [f"p{n:04d}" for n in range(CHUNK + 7)]


@pytest.fixture
async def session() -> AsyncIterator[AsyncSession]:
    engine = create_async_engine("sqlite+aiosqlite://")
    async with engine.begin() as connection:
        await connection.run_sync(Place.__table__.create)
    async with async_sessionmaker(engine)() as session:
        session.add_all(Place(id=i, name=i, lat=1.0, lon=2.0) for i in IDS)
        await session.flush()
        yield session
    await engine.dispose()


async def test_get_or_raise(session: AsyncSession) -> None:
    assert (await get_or_raise(session, Place, "p0001", "place")).id == "p0001"
    with pytest.raises(NotFound, match="no place nowhere"):
        await get_or_raise(session, Place, "nowhere", "place")


def test_chunked_sorts_dedupes_and_splits() -> None:
    chunks = list(chunked([*reversed(IDS), "p0000"]))
    assert [len(c) for c in chunks] == [CHUNK, 7]
    assert [i for c in chunks for i in c] == IDS


async def test_by_keys_across_chunks(session: AsyncSession) -> None:
    found = await by_keys(session, Place, Place.id, [*IDS, "unknown"])
    assert sorted(found) == IDS
    assert all(place.id == key for key, place in found.items())


async def test_keyset_pages() -> None:
    stmt = select(Place)
    newest = str(newest_first(stmt, Place.id, 10, 3).compile())
    assert "places.id < " in newest and "ORDER BY places.id DESC" in newest
    oldest = str(oldest_first(stmt, Place.id, None, 3).compile())
    assert "WHERE" not in oldest and "ORDER BY places.id" in oldest
