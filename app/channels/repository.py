"""SQL for channels."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.channels.models import Channel
from app.kit.repository import forget_read, read_once


async def by_name(session: AsyncSession, name: str, *, lock: bool = False) -> Channel | None:
    """The channel with this name (`lock`: for an update of its state)."""
    stmt = select(Channel).where(Channel.name == name)
    if lock:
        stmt = stmt.with_for_update().execution_options(populate_existing=True)
    return await session.scalar(stmt)


_ALL = select(Channel).order_by(Channel.priority, Channel.id)


async def list_all(session: AsyncSession) -> Sequence[Channel]:
    """Every channel, in route order."""
    return (await session.scalars(_ALL)).all()


_ACTIVE = select(Channel).where(Channel.active).order_by(Channel.priority, Channel.id)
# The channels a transaction read (each SMS it writes is routed over them).
_READ = "channels.active"


async def active(session: AsyncSession) -> Sequence[Channel]:
    """Channels in use, in route order (read once per transaction: `read_once`)."""
    return [c for c in await read_once(session, _READ, _ACTIVE) if c.active]


async def add(session: AsyncSession, channel: Channel) -> None:
    """Store a new channel."""
    session.add(channel)
    await session.flush()
    forget_read(session, _READ)


async def by_ids(session: AsyncSession, ids: set[int]) -> Sequence[Channel]:
    """The channels with these ids."""
    if not ids:
        return []
    return (await session.scalars(select(Channel).where(Channel.id.in_(ids)))).all()


async def lock_all(session: AsyncSession) -> Sequence[Channel]:
    """Every active channel, locked for a health check (one checker at a time)."""
    stmt = select(Channel).where(Channel.active).order_by(Channel.id).with_for_update()
    return (await session.scalars(stmt.execution_options(populate_existing=True))).all()


# Any constant: the key of the advisory lock that serialises the decisions on zones cut off.
_ZONES_LOCK = 0x6B5A4F4E  # "kZON"
_FRESH_ACTIVE = _ACTIVE.execution_options(populate_existing=True)


async def lock_zones(session: AsyncSession) -> Sequence[Channel]:
    """The active channels, read fresh, once no other transaction is deciding which zones a
    channel's change cut off or gave back (held to the commit; SQLite writes one at a time)."""
    if session.get_bind().dialect.name == "postgresql":
        await session.execute(select(func.pg_advisory_xact_lock(_ZONES_LOCK)))
    found = (await session.scalars(_FRESH_ACTIVE)).all()
    forget_read(session, _READ)  # `active` reads them again, as fresh
    return found
