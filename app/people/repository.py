"""SQL for reporters and liaisons."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.people.models import Liaison, Reporter


async def reporter_by_phone(session: AsyncSession, phone: str) -> Reporter | None:
    """The reporter registered (or first seen) with this E.164 number."""
    return await session.scalar(select(Reporter).where(Reporter.phone == phone))


async def liaison_by_phone(session: AsyncSession, phone: str) -> Liaison | None:
    """The liaison with this E.164 number."""
    return await session.scalar(select(Liaison).where(Liaison.phone == phone))


async def active_liaisons(session: AsyncSession) -> Sequence[Liaison]:
    """Every active liaison and JOC officer."""
    return (await session.scalars(select(Liaison).where(Liaison.active.is_(True)))).all()
