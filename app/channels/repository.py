"""SQL for channels."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import inspect, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.channels.models import Channel
from app.kit import hooks


async def by_name(session: AsyncSession, name: str, *, lock: bool = False) -> Channel | None:
    """The channel with this name (`lock`: for an update of its state)."""
    stmt = select(Channel).where(Channel.name == name)
    if lock:
        stmt = stmt.with_for_update().execution_options(populate_existing=True)
    return await session.scalar(stmt)


async def list_all(session: AsyncSession) -> Sequence[Channel]:
    """Every channel, in route order."""
    return (await session.scalars(select(Channel).order_by(Channel.priority, Channel.id))).all()


_ACTIVE = select(Channel).where(Channel.active).order_by(Channel.priority, Channel.id)
# The channels a transaction read once (each SMS it writes is routed over them).
_CACHE = "channels.active"


async def active(session: AsyncSession) -> Sequence[Channel]:
    """Channels in use, in route order.

    Read once per transaction: the objects are the session's own, so a channel turned off
    or removed later in the transaction is seen here; one added calls `add`, which forgets
    the list.
    """
    state = hooks.transaction(session)
    found: list[Channel] | None = state.get(_CACHE)
    if found is None:
        with session.no_autoflush:  # what is pending (alerts, deliveries) cannot change it
            found = list((await session.scalars(_ACTIVE)).all())
        state[_CACHE] = found
    return [c for c in found if c.active and inspect(c).persistent and c not in session.deleted]


async def add(session: AsyncSession, channel: Channel) -> None:
    """Store a new channel."""
    session.add(channel)
    await session.flush()
    hooks.transaction(session).pop(_CACHE, None)


async def by_ids(session: AsyncSession, ids: set[int]) -> Sequence[Channel]:
    """The channels with these ids."""
    if not ids:
        return []
    return (await session.scalars(select(Channel).where(Channel.id.in_(ids)))).all()


async def lock_all(session: AsyncSession) -> Sequence[Channel]:
    """Every active channel, locked for a health check (one checker at a time)."""
    stmt = select(Channel).where(Channel.active).order_by(Channel.id).with_for_update()
    return (await session.scalars(stmt.execution_options(populate_existing=True))).all()
