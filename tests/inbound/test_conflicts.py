"""A report the database aborted for a conflict with another (a deadlock between two reports
of one area) is tried again at once, not left for the safety net's retry 30 s later."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.alerts.models import Alert
from app.flows.inbound import Pipeline
from app.inbound.models import InboundMessage
from app.kit.db import CONFLICT_RETRIES
from app.kit.errors import conflicted
from tests.support import post_twilio, sms_form

SMS = "/webhooks/twilio/sms"


class _Aborted(Exception):
    """What the driver raises for a deadlock: SQLSTATE 40P01."""

    sqlstate = "40P01"


class Conflicts:
    """Filing a message is aborted as a deadlock `times` times, then goes through."""

    def __init__(self, times: int) -> None:
        self.times = times
        self.calls = 0
        self.real = Pipeline._store

    async def __call__(self, pipeline: Pipeline, *args: Any, **kwargs: Any) -> Any:
        self.calls += 1
        if self.calls <= self.times:
            raise DBAPIError("INSERT ...", {}, _Aborted("deadlock detected"))
        return await self.real(pipeline, *args, **kwargs)


@pytest.fixture
def conflicts(monkeypatch: pytest.MonkeyPatch) -> Iterator[Conflicts]:
    aborted = Conflicts(times=1)

    async def store(pipeline: Pipeline, *args: Any, **kwargs: Any) -> Any:
        return await aborted(pipeline, *args, **kwargs)

    monkeypatch.setattr(Pipeline, "_store", store)
    yield aborted


async def _message_and_alerts(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> tuple[InboundMessage, int]:
    async with sessionmaker() as s:
        message = await s.scalar(select(InboundMessage))
        alerts = int(await s.scalar(select(func.count()).select_from(Alert)) or 0)
    assert message is not None
    return message, alerts


async def test_a_report_aborted_for_a_deadlock_is_filed_in_the_same_request(
    client: httpx.AsyncClient,
    demo: None,
    sessionmaker: async_sessionmaker[AsyncSession],
    conflicts: Conflicts,
) -> None:
    response = await post_twilio(client, SMS, sms_form("+243810000101", "Attaque a Mavivi"))

    assert response.status_code == 200
    assert "K-" in response.text, "the receipt, with the alert's ref, in Twilio's answer"
    message, alerts = await _message_and_alerts(sessionmaker)
    assert (message.status, alerts) == ("processed", 1)
    assert message.attempts == 1, "the aborted tries left no trace: one attempt, this one"
    assert message.last_error is None, "no failure noted"
    assert conflicts.calls == 2


async def test_a_report_aborted_again_and_again_is_left_to_the_safety_net(
    client: httpx.AsyncClient,
    demo: None,
    sessionmaker: async_sessionmaker[AsyncSession],
    conflicts: Conflicts,
) -> None:
    conflicts.times = CONFLICT_RETRIES + 1  # the safety net's retry then goes through

    response = await post_twilio(client, SMS, sms_form("+243810000101", "Attaque a Mavivi"))

    assert response.status_code == 200, "the message is stored: Twilio gets its 200"
    assert "K-" not in response.text
    assert conflicts.calls == CONFLICT_RETRIES + 1, "tried again a bounded number of times"
    message, alerts = await _message_and_alerts(sessionmaker)
    assert (message.status, alerts) == ("received", 0)
    assert message.attempts == 1 and "deadlock detected" in (message.last_error or "")


async def test_another_error_is_not_tried_again_at_once(
    client: httpx.AsyncClient,
    demo: None,
    sessionmaker: async_sessionmaker[AsyncSession],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls = 0

    async def store(pipeline: Pipeline, *args: Any, **kwargs: Any) -> Any:
        nonlocal calls
        calls += 1
        raise DBAPIError("INSERT ...", {}, Exception("value too long"))

    monkeypatch.setattr(Pipeline, "_store", store)

    response = await post_twilio(client, SMS, sms_form("+243810000101", "Attaque a Mavivi"))

    assert response.status_code == 200
    assert calls == 1, "a bug or bad data fails the same way again: the safety net's backoff"
    message, _ = await _message_and_alerts(sessionmaker)
    assert message.status == "received" and message.attempts == 1


@pytest.mark.postgresql  # two transactions waiting on each other
async def test_a_real_deadlock_is_recognised_as_a_conflict(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    """What PostgreSQL raises through the driver for a deadlock is what `conflicted` knows."""
    first_holds, second_holds = asyncio.Event(), asyncio.Event()

    async def lock_both(order: tuple[int, int], mine: asyncio.Event, theirs: asyncio.Event) -> None:
        async with sessionmaker() as session, session.begin():
            await session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": order[0]})
            mine.set()
            await theirs.wait()
            await session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": order[1]})

    results = await asyncio.gather(
        lock_both((9_001, 9_002), first_holds, second_holds),
        lock_both((9_002, 9_001), second_holds, first_holds),
        return_exceptions=True,
    )

    errors = [r for r in results if isinstance(r, BaseException)]
    assert len(errors) == 1, "PostgreSQL aborts one of the two"
    assert conflicted(errors[0])
    assert not conflicted(DBAPIError("SELECT 1", {}, Exception("syntax error")))
