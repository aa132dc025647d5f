"""Migrations: empty → head → base → head, and the models match the head."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect
from sqlalchemy.ext.asyncio import AsyncEngine

from app.migrate import current_revision, downgrade, head_revision, upgrade
from app.models import Base


async def test_upgrade_downgrade_upgrade(engine: AsyncEngine) -> None:
    assert await current_revision(engine) == head_revision()
    await downgrade(engine, "base")
    async with engine.connect() as conn:
        tables = await conn.run_sync(lambda c: inspect(c).get_table_names())
    assert set(tables) <= {"alembic_version"}
    await upgrade(engine)
    assert await current_revision(engine) == head_revision()


async def test_models_match_the_migrations(engine: AsyncEngine) -> None:
    def diff(conn) -> list[object]:  # type: ignore[no-untyped-def]
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        return list(compare_metadata(context, Base.metadata))

    async with engine.connect() as conn:
        differences = await conn.run_sync(diff)
    assert differences == []
