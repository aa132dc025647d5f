"""The change sequence follows commit order: a transaction that commits later never carries a
smaller number, so a poller asking for "after N" cannot skip a change."""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any

import httpx
from sqlalchemy import delete, func, select
from sqlalchemy.event import listen, remove
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from app.alerts.models import Alert, Incident
from app.alerts.service import add_event
from app.kit.changes import Change, Counter, next_numbers
from app.kit.db import unit_of_work
from tests.support import post_twilio, sms_form


async def test_a_later_commit_never_gets_a_smaller_number(
    client: httpx.AsyncClient,
    demo: None,
    engine: AsyncEngine,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    form = sms_form("+243810000101", "Attaque en cours a Mavivi")
    assert (await post_twilio(client, "/webhooks/twilio/sms", form)).status_code == 200
    async with sessionmaker() as s:
        alert_id = (await s.scalars(select(Alert.id))).one()

    # T1 has taken its number and not committed yet (as between before_commit and COMMIT).
    t1 = await engine.connect()
    transaction = await t1.begin()
    first = await t1.run_sync(lambda conn: next_numbers(conn, 1))

    async def t2() -> int:
        async with unit_of_work(sessionmaker) as session:
            alert = await session.get(Alert, alert_id)
            assert alert is not None
            alert.assignee = "Cpt. Amani"
        async with sessionmaker() as session:
            seq = await session.scalar(select(Alert.change_seq).where(Alert.id == alert_id))
        return int(seq or 0)

    later = asyncio.create_task(t2())
    await asyncio.sleep(0.5)
    # T2 cannot commit while T1, numbered before it, is still open.
    assert not later.done()
    await transaction.commit()
    await t1.close()
    second = await asyncio.wait_for(later, 30)
    assert second > first


async def test_rows_and_log_carry_the_same_numbers_even_after_the_counter_row_is_gone(
    client: httpx.AsyncClient,
    demo: None,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    """Each alert and incident carries the number of its last change in the log, one
    number per change and none reused; a counter row emptied away (a restore, a hand
    cleanup) starts again after every number in use."""
    texts = ["Attaque en cours a Mavivi", "Maisons brulees a Oicha"]
    for n, body in enumerate(texts):
        form = sms_form(f"+24381000010{n + 1}", body)
        assert (await post_twilio(client, "/webhooks/twilio/sms", form)).status_code == 200
        if n == 0:
            async with unit_of_work(sessionmaker) as session:
                await session.execute(delete(Counter))

    async with sessionmaker() as session:
        log = (await session.execute(select(Change.seq, Change.event, Change.entity_id))).all()
        alerts = (await session.execute(select(Alert.id, Alert.change_seq))).all()
        incidents = (await session.execute(select(Incident.id, Incident.change_seq))).all()
    seqs = [seq for seq, _, _ in log]
    assert len(seqs) == len(set(seqs))
    last = {}
    for seq, event, entity_id in sorted(log):
        last[(event.split(".")[0], entity_id)] = seq
    assert {("alert", i): s for i, s in alerts} == {
        k: v for k, v in last.items() if k[0] == "alert"
    }
    assert {("incident", i): s for i, s in incidents} == {
        k: v for k, v in last.items() if k[0] == "incident"
    }
    assert len(alerts) == 2 and all(s > 0 for _, s in alerts)


async def test_a_transaction_that_changes_many_alerts_numbers_each_as_the_log_does(
    client: httpx.AsyncClient,
    demo: None,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    """Twelve alerts changed in one transaction, then three in another: each row carries the
    number its change has in the log, the numbers of a transaction follow one another, and
    the objects of the session that committed hold the same numbers as the rows."""
    places = ["Mavivi", "Oicha", "Eringeti", "Mbau", "Kamango", "Kasindi"]
    for n in range(12):
        body = f"Attaque en cours a {places[n % len(places)]} #{n}"
        form = sms_form(f"+2438100001{n + 1:02d}", body)
        assert (await post_twilio(client, "/webhooks/twilio/sms", form)).status_code == 200
    async with sessionmaker() as session:
        ids = list((await session.scalars(select(Alert.id).order_by(Alert.id))).all())
    assert len(ids) == 12

    for changed in (ids, ids[3:6]):
        async with unit_of_work(sessionmaker) as session:
            alerts = [await session.get(Alert, alert_id) for alert_id in changed]
            for alert in alerts:
                assert alert is not None
                alert.assignee = f"Cpt. {len(changed)}"
        held = {alert.id: alert.change_seq for alert in alerts if alert is not None}
        async with sessionmaker() as session:
            rows = dict((await session.execute(select(Alert.id, Alert.change_seq))).all())
            log = (
                await session.execute(
                    select(Change.seq, Change.entity_id)
                    .where(Change.event == "alert.updated", Change.entity_id.in_(changed))
                    .order_by(Change.seq)
                )
            ).all()
        latest = {entity_id: seq for seq, entity_id in log}
        numbers = sorted(latest.values())
        assert {alert_id: rows[alert_id] for alert_id in changed} == latest == held
        assert numbers == list(range(numbers[0], numbers[0] + len(changed)))


async def test_an_event_in_a_trail_is_one_new_version_of_the_alert_written_with_its_number(
    client: httpx.AsyncClient,
    demo: None,
    engine: AsyncEngine,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    """A note or a corroborating report adds to an alert's trail without changing a column of
    its own: the alert goes up one version, its `updated_at` moves and it gets a change
    number, as the log says; on PostgreSQL all three go in with the number (one new version
    of the row, not an UPDATE before the numbering's). Touched and changed in one flush, or
    touched among nine alerts (the numbering's other form), it still goes up one version."""
    places = ["Mavivi", "Oicha", "Eringeti", "Mbau", "Kamango", "Kasindi"]
    for n in range(9):
        body = f"Attaque en cours a {places[n % len(places)]} #{n}"
        form = sms_form(f"+2438100001{n + 1:02d}", body)
        assert (await post_twilio(client, "/webhooks/twilio/sms", form)).status_code == 200

    async def rows() -> dict[int, tuple[int, datetime, int]]:
        async with sessionmaker() as session:
            found = await session.execute(
                select(Alert.id, Alert.version, Alert.updated_at, Alert.change_seq)
            )
            return {i: (v, at, seq) for i, v, at, seq in found.all()}

    statements: list[str] = []

    def seen(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        statements.append(" ".join(statement.split()).lower())

    before = await rows()
    ids = sorted(before)
    assert len(ids) == 9
    for touched, assigned in (([ids[0]], []), ([ids[1]], [ids[1]]), (ids, [])):
        statements.clear()
        listen(engine.sync_engine, "before_cursor_execute", seen)
        try:
            async with unit_of_work(sessionmaker) as session:
                alerts = [await session.get(Alert, alert_id) for alert_id in touched]
                for alert in alerts:
                    assert alert is not None
                    add_event(session, alert, actor="system", action="note", note="seen")
                    if alert.id in assigned:
                        alert.assignee = "Cpt. Amani"
        finally:
            remove(engine.sync_engine, "before_cursor_execute", seen)
        after = await rows()
        async with sessionmaker() as session:
            logged = dict(
                (
                    await session.execute(
                        select(Change.entity_id, func.max(Change.seq))
                        .where(Change.event == "alert.updated")
                        .group_by(Change.entity_id)
                    )
                ).all()
            )
        for alert in alerts:
            assert alert is not None
            version, at, seq = after[alert.id]
            assert version == before[alert.id][0] + 1, (touched, assigned)
            assert at > before[alert.id][1]
            assert seq > before[alert.id][2] and seq == logged[alert.id]
            # The objects of the session that committed hold what the rows hold.
            assert (alert.version, alert.updated_at, alert.change_seq) == (version, at, seq)
        if engine.dialect.name == "postgresql" and not assigned:
            assert not [s for s in statements if s.startswith("update alerts")], statements
        before = after
