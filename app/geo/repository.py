"""SQL for places."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Sequence
from typing import Any

from sqlalchemy import Row, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.geo.models import Place
from app.kit.repository import by_keys, chunked

# What the place index reads of each place (app.geo.service.to_gaz_place).
INDEXED_COLUMNS = (
    "id",
    "name",
    "lat",
    "lon",
    "admin1",
    "admin2",
    "alt_names",
    "kind",
    "admin1_code",
    "source",
)


async def get(session: AsyncSession, place_id: str) -> Place | None:
    """The place with this id."""
    return await session.get(Place, place_id)


async def all_places(session: AsyncSession) -> Sequence[Place]:
    """Every place of the gazetteer."""
    return (await session.scalars(select(Place).order_by(Place.id))).all()


async def place_rows(session: AsyncSession, chunk: int = 1000) -> AsyncIterator[Sequence[Row[Any]]]:
    """Every place as plain rows of the columns the place index uses (no ORM objects, no
    timestamps: a large gazetteer loads several times faster), in chunks, so that the caller
    can let other work run in between."""
    table = Place.__table__
    columns = [table.c[name] for name in INDEXED_COLUMNS]
    result = await session.stream(select(*columns).order_by(table.c.id))
    async for rows in result.partitions(chunk):
        yield rows


async def fingerprint(session: AsyncSession) -> tuple[int, str | None]:
    """(count, newest update) of the gazetteer: changes whenever a place is added or edited."""
    row = (await session.execute(select(func.count(Place.id), func.max(Place.updated_at)))).one()
    newest = row[1]
    return int(row[0]), None if newest is None else str(newest)


async def places_by_ids(session: AsyncSession, ids: Iterable[str]) -> dict[str, Place]:
    """The places having any of these ids, by id."""
    return await by_keys(session, Place, Place.id, ids)


async def existing_ids(session: AsyncSession, ids: Iterable[str]) -> set[str]:
    """Which of these place ids are in the gazetteer."""
    found: set[str] = set()
    for chunk in chunked(ids):
        found.update(await session.scalars(select(Place.id).where(Place.id.in_(chunk))))
    return found


async def add_places(session: AsyncSession, places: Iterable[Place]) -> None:
    """Stage new places and flush them (the caller's unit of work commits)."""
    session.add_all(list(places))
    await session.flush()


async def count(session: AsyncSession) -> int:
    """Number of places in the gazetteer."""
    return int(await session.scalar(select(func.count(Place.id))) or 0)


async def coordinates(session: AsyncSession) -> list[tuple[float, float]]:
    """(lat, lon) of every place of the gazetteer."""
    rows = await session.execute(select(Place.lat, Place.lon))
    return [(float(lat), float(lon)) for lat, lon in rows]


async def admin_names(session: AsyncSession) -> dict[str, str]:
    """Every province and territoire name of the gazetteer, by its lower-case form."""
    names: dict[str, str] = {}
    for column in (Place.admin2, Place.admin1):
        for name in await session.scalars(select(column).distinct()):
            if name:
                names.setdefault(name.lower(), name)
    return names


async def territoire_centroids(session: AsyncSession) -> dict[tuple[str, str], tuple[float, float]]:
    """(lat, lon) of every territoire of the gazetteer by (province, territoire) in lower case."""
    rows = await session.execute(
        select(Place.admin1, Place.admin2, Place.lat, Place.lon).where(Place.kind == "territoire")
    )
    return {
        ((admin1 or "").lower(), admin2.lower()): (float(lat), float(lon))
        for admin1, admin2, lat, lon in rows
        if admin2
    }


async def delete(session: AsyncSession, place: Place) -> None:
    """Remove a place and flush (what refers to it let go of it first: app.flows.places)."""
    await session.delete(place)
    await session.flush()
