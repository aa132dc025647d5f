"""Run Alembic migrations from the application (SQLite and PostgreSQL).

A process whose database is at the revision it ships (every start but the first after an
upgrade) never loads Alembic or the migrations: the revisions are read from the migration
files' `revision` and `down_revision` lines (`shipped_head`) and the database's from its
`alembic_version` table, in plain SQL. Alembic and the migrations it loads hold some 15 MB
that `kengele serve` would carry for its whole life.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

import migrations

if TYPE_CHECKING:
    from alembic.config import Config

_VERSIONS = Path(migrations.__file__).parent / "versions"
# `revision: str = "abc"` and `down_revision: str | None = "abc"` (or None) of a migration.
_REVISION = re.compile(r"""^revision\b[^=\n]*=\s*["']([0-9A-Za-z_]+)["']""", re.M)
_DOWN = re.compile(r"""^down_revision\b[^=\n]*=\s*(?:["']([0-9A-Za-z_]+)["']|None)\s*$""", re.M)

# Any number of processes may start at once against PostgreSQL: one migrates, the others wait.
_PG_MIGRATION_LOCK = 7_461_736_101


def alembic_config() -> Config:
    """Alembic configuration pointing at the migrations shipped with the package."""
    from alembic.config import Config

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
    from alembic import command

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
    """Apply migrations up to `revision` (nothing to do, without loading Alembic, when the
    database is at the head already)."""
    head = shipped_head()
    if revision == "head" and head is not None and await current_revision(engine) == head:
        return
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
    return shipped_head() or alembic_head()


def alembic_head() -> str | None:
    """The newest revision shipped, as Alembic reads the migrations (loading them)."""
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config()).get_current_head()


@lru_cache(maxsize=1)
def shipped_head() -> str | None:
    """The newest revision shipped, read from the migration files without Alembic: the one no
    other revises. None when they are not one line of revisions (a merge, a line that does
    not read): Alembic then decides."""
    revisions: set[str] = set()
    revised: set[str] = set()
    for path in _VERSIONS.glob("[!_]*.py"):
        source = path.read_text(encoding="utf-8")
        revision, down = _REVISION.findall(source), _DOWN.findall(source)
        if len(revision) != 1 or len(down) != 1:
            return None
        revisions.add(revision[0])
        if down[0]:
            revised.add(down[0])
    heads = revisions - revised
    return heads.pop() if len(heads) == 1 and revised <= revisions else None


async def current_revision(engine: AsyncEngine) -> str | None:
    """The revision the database is at (None when never migrated), read in plain SQL."""
    async with engine.connect() as conn:
        return await conn.run_sync(_current_revision)


def _current_revision(connection: Connection) -> str | None:
    if not inspect(connection).has_table("alembic_version"):
        return None
    versions = connection.execute(text("SELECT version_num FROM alembic_version")).all()
    if len(versions) > 1:
        raise RuntimeError("the database is at several revisions (branches): run Alembic")
    return str(versions[0][0]) if versions else None
