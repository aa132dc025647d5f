"""A transaction's effects (wake-ups, change numbers) happen when, and only if, it commits:
a savepoint released inside it is not its commit, and one rolled back takes back only its
own effects."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.kit import changes, hooks

pytestmark = pytest.mark.usefixtures("engine")  # tables made and emptied


async def test_a_released_savepoint_runs_its_effects_at_the_commit_not_before(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    ran: list[str] = []
    async with sessionmaker() as session, session.begin():
        hooks.on_commit(session, lambda: ran.append("before it"))
        async with session.begin_nested():
            hooks.on_commit(session, lambda: ran.append("in it"))
        assert ran == [], "nothing is committed yet: a worker woken now would find nothing"
    assert ran == ["before it", "in it"]


async def test_a_savepoint_rolled_back_takes_back_its_own_effects_only(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    ran: list[str] = []
    async with sessionmaker() as session, session.begin():
        hooks.on_commit(session, lambda: ran.append("before it"))
        with pytest.raises(RuntimeError):
            async with session.begin_nested():
                hooks.on_commit(session, lambda: ran.append("rolled back"))
                raise RuntimeError("a step that failed")
        async with session.begin_nested():
            hooks.on_commit(session, lambda: ran.append("after it"))
    assert ran == ["before it", "after it"]


async def test_a_rolled_back_transaction_runs_no_effect(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    ran: list[str] = []
    with pytest.raises(RuntimeError):
        async with sessionmaker() as session, session.begin():
            async with session.begin_nested():
                hooks.on_commit(session, lambda: ran.append("in a savepoint"))
            raise RuntimeError("the transaction fails")
    assert ran == []


@pytest.mark.postgresql  # two writers at once
async def test_a_released_savepoint_keeps_no_lock_of_the_change_numbers_until_the_commit(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    """Change numbers are taken just before the commit, under one row's lock held for the
    commit alone. Taken at a savepoint's release (a step of the escalation pass), the lock
    was held for the rest of the pass: every webhook's commit waited for it."""
    async with sessionmaker() as first, first.begin():
        async with first.begin_nested():
            changes.record(first.sync_session, "channel.edited", 1)
        async with sessionmaker() as second, second.begin():
            changes.record(second.sync_session, "channel.edited", 2)
            # Committed within a second while the first transaction is still open.
            await asyncio.wait_for(second.commit(), 1.0)
    async with sessionmaker() as session:
        logged = (await session.scalars(select(changes.Change.entity_id))).all()
    assert sorted(logged) == [1, 2]
