"""A sender's message that failed is not overtaken by the sender's next one: the earlier is
tried again first (once, within a bound), so that a correction, a resend or an `OK` is
handled after what it follows, as it was sent."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.alerts.models import Alert
from app.flows import inbound as pipeline_module
from app.flows import replies
from app.inbound.models import InboundMessage
from app.kit.clock import utcnow
from app.kit.config import Settings
from app.main import create_app
from tests.harness.gateway import running
from tests.inbound.conftest import Outage
from tests.support import post_twilio, sms_form

SMS = "/webhooks/twilio/sms"
FOCAL_MAVIVI = "+243810000101"
CLA_BENI = "+243820000201"  # a liaison of the demo data (Beni, Lubero)
pytestmark = pytest.mark.usefixtures("engine")  # tables emptied first


class FailsOnce:
    """Wraps an async function: its first call raises, the next ones go through."""

    def __init__(self, real: Callable[..., Awaitable[Any]]) -> None:
        self.real = real
        self.calls = 0

    async def __call__(self, *args: Any, **kwargs: Any) -> Any:
        self.calls += 1
        if self.calls == 1:
            raise RuntimeError("simulated failure of one message")
        return await self.real(*args, **kwargs)


async def _messages(sessionmaker: async_sessionmaker[AsyncSession]) -> list[InboundMessage]:
    async with sessionmaker() as s:
        return list((await s.scalars(select(InboundMessage).order_by(InboundMessage.id))).all())


async def _alerts(sessionmaker: async_sessionmaker[AsyncSession]) -> list[Alert]:
    async with sessionmaker() as s:
        return list((await s.scalars(select(Alert).order_by(Alert.id))).all())


def _slow_retries(settings: Settings, **more: object) -> Settings:
    """A failed message waits a minute for its retry: what happens meanwhile is the test."""
    return settings.model_copy(update={"reprocess_interval_seconds": 60.0, **more})


async def _retry_everything(app: FastAPI) -> None:
    """The retry that would come a minute later, now (what the sender's order came to)."""
    await app.state.pipeline.reprocess_due(left_before=utcnow())


async def test_a_liaison_s_later_correction_is_not_undone_by_an_earlier_one_that_failed(
    settings: Settings,
    demo: None,
    sessionmaker: async_sessionmaker[AsyncSession],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """MORTS 3, which fails once, then MORTS 5: the alert ends with 5 killed, the liaison's
    last word, and the first correction was handled before the second."""
    app = create_app(_slow_retries(settings))
    async with running(app) as client:
        response = await post_twilio(client, SMS, sms_form(FOCAL_MAVIVI, "Attaque a Mavivi"))
        assert response.status_code == 200
        (alert,) = await _alerts(sessionmaker)
        monkeypatch.setattr(replies, "handle_command", FailsOnce(replies.handle_command))

        first = await post_twilio(client, SMS, sms_form(CLA_BENI, f"MORTS {alert.ref[2:]} 3"))
        assert first.status_code == 200 and "corrige" not in first.text, "it failed"
        second = await post_twilio(client, SMS, sms_form(CLA_BENI, f"MORTS {alert.ref[2:]} 5"))
        assert second.status_code == 200

        _, earlier, later = await _messages(sessionmaker)
        assert earlier.status == "processed", "the failed correction was tried again first"
        assert earlier.processed_at and later.processed_at
        assert earlier.processed_at <= later.processed_at
        await _retry_everything(app)
    (alert,) = await _alerts(sessionmaker)
    assert alert.killed == 5, "the later correction stands"


async def test_a_resend_after_a_failure_is_folded_into_the_first_report(
    settings: Settings,
    demo: None,
    sessionmaker: async_sessionmaker[AsyncSession],
    outage: Outage,
) -> None:
    """A report fails; the reporter, without a receipt, sends it again: one alert, dated
    by the first report (filed first), its resend counted on it."""
    app = create_app(_slow_retries(settings))
    async with running(app) as client:
        await post_twilio(client, SMS, sms_form(FOCAL_MAVIVI, "Attaque a Mavivi"))
        outage.over = True
        again = await post_twilio(client, SMS, sms_form(FOCAL_MAVIVI, "Attaque a Mavivi"))
        assert "K-" in again.text, "the resend gets its receipt"
        first, resend = await _messages(sessionmaker)
        await _retry_everything(app)
    (alert,) = await _alerts(sessionmaker)
    assert alert.message_count == 2
    assert alert.received_at == first.received_at, "filed from the first report"
    assert (first.alert_id, resend.alert_id) == (alert.id, alert.id)


async def test_queued_a_sender_s_failed_message_goes_before_the_sender_s_next_one(
    settings: Settings,
    demo: None,
    sessionmaker: async_sessionmaker[AsyncSession],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Queued (or retried by the safety net): the loop takes the failed message, not due yet,
    with the sender's next one, and the sender's lane handles it first."""
    queued = _slow_retries(settings, inbound_mode="queued", run_worker=False)
    app = create_app(queued)
    async with running(app) as client:
        pipeline: pipeline_module.Pipeline = app.state.pipeline
        await post_twilio(client, SMS, sms_form(FOCAL_MAVIVI, "Attaque a Mavivi"))
        await pipeline.reprocess_due()
        (alert,) = await _alerts(sessionmaker)
        monkeypatch.setattr(replies, "handle_command", FailsOnce(replies.handle_command))

        await post_twilio(client, SMS, sms_form(CLA_BENI, f"MORTS {alert.ref[2:]} 3"))
        await pipeline.reprocess_due()  # fails: retried in a minute
        await post_twilio(client, SMS, sms_form(CLA_BENI, f"MORTS {alert.ref[2:]} 5"))
        await pipeline.reprocess_due()

        _, earlier, later = await _messages(sessionmaker)
        assert (earlier.status, later.status) == ("processed", "processed")
        assert earlier.processed_at and later.processed_at
        assert earlier.processed_at <= later.processed_at
        await _retry_everything(app)
    (alert,) = await _alerts(sessionmaker)
    assert alert.killed == 5, "the later correction stands"


async def test_a_message_that_keeps_failing_delays_the_sender_s_next_report_only_briefly(
    settings: Settings,
    demo: None,
    sessionmaker: async_sessionmaker[AsyncSession],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """An earlier message that hangs (the database holds it) is given part of the webhook's
    deadline, not all of it: the new report is filed in the same request, with its receipt,
    and the earlier one stays for its retry."""
    # Half the deadline for the earlier message, the rest for the report: 3 s each, which a
    # loaded machine needs (with 2 s, the report once missed its second in CI).
    app = create_app(_slow_retries(settings, webhook_deadline_seconds=6.0))
    real = pipeline_module.Pipeline.process

    async def hangs_on_the_first(
        self: pipeline_module.Pipeline, message_id: int, *, reply_by_sms: bool = False, **more: bool
    ) -> object:
        async with self.sessionmaker() as s:
            message = await s.get(InboundMessage, message_id)
        if message is not None and message.body == "Poison":
            await asyncio.sleep(3600)
        return await real(self, message_id, reply_by_sms=reply_by_sms, **more)

    monkeypatch.setattr(pipeline_module.Pipeline, "process", hangs_on_the_first)
    async with running(app) as client:
        first = await post_twilio(client, SMS, sms_form(FOCAL_MAVIVI, "Poison"))
        assert first.status_code == 200 and "K-" not in first.text
        report = await post_twilio(client, SMS, sms_form(FOCAL_MAVIVI, "Attaque a Mavivi"))
        assert "K-" in report.text, "filed within the request, its receipt in the answer"
        poison, _ = await _messages(sessionmaker)
    assert poison.status == "received"
    assert len(await _alerts(sessionmaker)) == 1
