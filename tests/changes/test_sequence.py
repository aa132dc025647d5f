"""Polling never skips a change: a transaction still running holds back, from pollers, the
changes numbered after it (PostgreSQL numbers by transaction id, and transactions do not commit
in that order), and whatever commits later numbers above every cursor handed out before."""

from __future__ import annotations

import asyncio

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.alerts.models import Alert
from app.config import Settings
from app.db import unit_of_work
from tests.support import post_twilio, sms_form


async def _poll(client: httpx.AsyncClient, headers: dict[str, str], cursor: str) -> dict:  # type: ignore[type-arg]
    answer = await client.get(f"/api/v1/alerts?updated_after={cursor}", headers=headers)
    assert answer.status_code == 200, answer.text
    return answer.json()  # type: ignore[no-any-return]


async def test_a_transaction_still_running_holds_back_later_numbers_never_skipped(
    client: httpx.AsyncClient,
    demo: None,
    sessionmaker: async_sessionmaker[AsyncSession],
    viewer_headers: dict[str, str],
    settings: Settings,
) -> None:
    for phone, text in (("+243810000101", "Attaque a Mavivi"), ("+243810000102", "Pillage Oicha")):
        assert (await post_twilio(client, "/webhooks/twilio/sms", sms_form(phone, text))).is_success
    async with sessionmaker() as s:
        first_id, second_id = (await s.scalars(select(Alert.id).order_by(Alert.id))).all()
    cursor = (await _poll(client, viewer_headers, ""))["sync_cursor"]

    # T1 changes the first alert (its number is taken) and stays open...
    t1_session = sessionmaker()
    t1 = await t1_session.__aenter__()
    await t1.connection(execution_options={"kengele_sqlite_immediate": True})
    alert = await t1.get(Alert, first_id)
    assert alert is not None
    alert.assignee = "Cpt. Amani"
    await t1.flush()

    async def t2() -> None:
        async with unit_of_work(sessionmaker) as session:
            other = await session.get(Alert, second_id)
            assert other is not None
            other.assignee = "Lt. Kahindo"

    later = asyncio.create_task(t2())
    await asyncio.sleep(0.3)
    # ...while T2 changes the second (on SQLite it waits for the write lock; on PostgreSQL it
    # commits, with a number above T1's). A poll now must not move its cursor past T1's.
    if not settings.is_sqlite:  # SQLite: the poll's own unit of work waits for T1 too
        page = await _poll(client, viewer_headers, cursor)
        assert page["items"] == []
        assert page["sync_cursor"] == cursor

    await t1.commit()
    await t1_session.__aexit__(None, None, None)
    await asyncio.wait_for(later, 30)
    page = await _poll(client, viewer_headers, cursor)
    seen = [item["id"] for item in page["items"]]
    assert sorted(seen) == [first_id, second_id]
    again = await _poll(client, viewer_headers, page["sync_cursor"])
    assert again["items"] == []


async def test_a_later_commit_numbers_above_every_cursor_handed_out(
    client: httpx.AsyncClient,
    demo: None,
    sessionmaker: async_sessionmaker[AsyncSession],
    viewer_headers: dict[str, str],
) -> None:
    form = sms_form("+243810000101", "Attaque en cours a Mavivi")
    assert (await post_twilio(client, "/webhooks/twilio/sms", form)).is_success
    page = await _poll(client, viewer_headers, "")
    async with sessionmaker() as s:
        alert_id = (await s.scalars(select(Alert.id))).one()
    first = await _poll(client, viewer_headers, "")
    assert first["items"] == [] or first["sync_cursor"]
    cursor = page["sync_cursor"]
    async with unit_of_work(sessionmaker) as session:
        alert = await session.get(Alert, alert_id)
        assert alert is not None
        alert.assignee = "Cpt. Amani"
    changed = await _poll(client, viewer_headers, cursor)
    assert [item["id"] for item in changed["items"]] == [alert_id]
    assert changed["items"][0]["assignee"] == "Cpt. Amani"
