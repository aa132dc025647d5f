"""SQL for places."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.geo.models import Place


async def get(session: AsyncSession, place_id: str) -> Place | None:
    """The place with this id."""
    return await session.get(Place, place_id)


async def all_places(session: AsyncSession) -> Sequence[Place]:
    """Every place of the gazetteer."""
    return (await session.scalars(select(Place).order_by(Place.id))).all()


async def fingerprint(session: AsyncSession) -> tuple[int, str | None]:
    """(count, newest update) of the gazetteer: changes whenever a place is added or edited."""
    row = (await session.execute(select(func.count(Place.id), func.max(Place.updated_at)))).one()
    newest = row[1]
    return int(row[0]), None if newest is None else str(newest)
