"""Run Alembic migrations from the application (SQLite and PostgreSQL)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

import migrations

# Any number of processes may start at once against PostgreSQL: one migrates, the others wait.
_PG_MIGRATION_LOCK = 7_461_736_101


def alembic_config() -> Config:
    """Alembic configuration pointing at the migrations shipped with the package."""
    cfg = Config()
    cfg.set_main_option("script_location", str(Path(migrations.__file__).parent))
    cfg.attributes["configure_logging"] = False
    return cfg


def _sqlite_foreign_keys(connection: Connection, on: bool) -> None:
    """Turn SQLite's foreign keys on or off (only possible outside a transaction).

    Off while migrating: a batch migration copies a table, drops it and renames the copy, and
    the drop would otherwise run the ON DELETE actions of the rows pointing at it.
    """
    if connection.dialect.name == "sqlite" and not connection.in_transaction():
        cursor = connection.connection.cursor()
        cursor.execute(f"PRAGMA foreign_keys={'ON' if on else 'OFF'}")
        cursor.close()


def _run(connection: Connection, action: str, revision: str) -> None:
    cfg = alembic_config()
    cfg.attributes["connection"] = connection
    _sqlite_foreign_keys(connection, on=False)
    pg = connection.dialect.name == "postgresql"
    if pg:
        connection.execute(text("SELECT pg_advisory_lock(:k)"), {"k": _PG_MIGRATION_LOCK})
    try:
        if action == "upgrade":
            command.upgrade(cfg, revision)
        else:
            command.downgrade(cfg, revision)
    finally:
        if pg:
            connection.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": _PG_MIGRATION_LOCK})


async def upgrade(engine: AsyncEngine, revision: str = "head") -> None:
    """Apply migrations up to `revision`."""
    async with engine.connect() as conn:
        await conn.run_sync(_run, "upgrade", revision)
        await conn.commit()
        await conn.run_sync(_sqlite_foreign_keys, True)


async def downgrade(engine: AsyncEngine, revision: str = "base") -> None:
    """Revert migrations down to `revision`."""
    async with engine.connect() as conn:
        await conn.run_sync(_run, "downgrade", revision)
        await conn.commit()
        await conn.run_sync(_sqlite_foreign_keys, True)


@lru_cache(maxsize=1)
def head_revision() -> str | None:
    """The newest revision shipped with this version."""
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


async def current_revision(engine: AsyncEngine) -> str | None:
    """The revision the database is at (None when never migrated)."""
    async with engine.connect() as conn:
        return await conn.run_sync(lambda c: MigrationContext.configure(c).get_current_revision())
