"""KENGELE_INBOUND_MODE=auto: a webhook processes its message itself (the TwiML carries the
receipt) while its process's webhooks are processing fewer than KENGELE_INLINE_AT_ONCE
messages; past that (a surge), it stores the message and answers at once, and the
background loop processes it and texts the receipt. Nothing is lost either way."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.alerts.models import Alert
from app.flows.inbound import Pipeline
from app.kit.config import Settings
from app.main import create_app
from app.outbox.models import Delivery
from tests.harness.gateway import running
from tests.support import post_twilio, sms_form, wait_until

SMS = "/webhooks/twilio/sms"
FOCAL_MAVIVI = "+243810000101"
FOCAL_OICHA = "+243810000102"


@pytest.fixture
def auto(settings: Settings) -> Settings:
    """Auto, one message processed by webhooks at a time, and a safety net that would not
    look again for an hour on its own: what the loop processes in these tests was woken."""
    return settings.model_copy(
        update={"inbound_mode": "auto", "inline_at_once": 1, "reprocess_interval_seconds": 3600}
    )


async def _alert_at(sessionmaker: async_sessionmaker[AsyncSession], place: str) -> Alert | None:
    async with sessionmaker() as s:
        return await s.scalar(select(Alert).where(Alert.place_id == place))


async def _replies_to(sessionmaker: async_sessionmaker[AsyncSession], phone: str) -> list[str]:
    async with sessionmaker() as s:
        rows = await s.scalars(
            select(Delivery).where(Delivery.purpose == "reply", Delivery.recipient == phone)
        )
        return [d.body for d in rows]


async def test_a_report_beyond_the_inline_limit_is_answered_at_once_and_filed_by_the_loop(
    auto: Settings,
    engine: object,
    demo: None,
    sessionmaker: async_sessionmaker[AsyncSession],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Mavivi's report is being processed by its webhook (slowly: held here) when Oicha's
    comes: Oicha's webhook answers without waiting, and the loop files it and texts its
    receipt. Mavivi's answer then carries its receipt, as inline; a report after it, with
    nothing in hand, is processed inline again."""
    real = Pipeline.process
    held, release = asyncio.Event(), asyncio.Event()

    async def slow_for_mavivi(self: Pipeline, message_id: int, **how: Any) -> object:
        if not how.get("reply_by_sms") and not held.is_set():
            held.set()
            await release.wait()
        return await real(self, message_id, **how)

    monkeypatch.setattr(Pipeline, "process", slow_for_mavivi)
    async with running(create_app(auto)) as client:
        mavivi = asyncio.create_task(
            post_twilio(client, SMS, sms_form(FOCAL_MAVIVI, "Attaque en cours a Mavivi"))
        )
        await asyncio.wait_for(held.wait(), timeout=10)

        oicha = await post_twilio(client, SMS, sms_form(FOCAL_OICHA, "Coups de feu a Oicha"))
        assert oicha.status_code == 200
        assert "<Message" not in oicha.text, "queued: its receipt leaves by SMS"
        filed = await wait_until(lambda: _alert_at(sessionmaker, "oicha"), what="the loop")
        assert isinstance(filed, Alert)
        (receipt,) = await wait_until(
            lambda: _replies_to(sessionmaker, FOCAL_OICHA), what="Oicha's receipt by SMS"
        )
        assert filed.ref in receipt
        assert not mavivi.done(), "Mavivi's webhook is still processing its report"

        release.set()
        answered = await asyncio.wait_for(mavivi, timeout=10)
        first = await _alert_at(sessionmaker, "mavivi")
        assert first is not None and f"ref {first.ref}" in answered.text
        assert await _replies_to(sessionmaker, FOCAL_MAVIVI) == [], "one receipt, in the TwiML"

        again = await post_twilio(client, SMS, sms_form(FOCAL_OICHA, "Pillage a Oicha hier"))
        assert "<Message" in again.text, "nothing in hand: processed inline again"


def _pipeline(settings: Settings, *, processing: int, loops_here: bool) -> Pipeline:
    pipeline = Pipeline(settings, None, None)  # type: ignore[arg-type]
    pipeline.processing, pipeline.processes_here = processing, loops_here
    return pipeline


@pytest.mark.parametrize(
    ("database_url", "processing", "loops_here", "queued"),
    [
        ("sqlite+aiosqlite:///k.db", 3, True, False),  # below the limit: inline
        ("sqlite+aiosqlite:///k.db", 4, True, True),  # at it, this process's loop takes it
        ("postgresql+asyncpg://k/k", 4, False, True),  # another process's loop, by NOTIFY
        ("sqlite+aiosqlite:///k.db", 9, False, False),  # no loop would hear of it: inline
    ],
)
def test_auto_queues_a_message_only_past_the_limit_and_when_a_loop_will_take_it(
    database_url: str, processing: int, loops_here: bool, queued: bool
) -> None:
    settings = Settings(database_url=database_url, inbound_mode="auto", inline_at_once=4)
    pipeline = _pipeline(settings, processing=processing, loops_here=loops_here)
    assert pipeline._queue_this() is queued


@pytest.mark.parametrize(("mode", "queued"), [("inline", False), ("queued", True)])
def test_inline_and_queued_do_not_look_at_the_load(mode: str, queued: bool) -> None:
    settings = Settings(database_url="sqlite+aiosqlite:///k.db", inbound_mode=mode)
    for processing in (0, 50):
        pipeline = _pipeline(settings, processing=processing, loops_here=True)
        assert pipeline._queue_this() is queued
