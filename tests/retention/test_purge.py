"""Retention: a purge removes the texts and numbers past their time, and nothing else.
Rows stay (statistics are the same before and after), texts and numbers give way to fixed
markers, what is not yet due (or still being sent) is untouched, and `kengele purge
--dry-run` counts what `kengele purge` then removes."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest
import typer
from click.testing import Result
from fastapi import FastAPI
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from typer.testing import CliRunner

from app.alerts.models import Alert, AlertEvent
from app.cli.retention import register
from app.inbound.models import InboundMessage
from app.kit.clock import utcnow
from app.kit.config import Settings, get_settings
from app.outbox.models import (
    CHANNEL_SMS,
    CHANNEL_WEBHOOK,
    PENDING,
    SENDING,
    Delivery,
    WebhookSubscription,
)
from app.retention import service
from app.retention.kinds import KINDS, PURGED_NUMBER, PURGED_TEXT
from app.stats import service as stats
from app.stats.scope import Scope
from tests.harness.gateway import running
from tests.support import make_key, post_twilio, sms_form

SMS = "/webhooks/twilio/sms"
REPORTS = [
    ("+243810000101", "Attaque en cours a Mavivi"),
    ("+243810000113", "Kalehe: des hommes armes pillent le marche"),
    ("+243810000116", "Attaque a Kalehe, rappelez-moi au 0990 000 002"),
    ("+243990000001", "Des hommes armes a Oicha"),
]
DAY = timedelta(days=1)


@pytest.fixture
def cli(database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[typer.Typer]:
    """A `kengele`-like app with `purge` and `audit`, on the test database."""
    monkeypatch.setenv("KENGELE_DATABASE_URL", database_url)
    get_settings.cache_clear()
    app = typer.Typer()
    register(app)
    yield app
    get_settings.cache_clear()


async def _load(app: FastAPI, sessionmaker: async_sessionmaker[AsyncSession]) -> list[int]:
    """Reports (alerts, inbound messages, receipts, pages); the first two alerts closed.

    The gateway is stopped afterwards: what its worker had not sent stays pending.
    """
    operator = {"Authorization": f"Bearer {await make_key(sessionmaker, 'operator')}"}
    async with sessionmaker() as s, s.begin():
        s.add(WebhookSubscription(url="https://partner.example/hook", event_types=[], secret="x"))
    async with running(app) as client:
        for phone, body in REPORTS:
            assert (await post_twilio(client, SMS, sms_form(phone, body))).status_code == 200
        async with sessionmaker() as s:
            ids = list((await s.scalars(select(Alert.id).order_by(Alert.id))).all())
        for alert_id, closing in zip(ids, ("resolve", "false_alarm"), strict=False):
            url = f"/api/v1/alerts/{alert_id}/actions"
            for action in ("acknowledge", closing):
                answer = await client.post(url, json={"action": action}, headers=operator)
                assert answer.status_code == 200, answer.text
    async with sessionmaker() as s, s.begin():
        # One delivery still waiting to be sent: never purged, whatever its age.
        s.add(
            Delivery(
                channel=CHANNEL_SMS,
                purpose="page",
                status=PENDING,
                recipient="+243820000201",
                body="K-2F7Q CRITIQUE",
                due_at=utcnow(),
            )
        )
        # One webhook delivery: its address is a system's, not a person's.
        s.add(
            Delivery(
                channel=CHANNEL_WEBHOOK,
                purpose="event",
                status="sent",
                recipient="https://partner.example/hook",
                body="{}",
                due_at=utcnow(),
            )
        )
    return ids


NOW = utcnow()
SCOPE = Scope(since=NOW - 30 * DAY, until=NOW + DAY, admin1=None, admin2=None)


async def _statistics(sessionmaker: async_sessionmaker[AsyncSession]) -> dict[str, Any]:
    scope = SCOPE
    async with sessionmaker() as s:
        read = await stats.stats(s, scope, 7)
    return read.model_dump(exclude={"silent_focal_points"})


async def _counts(sessionmaker: async_sessionmaker[AsyncSession]) -> dict[str, int]:
    async with sessionmaker() as s:
        return {
            model.__tablename__: int(await s.scalar(select(func.count()).select_from(model)) or 0)
            for model in (Alert, AlertEvent, InboundMessage, Delivery)
        }


async def _due(
    sessionmaker: async_sessionmaker[AsyncSession], settings: Settings, at: datetime
) -> dict[str, int]:
    async with sessionmaker() as s:
        return await service.count_due(s, settings, at)


async def test_purge_removes_what_is_due_and_nothing_else(
    app: FastAPI, demo: None, sessionmaker: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    settings = settings.model_copy(update={"retention_batch": 2})  # several batches per kind
    closed = (await _load(app, sessionmaker))[:2]
    before_stats = await _statistics(sessionmaker)
    before_rows = await _counts(sessionmaker)
    async with sessionmaker() as s:
        alerts_before = {a.id: a for a in (await s.scalars(select(Alert))).all()}
        sms = int(
            await s.scalar(
                select(func.count()).where(
                    Delivery.channel == CHANNEL_SMS, Delivery.status.not_in((PENDING, SENDING))
                )
            )
            or 0
        )
    assert sms >= 4, "receipts and pages were sent"

    # Today nothing is due; in 100 days the messages and deliveries are, not the alerts.
    assert await _due(sessionmaker, settings, utcnow()) == dict.fromkeys(KINDS, 0)
    later = utcnow() + 100 * DAY
    due = await _due(sessionmaker, settings, later)
    assert due == {
        "raw_messages": len(REPORTS),
        "message_texts": sms + 1,  # the webhook's payload too
        "delivery_numbers": sms,
        "closed_alert_texts": 0,
    }
    assert await service.purge(sessionmaker, settings, later) == due
    assert await _due(sessionmaker, settings, later) == dict.fromkeys(KINDS, 0)

    async with sessionmaker() as s:
        for message in (await s.scalars(select(InboundMessage))).all():
            assert (message.body, message.from_phone, message.raw) == (
                PURGED_TEXT,
                PURGED_NUMBER,
                {},
            )
        for delivery in (await s.scalars(select(Delivery))).all():
            if delivery.status in (PENDING, SENDING):
                assert delivery.recipient.startswith("+243") and delivery.body != PURGED_TEXT
            elif delivery.channel == CHANNEL_WEBHOOK:
                assert delivery.body == PURGED_TEXT
                assert delivery.recipient.startswith("https://")
            else:
                assert (delivery.body, delivery.recipient) == (PURGED_TEXT, PURGED_NUMBER)
                assert delivery.purpose and delivery.status and delivery.created_at
        for alert in (await s.scalars(select(Alert))).all():
            assert alert.body == alerts_before[alert.id].body, (
                "alerts keep their words for 180 days"
            )

    # In 200 days the closed alerts lose their words; open ones and every figure stay.
    much_later = utcnow() + 200 * DAY
    assert (await _due(sessionmaker, settings, much_later))["closed_alert_texts"] == 2
    assert (await service.purge(sessionmaker, settings, much_later))["closed_alert_texts"] == 2
    async with sessionmaker() as s:
        for alert in (await s.scalars(select(Alert))).all():
            old = alerts_before[alert.id]
            if alert.id in closed:
                assert (alert.body, alert.summary) == (PURGED_TEXT, None)
                assert alert.version > old.version, "pollers hear of the change"
            else:
                assert alert.body == old.body
            for name in (
                "category",
                "severity",
                "status",
                "place_id",
                "admin1",
                "admin2",
                "lat",
                "lon",
                "received_at",
                "reporter_id",
                "incident_id",
                "killed",
            ):
                assert getattr(alert, name) == getattr(old, name), name
    assert await _counts(sessionmaker) == before_rows, "no row is deleted"
    assert await _statistics(sessionmaker) == before_stats


async def test_zero_days_keeps_a_kind_for_ever(
    app: FastAPI, demo: None, sessionmaker: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    await _load(app, sessionmaker)
    keep = settings.model_copy(
        update={"retention_raw_messages_days": 0, "retention_closed_alert_texts_days": 0}
    )
    done = await service.purge(sessionmaker, keep, utcnow() + 1000 * DAY)
    assert done["raw_messages"] == done["closed_alert_texts"] == 0
    assert done["delivery_numbers"] > 0
    async with sessionmaker() as s:
        bodies = (await s.scalars(select(InboundMessage.body))).all()
    assert PURGED_TEXT not in bodies


async def run(app: typer.Typer, *args: str) -> Result:
    return await asyncio.to_thread(CliRunner().invoke, app, list(args))


async def test_purge_command_dry_run_then_purge(
    app: FastAPI,
    demo: None,
    sessionmaker: async_sessionmaker[AsyncSession],
    cli: typer.Typer,
) -> None:
    await _load(app, sessionmaker)
    # A year passes (the command purges against the clock).
    async with sessionmaker() as s, s.begin():
        for model, column in (
            (InboundMessage, "received_at"),
            (Delivery, "created_at"),
            (Alert, "updated_at"),
        ):
            for row in (await s.scalars(select(model))).all():
                setattr(row, column, getattr(row, column) - 365 * DAY)
    dry = await run(cli, "purge", "--dry-run")
    assert dry.exit_code == 0, dry.output
    counts = {
        line.split(":")[0].removeprefix("would purge "): int(line.split(":")[1])
        for line in dry.stdout.splitlines()
    }
    assert counts["raw_messages"] == len(REPORTS) and counts["closed_alert_texts"] == 2
    async with sessionmaker() as s:
        assert PURGED_TEXT not in (await s.scalars(select(InboundMessage.body))).all()
    done = await run(cli, "purge")
    assert done.exit_code == 0, done.output
    assert done.stdout.replace("purged ", "would purge ") == dry.stdout
    again = await run(cli, "purge", "--dry-run")
    assert all(line.endswith(": 0") for line in again.stdout.splitlines()), again.stdout


async def test_a_purged_delivery_is_not_sent_again(
    app: FastAPI, demo: None, sessionmaker: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    async with sessionmaker() as s, s.begin():
        dead = Delivery(
            channel=CHANNEL_SMS,
            purpose="receipt",
            status="dead",
            recipient="+243810000101",
            body="Kengele: alerte recue",
            due_at=utcnow(),
        )
        s.add(dead)
    await service.purge(sessionmaker, settings, utcnow() + 100 * DAY)
    operator = {"Authorization": f"Bearer {await make_key(sessionmaker, 'operator')}"}
    async with running(app) as client:
        answer = await client.post(f"/api/v1/deliveries/{dead.id}/retry", headers=operator)
    assert answer.status_code == 409
    assert "purged" in answer.json()["detail"]


async def test_the_worker_purges_in_its_retention_loop(
    app: FastAPI, demo: None, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    await _load(app, sessionmaker)
    async with sessionmaker() as s, s.begin():
        for message in (await s.scalars(select(InboundMessage))).all():
            message.received_at -= 365 * DAY
    async with running(app) as client:
        runtime = app.state.runtime
        assert "retention" in runtime.supervisor.loops
        assert client is not None
        wait = await runtime.retention()
    assert wait == runtime.settings.retention_interval_seconds, "nothing more is waiting"
    async with sessionmaker() as s:
        assert set((await s.scalars(select(InboundMessage.body))).all()) == {PURGED_TEXT}
