"""What a process runs besides HTTP: the one place that starts its background loops (the
outbox worker, the escalation steps, the inbound safety net, the channels' watch, the change
log's pruning, retention, the provider statuses that came before their send was recorded)."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from datetime import timedelta
from functools import partial
from typing import Annotated, Any

from fastapi import Depends, Request
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from app.changes import feed as change_feed
from app.changes import service as changes
from app.channels import service as channels
from app.demo import load_demo_data
from app.escalation.service import seed_default_policies
from app.flows import channel_health, roster
from app.flows.escalation_step import EscalationSteps
from app.flows.inbound import INTAKE_CHANNEL, Pipeline
from app.flows.provider_reports import apply_early, page_dead
from app.geo.service import GazetteerCache
from app.kit import crypto, hooks
from app.kit.changes import CHANNEL as CHANGES_CHANNEL
from app.kit.clock import utcnow
from app.kit.config import DEV_AUTH_TOKEN, Settings
from app.kit.db import create_engine, create_sessionmaker, unit_of_work
from app.kit.loops import Loop, Step, Supervisor, Wake
from app.kit.migrate import upgrade
from app.outbox import wakeup as wake
from app.outbox.channels import ChannelSender
from app.outbox.webhooks import WebhookSender
from app.outbox.worker import Worker
from app.people import service as people
from app.providers.configured import make_sms_sender
from app.retention.service import purge
from app.startup import StartupError
from app.triage.lexicon import LexiconError, load_lexicon

log = logging.getLogger("kengele")


def check_settings(settings: Settings) -> None:
    """Refuse unsafe production settings; warn about risky ones at every start."""
    token = settings.twilio_auth_token.get_secret_value()
    if settings.sms_provider == "twilio" and token in ("", DEV_AUTH_TOKEN):
        raise StartupError(
            "KENGELE_SMS_PROVIDER=twilio needs KENGELE_TWILIO_AUTH_TOKEN: set it to the auth "
            "token of your Twilio account (Twilio Console, Account info), or use "
            "KENGELE_SMS_PROVIDER=console to try the gateway without Twilio"
        )
    try:
        load_lexicon()  # word lists that cannot be read would fail every report: say it now
    except LexiconError as exc:
        raise StartupError(f"triage cannot start: {exc}") from exc
    if not settings.twilio_validate_signature:
        log.warning(
            "Twilio signature check is OFF (KENGELE_TWILIO_VALIDATE_SIGNATURE=false): "
            "anyone who can reach this server can inject alerts"
        )
    if settings.inbound_mode == "queued" and settings.is_sqlite and not settings.run_worker:
        log.warning(
            "KENGELE_INBOUND_MODE=queued without this process's loops on SQLite: a `kengele "
            "worker` finds the messages every KENGELE_REPROCESS_INTERVAL_SECONDS (%s s); "
            "SQLite has no NOTIFY to wake it sooner",
            settings.reprocess_interval_seconds,
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
    escalations: EscalationSteps
    sms: ChannelSender
    feed: change_feed.ChangeFeed
    stop: asyncio.Event = field(default_factory=asyncio.Event)
    supervisor: Supervisor = field(init=False)
    listener: wake.PgListener | None = None
    changes_listener: wake.PgListener | None = None
    intake_listener: wake.PgListener | None = None

    def __post_init__(self) -> None:
        self.supervisor = Supervisor(self.stop)

    @classmethod
    async def open(cls, settings: Settings) -> Runtime:
        """Check settings, connect, migrate (if asked), seed defaults, load demo (if asked)."""
        check_settings(settings)
        engine = create_engine(settings)
        sessionmaker = create_sessionmaker(engine)
        if settings.auto_migrate:
            await upgrade(engine)
        for notice in crypto.start_notices():  # keys generated or read from the data dir
            log.warning(notice)
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
        if settings.sms_provider == "console" and not settings.demo:
            # The default, for trying the gateway: a deployment on handsets alone that keeps
            # it would see pages "sent" by the channel 'twilio' when its handsets are down.
            log.warning(
                "KENGELE_SMS_PROVIDER=console: SMS by the channel 'twilio' are written to this "
                "log, not sent; set KENGELE_SMS_PROVIDER=twilio, or turn the channel 'twilio' "
                "off (PATCH /api/v1/channels/{id} active: false) where handsets carry every SMS"
            )
        if settings.demo:
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
        gazetteers = GazetteerCache(
            served_area=people.served_area, region=settings.triage_region_list
        )
        webhooks = WebhookSender(timeout=settings.webhook_timeout_seconds)
        sms = ChannelSender(settings, sessionmaker, make_sms_sender(settings))
        worker = Worker(
            settings,
            sessionmaker,
            wakeup,
            sms,
            webhooks,
            announce=lambda session, channel: channel_health.changed(session, settings, channel),
            gave_up=lambda session, delivery: page_dead(session, settings, delivery),
            requeued=lambda session, delivery: roster.requeued(session, settings, delivery),
        )
        runtime = cls(
            settings=settings,
            engine=engine,
            sessionmaker=sessionmaker,
            gazetteers=gazetteers,
            pipeline=Pipeline(settings, sessionmaker, gazetteers),
            wakeup=wakeup,
            worker=worker,
            escalations=EscalationSteps(settings, sessionmaker),
            sms=sms,
            feed=feed,
        )
        # The place index is built before the process serves (not on the first SMS), and
        # rebuilt in the background when another process or an import changes places.
        await gazetteers.load(sessionmaker)
        await runtime.pipeline.prepare()
        runtime._supervise("gazetteer", gazetteers.check)
        if not settings.is_sqlite:
            # Every API process streams changes committed by any process.
            runtime.changes_listener = await runtime._listen(feed, CHANGES_CHANNEL)
        return runtime

    async def _listen(
        self, signal: Any, channel: str, *, handoff_seconds: float = 0.0
    ) -> wake.PgListener:
        """A LISTEN connection waking `signal`, kept open (and reopened) by a loop."""
        dsn = wake.asyncpg_dsn(self.settings.database_url)
        listener = wake.PgListener(
            dsn,
            signal,
            channel,
            ignore=hooks.origin(self.sessionmaker),
            handoff_seconds=handoff_seconds,
        )
        await listener.start()
        self._supervise(f"listen-{channel}", listener.step, wake=listener.wait_lost)
        return listener

    def _supervise(self, name: str, step: Step, *, wake: Wake | None = None) -> None:
        stale_after = self.settings.loop_stale_seconds
        self.supervisor.start(Loop(name, step, stale_after=stale_after, wake=wake))

    async def start_background(self) -> None:
        """Start the worker, the escalation steps, the safety net, the channels' watch, the
        change log's pruning, retention and the provider statuses that came early in this
        process."""
        self.wakeup.bind()
        if not self.settings.is_sqlite:
            self.listener = await self._listen(
                self.wakeup, wake.CHANNEL, handoff_seconds=wake.HANDOFF_SECONDS
            )
        self._supervise("worker", self.worker.step, wake=self.wakeup.wait)
        self._supervise("escalation", self.escalations.step, wake=self.wakeup.waiter())
        # Work this process commits from now on wakes its own worker and escalation steps
        # at the commit; its NOTIFYs say so, and the other processes' loops leave that work
        # to them for a moment instead of each racing for it (app.outbox.wakeup).
        hooks.serves_own_work(self.sessionmaker)
        # Queued, every webhook's message is processed by this loop, woken at once by this
        # process's webhooks, and by NOTIFY from processes that run no loops.
        self.pipeline.intake.bind()
        self.pipeline.processes_here = True
        if self.pipeline.queued and not self.settings.is_sqlite:
            self.intake_listener = await self._listen(self.pipeline.intake, INTAKE_CHANNEL)
        self._supervise(
            "safety-net", self.pipeline.safety_net(utcnow()), wake=self.pipeline.intake.wait
        )
        self._supervise("prune-changes", self.prune_changes)
        self._supervise("retention", self.retention)
        self._supervise("watch-channels", self.watch_channels)
        self._supervise("early-statuses", partial(apply_early, self.sessionmaker, self.settings))

    async def watch_channels(self) -> float:
        """Mark down the channels whose heartbeats stopped (a pass every few seconds)."""
        async with unit_of_work(self.sessionmaker) as session:
            await channel_health.check(session, self.settings)
        return self.settings.channel_check_seconds

    async def prune_changes(self, every_seconds: float = 600.0) -> float:
        """Forget changes older than the stream's replay window (a pass every 10 minutes)."""
        keep = timedelta(hours=self.settings.change_retention_hours)
        async with unit_of_work(self.sessionmaker) as session:
            await changes.prune(session, utcnow() - keep)
        return every_seconds

    async def retention(self) -> float:
        """Purge what is past its retention time, a few small batches a pass."""
        done = await purge(self.sessionmaker, self.settings, max_batches=5)
        full = 5 * self.settings.retention_batch
        # More is waiting: come back soon, after the other work had its turn.
        return (
            1.0
            if any(n >= full for n in done.values())
            else self.settings.retention_interval_seconds
        )

    async def close(self) -> None:
        """Stop the background tasks and close every connection; never raises (a database
        gone away must not turn a clean stop into a crash)."""
        self.stop.set()
        self.feed.set()  # live streams see `stop` and end
        # From now on this process's loops take no new work: other processes must not wait
        # for them (the drain's last records and retries wake them at once).
        hooks.serves_own_work(self.sessionmaker, serving=False)
        self.pipeline.processes_here = False
        await self.supervisor.close(grace=15)
        await self.worker.drain(grace=15)  # the sends in hand are finished and recorded
        for listener in (self.listener, self.changes_listener, self.intake_listener):
            if listener is not None:
                await listener.stop()
        for what, release in (
            ("gazetteer rebuild", self.gazetteers.close),
            ("webhook client", self.worker.webhooks.aclose),
            ("channel senders", self.sms.aclose),
            ("database", self.engine.dispose),
        ):
            try:
                await asyncio.wait_for(release(), timeout=10)
            except Exception as exc:
                log.warning("closing the %s failed: %s", what, type(exc).__name__)


async def _of_request(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


# The runtime of the application serving the request (a typed FastAPI dependency).
RuntimeDep = Annotated[Runtime, Depends(_of_request)]
