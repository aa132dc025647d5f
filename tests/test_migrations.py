"""Migrations: empty → head → base → head, and the models match the head."""

from __future__ import annotations

from datetime import UTC, datetime

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text
from sqlalchemy.ext.asyncio import AsyncEngine

from app.kit.migrate import current_revision, downgrade, head_revision, upgrade
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
