"""SQL for API keys."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.models import ApiKey


async def by_hash(session: AsyncSession, key_hash: str) -> ApiKey | None:
    """The key whose hash this is."""
    return await session.scalar(select(ApiKey).where(ApiKey.key_hash == key_hash))


def add(session: AsyncSession, key: ApiKey) -> None:
    """Stage a new key."""
    session.add(key)


async def get(session: AsyncSession, key_id: int) -> ApiKey | None:
    """The key with this id."""
    return await session.get(ApiKey, key_id)


async def all_keys(session: AsyncSession) -> Sequence[ApiKey]:
    """Every key, oldest first."""
    return (await session.scalars(select(ApiKey).order_by(ApiKey.id))).all()
