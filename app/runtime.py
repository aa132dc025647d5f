"""What a process runs besides HTTP: the outbox worker and the inbound safety net."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from app.changes import feed as change_feed
from app.changes import repository as changes_repo
from app.changes.tracker import CHANNEL as CHANGES_CHANNEL
from app.channels import service as channels
from app.config import DEV_AUTH_TOKEN, Settings
from app.db import create_engine, create_sessionmaker, unit_of_work
from app.escalation.service import seed_default_policies
from app.geo.service import GazetteerCache
from app.inbound.pipeline import Pipeline
from app.kit.clock import utcnow
from app.migrate import upgrade
from app.outbox import health as channel_health
from app.outbox import wakeup as wake
from app.outbox.channels import ChannelSender
from app.outbox.webhooks import WebhookSender
from app.outbox.worker import Worker
from app.providers.twilio_client import make_sms_sender

log = logging.getLogger("kengele")


def check_settings(settings: Settings) -> None:
    """Refuse unsafe production settings; warn about risky ones at every start."""
    token = settings.twilio_auth_token.get_secret_value()
    if settings.sms_provider == "twilio" and token == DEV_AUTH_TOKEN:
        raise RuntimeError("KENGELE_TWILIO_AUTH_TOKEN must be set with KENGELE_SMS_PROVIDER=twilio")
    if not settings.twilio_validate_signature:
        log.warning(
            "Twilio signature check is OFF (KENGELE_TWILIO_VALIDATE_SIGNATURE=false): "
            "anyone who can reach this server can inject alerts"
        )


@dataclass
class Runtime:
    """The database, the pipeline, and (when asked) the background tasks of one process."""

    settings: Settings
    engine: AsyncEngine
    sessionmaker: async_sessionmaker[AsyncSession]
    gazetteers: GazetteerCache
    pipeline: Pipeline
    wakeup: wake.Wakeup
    worker: Worker
    sms: ChannelSender
    feed: change_feed.ChangeFeed
    tasks: list[asyncio.Task[None]] = field(default_factory=list)
    stop: asyncio.Event = field(default_factory=asyncio.Event)
    listener: wake.PgListener | None = None
    changes_listener: wake.PgListener | None = None

    @classmethod
    async def open(cls, settings: Settings) -> Runtime:
        """Check settings, connect, migrate (if asked), seed defaults, load demo (if asked)."""
        check_settings(settings)
        engine = create_engine(settings)
        sessionmaker = create_sessionmaker(engine)
        if settings.auto_migrate:
            await upgrade(engine)
        try:
            async with unit_of_work(sessionmaker) as session:
                if await seed_default_policies(session):
                    log.info("default escalation policies stored")
        except IntegrityError:
            log.info("default escalation policies stored by another process")
        try:
            async with unit_of_work(sessionmaker) as session:
                if await channels.ensure_twilio(session, settings):
                    log.info("the Twilio settings are the channel 'twilio'")
        except IntegrityError:
            log.info("the channel 'twilio' was stored by another process")
        if settings.demo:
            from app.demo import load_demo_data

            await load_demo_data(sessionmaker, settings.default_region)
            log.info("demo data loaded")
        if settings.demo_handset:
            try:
                async with unit_of_work(sessionmaker) as session:
                    await channels.ensure_demo(session, settings)
            except IntegrityError:
                pass  # another process made it
            log.info("the console handset %s is first in the routes", channels.DEMO_CHANNEL)
        wakeup = wake.Wakeup()
        wake.install(sessionmaker, wakeup)
        feed = change_feed.ChangeFeed()
        feed.bind()
        change_feed.install(sessionmaker, feed)
        changes_listener = None
        if not settings.is_sqlite:
            # Every API process streams changes committed by any process.
            dsn = wake.asyncpg_dsn(settings.database_url)
            changes_listener = wake.PgListener(dsn, feed, CHANGES_CHANNEL)
            await changes_listener.start()
        gazetteers = GazetteerCache()
        sms = ChannelSender(settings, sessionmaker, make_sms_sender(settings))
        worker = Worker(settings, sessionmaker, wakeup, sms, WebhookSender())
        return cls(
            settings=settings,
            engine=engine,
            sessionmaker=sessionmaker,
            gazetteers=gazetteers,
            pipeline=Pipeline(settings, sessionmaker, gazetteers),
            wakeup=wakeup,
            worker=worker,
            sms=sms,
            feed=feed,
            changes_listener=changes_listener,
        )

    async def start_background(self) -> None:
        """Start the worker and the safety net in this process."""
        self.wakeup.bind()
        if not self.settings.is_sqlite:
            self.listener = wake.PgListener(
                wake.asyncpg_dsn(self.settings.database_url), self.wakeup
            )
            await self.listener.start()
        self.tasks.append(asyncio.create_task(self.worker.run(self.stop), name="worker"))
        started = utcnow()
        self.tasks.append(
            asyncio.create_task(self.pipeline.run_safety_net(self.stop, started), name="safety-net")
        )
        self.tasks.append(asyncio.create_task(self.prune_changes(), name="prune-changes"))
        self.tasks.append(asyncio.create_task(self.watch_channels(), name="watch-channels"))

    async def watch_channels(self) -> None:
        """Mark down, now and then, the channels whose heartbeats stopped."""
        while not self.stop.is_set():
            try:
                async with unit_of_work(self.sessionmaker) as session:
                    await channel_health.check(session, self.settings)
            except Exception:
                log.exception("checking the channels' heartbeats failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(
                    self.stop.wait(), timeout=self.settings.channel_check_seconds
                )

    async def prune_changes(self, every_seconds: float = 600.0) -> None:
        """Forget changes older than the stream's replay window, now and then."""
        keep = timedelta(hours=self.settings.change_retention_hours)
        while not self.stop.is_set():
            try:
                async with unit_of_work(self.sessionmaker) as session:
                    await changes_repo.prune(session, utcnow() - keep)
            except Exception:
                log.exception("pruning the change log failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.stop.wait(), timeout=every_seconds)

    async def close(self) -> None:
        """Stop the background tasks and close every connection."""
        self.stop.set()
        self.feed.set()  # live streams see `stop` and end
        for task in self.tasks:
            with contextlib.suppress(asyncio.CancelledError, TimeoutError):
                await asyncio.wait_for(task, timeout=15)
        if self.listener is not None:
            await self.listener.stop()
        if self.changes_listener is not None:
            await self.changes_listener.stop()
        await self.worker.webhooks.aclose()
        await self.sms.aclose()
        await self.engine.dispose()
