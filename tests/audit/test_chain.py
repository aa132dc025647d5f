"""The audit trails are hash chains: `audit verify` finds a row changed, removed or added
directly in the database, names its table, id and alert, and exits non-zero."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime

import httpx
import pytest
import typer
from click.testing import Result
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from typer.testing import CliRunner

from app.alerts import repository as alerts_repo
from app.alerts.models import Alert, AlertEvent
from app.alerts.verify import verify
from app.audit import service as audit
from app.audit.chain import GENESIS
from app.audit.models import AuditEntry
from app.audit.verify import Report
from app.cli.retention import register
from app.kit.config import get_settings
from app.kit.db import unit_of_work
from app.kit.migrate import downgrade, upgrade
from tests.support import make_key, post_twilio, sms_form

SMS = "/webhooks/twilio/sms"


@pytest.fixture
def cli(database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[typer.Typer]:
    """A `kengele`-like app with `purge` and `audit`, on the test database."""
    monkeypatch.setenv("KENGELE_DATABASE_URL", database_url)
    get_settings.cache_clear()
    app = typer.Typer()
    register(app)
    yield app
    get_settings.cache_clear()


async def run(app: typer.Typer, *args: str) -> Result:
    # The command runs its own event loop (asyncio.run): give it a thread without one.
    return await asyncio.to_thread(CliRunner().invoke, app, list(args))


async def _report(sessionmaker: async_sessionmaker[AsyncSession]) -> Report:
    async with sessionmaker() as session:
        return await verify(session, batch=3)  # small batches: the paging is exercised


async def _activity(
    client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    """Alerts with several events each, and admin actions in the audit log."""
    operator = {"Authorization": f"Bearer {await make_key(sessionmaker, 'operator')}"}
    admin = {"Authorization": f"Bearer {await make_key(sessionmaker, 'admin')}"}
    for phone, body in (
        ("+243810000101", "Attaque en cours a Mavivi"),
        ("+243810000113", "Kalehe: des hommes armes pillent le marche"),
    ):
        assert (await post_twilio(client, SMS, sms_form(phone, body))).status_code == 200
    async with sessionmaker() as s:
        ids = list((await s.scalars(select(Alert.id).order_by(Alert.id))).all())
    for alert_id in ids:
        for action in ({"action": "acknowledge"}, {"action": "note", "note": "rappel fait"}):
            url = f"/api/v1/alerts/{alert_id}/actions"
            response = await client.post(url, json=action, headers=operator)
            assert response.status_code == 200, response.text
    for name in ("partenaire", "ocha"):
        body = {"name": name, "role": "partner"}
        assert (await client.post("/api/v1/apikeys", json=body, headers=admin)).status_code == 201


async def test_chains_hold_and_a_direct_update_is_found(
    client: httpx.AsyncClient,
    demo: None,
    sessionmaker: async_sessionmaker[AsyncSession],
    engine: AsyncEngine,
    cli: typer.Typer,
) -> None:
    await _activity(client, sessionmaker)
    report = await _report(sessionmaker)
    assert report.ok, report.breaks
    assert report.alerts == 2 and report.events >= 6 and report.entries >= 2
    ok = await run(cli, "audit", "verify")
    assert ok.exit_code == 0, ok.output
    assert "every chain holds" in ok.stdout

    async with sessionmaker() as s:
        note = await s.scalar(
            select(AlertEvent).where(AlertEvent.note.is_not(None)).order_by(AlertEvent.id)
        )
        entry = await s.scalar(select(AuditEntry).order_by(AuditEntry.id))
    assert note is not None and entry is not None
    # Someone with database access rewrites an operator's note and an admin action.
    async with engine.begin() as conn:
        await conn.execute(
            text("UPDATE alert_events SET note = 'rien a signaler' WHERE id = :id"),
            {"id": note.id},
        )
        await conn.execute(
            text("UPDATE audit_log SET actor = 'cli:nobody' WHERE id = :id"), {"id": entry.id}
        )
    report = await _report(sessionmaker)
    found = {(b.table, b.id, b.alert_id) for b in report.breaks}
    assert found == {("alert_events", note.id, note.alert_id), ("audit_log", entry.id, None)}
    result = await run(cli, "audit", "verify")
    assert result.exit_code == 1
    assert f"alert_events id={note.id} alert={note.alert_id}: content changed" in result.output
    assert f"audit_log id={entry.id}: content changed" in result.output


async def test_a_removed_or_forged_row_breaks_the_link_after_it(
    client: httpx.AsyncClient,
    demo: None,
    sessionmaker: async_sessionmaker[AsyncSession],
    engine: AsyncEngine,
) -> None:
    await _activity(client, sessionmaker)
    async with sessionmaker() as s:
        alert_id = await s.scalar(select(Alert.id).order_by(Alert.id))
        events = (
            await s.scalars(
                select(AlertEvent).where(AlertEvent.alert_id == alert_id).order_by(AlertEvent.id)
            )
        ).all()
    assert len(events) >= 3
    async with engine.begin() as conn:
        await conn.execute(text("DELETE FROM alert_events WHERE id = :id"), {"id": events[1].id})
    report = await _report(sessionmaker)
    assert [(b.table, b.id, b.alert_id) for b in report.breaks] == [
        ("alert_events", events[2].id, alert_id)
    ]
    assert "broken link" in report.breaks[0].reason
    # A row slipped in without the application has no hash.
    async with engine.begin() as conn:
        await conn.execute(
            text(
                "INSERT INTO audit_log (at, actor, action, target_type, target_id, detail)"
                " VALUES (:at, 'cli:x', 'apikey.create', 'apikey', '99', '{}')"
            ),
            {"at": datetime(2026, 12, 1, tzinfo=UTC)},
        )
    report = await _report(sessionmaker)
    assert [b.table for b in report.breaks] == ["alert_events", "audit_log"]
    assert "no hash" in report.breaks[1].reason


async def test_concurrent_events_on_one_alert_do_not_fork_the_chain(
    client: httpx.AsyncClient, demo: None, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    await _activity(client, sessionmaker)
    async with sessionmaker() as s:
        alert_id = await s.scalar(select(Alert.id).order_by(Alert.id))
    assert alert_id is not None

    async def note(n: int) -> None:
        async with unit_of_work(sessionmaker) as session:
            alert = await session.get(Alert, alert_id)
            assert alert is not None
            alerts_repo.add_event(session, alert, actor="test", action="note", note=f"n{n}")
            audit.record(
                session, actor="test", action="test", target_type="alert", target_id=alert_id
            )
            await session.flush()
            await asyncio.sleep(0.05)  # both transactions are open at once

    await asyncio.gather(*(note(n) for n in range(6)))
    report = await _report(sessionmaker)
    assert report.ok, report.breaks
    async with sessionmaker() as s:
        hashes = (
            await s.scalars(select(AlertEvent.prev_hash).where(AlertEvent.alert_id == alert_id))
        ).all()
    assert len(hashes) == len(set(hashes)), "two events link to the same previous one"


async def test_an_event_is_in_its_trail_read_in_the_same_transaction(
    client: httpx.AsyncClient, demo: None, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    """Events are queued and written in one INSERT (app/alerts/chain.py): a trail read
    before the commit already shows them, linked, and nothing is written twice."""
    await _activity(client, sessionmaker)
    async with sessionmaker() as s:
        first, second = (await s.scalars(select(Alert.id).order_by(Alert.id).limit(2))).all()
    async with unit_of_work(sessionmaker) as session:
        one = await session.get(Alert, first)
        two = await session.get(Alert, second)
        assert one is not None and two is not None
        before = len(await alerts_repo.events(session, first))
        alerts_repo.add_event(session, one, actor="test", action="note", note="a")
        alerts_repo.add_event(session, two, actor="test", action="note", note="b")
        alerts_repo.add_event(session, one, actor="test", action="note", note="c")
        trail = await alerts_repo.events(session, first)
        assert [e.note for e in trail[before:]] == ["a", "c"]
        assert trail[-1].prev_hash == trail[-2].hash
        alerts_repo.add_event(session, one, actor="test", action="note", note="d")
    async with sessionmaker() as s:
        notes = (
            await s.scalars(
                select(AlertEvent.note)
                .where(AlertEvent.alert_id == first, AlertEvent.actor == "test")
                .order_by(AlertEvent.id)
            )
        ).all()
    assert notes == ["a", "c", "d"]
    report = await _report(sessionmaker)
    assert report.ok, report.breaks


async def test_the_migration_chains_rows_written_before_it(engine: AsyncEngine) -> None:
    await downgrade(engine, "c7a1e0d4b2f9")
    at = datetime(2026, 11, 1, tzinfo=UTC)
    async with engine.begin() as conn:
        await conn.execute(
            text(
                "INSERT INTO alerts (id, ref, kind, status, from_phone, body, language, category,"
                " severity, severity_rank, score, cap_urgency, cap_severity, cap_certainty,"
                " reasons, location_source, location_confidence, message_count, received_at,"
                " last_message_at, created_at, updated_at, version, change_seq) VALUES (7,"
                " 'K-2F7Q', 'sms', 'new', '+243810000101', 'Attaque', 'fr', 'ATTACK',"
                " 'critical', 3, 90, 'Immediate', 'Extreme', 'Likely', '[]', 'none', 0, 1, :t,"
                " :t, :t, :t, 1, 0)"
            ),
            {"t": at},
        )
        for n, action in enumerate(("created", "acknowledged", "note")):
            await conn.execute(
                text(
                    "INSERT INTO alert_events (alert_id, at, actor, action, detail, note)"
                    " VALUES (7, :t, 'system', :a, '{\"n\": 1}', :note)"
                ),
                {"t": at, "a": action, "note": f"note {n}" if n else None},
            )
        await conn.execute(
            text(
                "INSERT INTO audit_log (at, actor, action, target_type, target_id, detail)"
                " VALUES (:t, 'cli:root', 'apikey.create', 'apikey', '1', '{}')"
            ),
            {"t": at},
        )
    await upgrade(engine)
    sessionmaker = async_sessionmaker(engine, expire_on_commit=False)
    report = await _report(sessionmaker)
    assert report.ok, report.breaks
    assert (report.events, report.alerts, report.entries) == (3, 1, 1)
    assert report.audit_head != GENESIS
