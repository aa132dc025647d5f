"""SQL for channels."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.channels.models import Channel


async def by_name(session: AsyncSession, name: str) -> Channel | None:
    """The channel with this name."""
    return await session.scalar(select(Channel).where(Channel.name == name))


async def get(session: AsyncSession, channel_id: int) -> Channel | None:
    """The channel with this id."""
    return await session.get(Channel, channel_id)


async def list_all(session: AsyncSession) -> Sequence[Channel]:
    """Every channel, in route order."""
    return (await session.scalars(select(Channel).order_by(Channel.priority, Channel.id))).all()


async def active(session: AsyncSession) -> Sequence[Channel]:
    """Channels in use, in route order."""
    stmt = select(Channel).where(Channel.active).order_by(Channel.priority, Channel.id)
    return (await session.scalars(stmt)).all()


async def add(session: AsyncSession, channel: Channel) -> None:
    """Store a new channel."""
    session.add(channel)
    await session.flush()
