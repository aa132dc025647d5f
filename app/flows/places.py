"""Removing a place: what refers to it lets go first, across the domains that do."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from app.alerts import service as alerts
from app.geo import service as geo
from app.people import service as people


async def remove_place(session: AsyncSession, place_id: str, *, actor: str) -> None:
    """Remove a place: a 404 when there is none, a 409 while it is a focal point's home;
    alerts and incidents keep their copy of its name and position but lose its id."""
    place = await geo.get_place(session, place_id)
    await people.check_not_home(session, place.id)
    await alerts.forget_place(session, place.id)
    await geo.delete_place(session, place, actor=actor)
