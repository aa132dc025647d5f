"""The upgrade encrypts what was stored in clear, and loses no link between rows."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from app.alerts.models import Alert, AlertEvent
from app.inbound.models import InboundMessage
from app.kit.migrate import downgrade, upgrade
from app.people.models import Reporter

BEFORE = "c7a1e0d4b2f9"
PHONE = "+243810000101"
TEXT = "Attaque ya ADF ku Mavivi okapi-lantern"


async def test_upgrade_encrypts_rows_stored_in_clear(
    engine: AsyncEngine, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    await downgrade(engine, BEFORE)
    t = {"t": datetime(2026, 11, 1, tzinfo=UTC)}
    async with engine.begin() as conn:
        await conn.execute(
            text(
                "INSERT INTO reporters (id, phone, name, language, role, verified, active,"
                " opted_out, created_at, updated_at) VALUES (3, :p, 'Mama', 'fr', 'focal_point',"
                " true, true, false, :t, :t)"
            ),
            {"p": PHONE, **t},
        )
        await conn.execute(
            text(
                "INSERT INTO alerts (id, ref, kind, status, reporter_id, from_phone, body,"
                " language, category, severity, severity_rank, score, cap_urgency, cap_severity,"
                " cap_certainty, reasons, location_source, location_confidence, message_count,"
                " received_at, last_message_at, created_at, updated_at, version, change_seq)"
                " VALUES (7, 'K-2F7Q', 'sms', 'new', 3, :p, :b, 'fr', 'ATTACK', 'critical', 3,"
                " 90, 'Immediate', 'Extreme', 'Likely', '[]', 'none', 0, 1, :t, :t, :t, :t, 1, 0)"
            ),
            {"p": PHONE, "b": TEXT, **t},
        )
        await conn.execute(
            text(
                "INSERT INTO alert_events (id, alert_id, at, actor, action, detail, note)"
                " VALUES (1, 7, :t, 'op', 'note', :d, :n)"
            ),
            {"d": '{"before": {"summary": "x"}}', "n": f"rappeler {PHONE}", **t},
        )
        await conn.execute(
            text(
                "INSERT INTO inbound_messages (id, provider, provider_sid, kind, from_phone,"
                " to_phone, body, raw, status, attempts, alert_id, received_at,"
                " next_attempt_at) VALUES (1, 'twilio', 'SM1', 'sms', :p, '+243800000000', :b,"
                " :r, 'processed', 1, 7, :t, :t)"
            ),
            {"p": PHONE, "b": TEXT, "r": f'{{"From": "{PHONE}", "Body": "{TEXT}"}}', **t},
        )
    await upgrade(engine)

    async with engine.connect() as conn:
        rows = [
            tuple(r)
            for q in (
                "SELECT phone, name FROM reporters",
                "SELECT from_phone, body FROM alerts",
                "SELECT note, CAST(detail AS TEXT) FROM alert_events",
                "SELECT from_phone, body, CAST(raw AS TEXT) FROM inbound_messages",
            )
            for r in (await conn.execute(text(q))).all()
        ]
        if conn.dialect.name == "sqlite":  # turned off for the migration only
            assert (await conn.execute(text("PRAGMA foreign_keys"))).scalar() == 1
    stored = repr(rows)
    assert PHONE not in stored and TEXT not in stored and "810000101" not in stored
    async with sessionmaker() as s:
        reporter = await s.scalar(select(Reporter).where(Reporter.phone == PHONE))
        alert = await s.scalar(select(Alert).where(Alert.from_phone == PHONE))
        event = await s.scalar(select(AlertEvent))
        message = await s.scalar(select(InboundMessage).where(InboundMessage.from_phone == PHONE))
    assert reporter is not None and reporter.id == 3 and reporter.name == "Mama"
    # The copy of the reporters table (SQLite) did not cut the alert from its reporter.
    assert alert is not None and alert.reporter_id == 3 and alert.body == TEXT
    assert event is not None and event.note == f"rappeler {PHONE}"
    assert event.detail == {"before": {"summary": "x"}}
    assert message is not None and message.raw == {"From": PHONE, "Body": TEXT}
