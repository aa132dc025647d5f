"""Migrations: empty → head → base → head, and the models match the head."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import textwrap
from datetime import UTC, datetime

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text
from sqlalchemy.ext.asyncio import AsyncEngine

from app.kit.migrate import (
    alembic_head,
    current_revision,
    downgrade,
    head_revision,
    shipped_head,
    upgrade,
)
from app.models import Base


async def test_upgrade_downgrade_upgrade(engine: AsyncEngine) -> None:
    assert await current_revision(engine) == head_revision()
    await downgrade(engine, "base")
    async with engine.connect() as conn:
        tables = await conn.run_sync(lambda c: inspect(c).get_table_names())
    assert set(tables) <= {"alembic_version"}
    await upgrade(engine)
    assert await current_revision(engine) == head_revision()


def test_the_head_read_from_the_migration_files_is_alembic_s() -> None:
    """A new migration whose lines do not read as the others' would make every start load
    Alembic (or, read wrong, skip an upgrade): the files' head is Alembic's own."""
    assert shipped_head() is not None
    assert shipped_head() == alembic_head() == head_revision()


async def test_a_process_whose_database_is_at_the_head_does_not_load_alembic(
    engine: AsyncEngine, database_url: str
) -> None:
    """`serve` migrates at every start: at the head already, it checks in plain SQL and never
    imports Alembic and the migrations (some 15 MB held for the process's life); /readyz
    compares the same revisions."""
    script = textwrap.dedent(
        f"""
        import asyncio, sys
        from app.kit.config import Settings
        from app.kit.db import create_engine
        from app.kit.migrate import current_revision, head_revision, upgrade

        async def main():
            engine = create_engine(Settings(database_url={database_url!r}))
            await upgrade(engine)
            assert await current_revision(engine) == head_revision()
            await engine.dispose()

        asyncio.run(main())
        print("alembic" in sys.modules)
        """
    )
    command = [sys.executable, "-c", script]
    ran = await asyncio.to_thread(
        subprocess.run, command, capture_output=True, text=True, timeout=120, check=False
    )
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout.strip() == "False"


async def test_models_match_the_migrations(engine: AsyncEngine) -> None:
    def diff(conn) -> list[object]:  # type: ignore[no-untyped-def]
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        return list(compare_metadata(context, Base.metadata))

    async with engine.connect() as conn:
        differences = await conn.run_sync(diff)
    assert differences == []


async def test_alerts_from_before_the_change_sequence_reach_pollers(
    engine: AsyncEngine,
) -> None:
    # An alert stored by the first release, then the upgrade that numbers changes.
    await downgrade(engine, "5153481ec80b")
    async with engine.begin() as conn:
        await conn.execute(
            text(
                "INSERT INTO alerts (id, ref, kind, status, from_phone, body, language, category,"
                " severity, severity_rank, score, cap_urgency, cap_severity, cap_certainty,"
                " reasons, location_source, location_confidence, message_count, received_at,"
                " last_message_at, created_at, updated_at) VALUES (7, 'K-2F7Q', 'sms', 'new',"
                " '+243810000101', 'Attaque', 'fr', 'ATTACK', 'critical', 3, 90, 'Immediate',"
                " 'Extreme', 'Likely', '[]', 'none', 0, 1, :t, :t, :t, :t)"
            ),
            {"t": datetime(2026, 11, 1, tzinfo=UTC)},
        )
    await upgrade(engine)
    async with engine.connect() as conn:
        seq = (await conn.execute(text("SELECT change_seq FROM alerts WHERE id = 7"))).scalar()
        counter = (
            await conn.execute(text("SELECT value FROM counters WHERE name = 'changes'"))
        ).scalar()
    assert seq is not None and seq > 0
    assert counter is not None and counter >= seq
