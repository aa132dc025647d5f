"""The worker: claims due deliveries and escalation steps, sends, records each attempt.

Claims are short transactions (SKIP LOCKED on PostgreSQL, a lease on each row); each send
happens outside any transaction and its result is recorded in a transaction of its own.
A worker killed after claiming leaves rows that another worker takes once the lease expires.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import time
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.config import Settings
from app.db import unit_of_work
from app.escalation import repository as escalation_repo
from app.escalation import service as escalation
from app.kit import metrics
from app.kit.clock import utcnow
from app.kit.loops import Backoff
from app.outbox import health, routing, service
from app.outbox import repository as repo
from app.outbox.models import (
    CHANNEL_SMS,
    CHANNEL_VOICE,
    CHANNEL_WEBHOOK,
    SENDING,
    Delivery,
    DeliveryAttempt,
)
from app.outbox.types import SendResult
from app.outbox.wakeup import Wakeup
from app.outbox.webhooks import WebhookSender

log = logging.getLogger(__name__)


class SmsSender(Protocol):
    """What the worker needs of the SMS channels (app.outbox.channels.ChannelSender)."""

    async def send(self, delivery: Delivery) -> SendResult:
        """Hand one SMS to the provider of its channel."""
        ...

    async def call(self, delivery: Delivery) -> SendResult:
        """Place one voice call reading `delivery.body` (app.outbox.voice)."""
        ...


class Worker:
    """Sends the outbox and advances escalations until stopped."""

    def __init__(
        self,
        settings: Settings,
        sessionmaker: async_sessionmaker[AsyncSession],
        wakeup: Wakeup,
        sms: SmsSender,
        webhooks: WebhookSender,
        name: str | None = None,
    ) -> None:
        self.settings = settings
        self.sessionmaker = sessionmaker
        self.wakeup = wakeup
        self.sms = sms
        self.webhooks = webhooks
        self.name = name or f"{socket.gethostname()}:{os.getpid()}:{id(self) % 10_000}"
        # Tests stop a worker between claim and send to play a crash.
        self.before_send: Callable[[Delivery], Awaitable[None]] | None = None
        # One task per delivery in flight: a hung send holds its own row and slot only.
        self.sending: set[asyncio.Task[None]] = set()

    async def step(self) -> float:
        """One pass of the worker's loop; returns how long to sleep unless woken sooner."""
        if await self.run_once():
            return 0.0
        if self.free_slots() == 0:
            return self.settings.worker_poll_seconds  # a finished send wakes the loop
        return await self._seconds_to_next()

    def free_slots(self) -> int:
        """How many more deliveries this worker may send at once."""
        return max(self.settings.send_concurrency - len(self.sending), 0)

    async def run_once(self) -> int:
        """One pass: due escalation steps, then claim what free slots allow and start sending
        each claimed row on its own; returns how much was done."""
        now = utcnow()
        async with unit_of_work(self.sessionmaker) as session:
            stepped = await escalation.advance_due(
                session, self.settings, now, self.settings.worker_batch
            )
        limit = min(self.free_slots(), self.settings.worker_batch)
        claimed = await self._claim(limit) if limit else []
        for delivery in claimed:
            metrics.count_delivery(delivery.channel, None, SENDING)
            task = asyncio.create_task(self._send(delivery), name=f"send-{delivery.id}")
            self.sending.add(task)
            task.add_done_callback(self._sent)
        return stepped + len(claimed)

    def _sent(self, task: asyncio.Task[None]) -> None:
        was_full = self.free_slots() == 0
        self.sending.discard(task)
        if not task.cancelled() and (error := task.exception()) is not None:
            # Its row stays leased: sent again once the lease runs out.
            log.error("worker %s: %s failed", self.name, task.get_name(), exc_info=error)
        if was_full:
            self.wakeup.set()  # a slot is free: claim what waits

    async def drain(self, grace: float) -> None:
        """Let the sends in flight finish and be recorded (cancelled after `grace` s)."""
        if not self.sending:
            return
        _, late = await asyncio.wait(set(self.sending), timeout=grace)
        for task in late:
            task.cancel()  # its row waits for the lease to run out
        await asyncio.gather(*late, return_exceptions=True)

    async def _claim(self, limit: int) -> list[Delivery]:
        """Lease up to `limit` due rows: SMS first (pages), each number within its rate."""
        settings = self.settings
        now = utcnow()
        lease = now + timedelta(seconds=settings.lease_seconds)
        out: list[Delivery] = []
        async with unit_of_work(self.sessionmaker) as session:
            await repo.bury_crashed(session, now)
            for sender in await repo.due_sms_senders(session, now):
                if len(out) >= limit:
                    break
                rate, burst = await routing.rate_of(session, settings, sender)
                bucket = await repo.lock_rate(session, sender, float(burst))
                if bucket is None:
                    continue
                elapsed = max((now - bucket.updated_at).total_seconds(), 0.0)
                tokens = min(float(burst), bucket.tokens + elapsed * rate)
                rows = await repo.claim(
                    session,
                    now=now,
                    lease_until=lease,
                    worker=self.name,
                    limit=min(int(tokens), limit - len(out)),
                    channel=CHANNEL_SMS,
                    sender=sender,
                )
                bucket.tokens = tokens - len(rows)
                bucket.updated_at = now
                out += rows
            for channel in (CHANNEL_VOICE, CHANNEL_WEBHOOK):
                out += await repo.claim(
                    session,
                    now=now,
                    lease_until=lease,
                    worker=self.name,
                    limit=limit - len(out),
                    channel=channel,
                )
        return out

    async def _send(self, delivery: Delivery) -> None:
        if self.before_send is not None:
            await self.before_send(delivery)
        lease = delivery.lease_until
        if lease is not None and utcnow() >= lease - timedelta(seconds=1):
            # Too late in the lease: another worker may take the row; sending could double it.
            log.warning(
                "worker %s: lease of delivery %s ran out before sending", self.name, delivery.id
            )
            return
        started = time.perf_counter()
        try:
            result = await self._deliver(delivery)
        except Exception as exc:  # a sender bug must not lose the row: retry it
            log.exception("worker %s: delivery %s raised", self.name, delivery.id)
            result = SendResult(ok=False, retryable=True, error=f"{type(exc).__name__}: {exc}")
        duration_ms = (time.perf_counter() - started) * 1000
        backoff = Backoff()
        while True:
            try:
                await self._record(delivery, result, duration_ms)
                return
            except Exception as exc:
                # The provider has the message: recording it must outlast a database blip,
                # or the row would be sent again once its lease runs out.
                delay = backoff.next()
                lease = delivery.lease_until
                if lease is None or utcnow() + timedelta(seconds=delay) >= lease:
                    raise
                if backoff.failures == 1:
                    log.warning(
                        "worker %s: recording delivery %s failed (%s); retrying",
                        self.name,
                        delivery.id,
                        type(exc).__name__,
                    )
                await asyncio.sleep(delay)

    async def _record(self, delivery: Delivery, result: SendResult, duration_ms: float) -> None:
        """Store the attempt and move the row on, if this worker still holds its lease."""
        async with unit_of_work(self.sessionmaker) as session:
            row = await repo.lock_leased(session, delivery.id, self.name)
            if row is None:
                # The lease ran out and another worker took the row: keep a trace of this send.
                log.warning("worker %s: lost the lease of delivery %s", self.name, delivery.id)
                repo.add_attempt(
                    session,
                    DeliveryAttempt(
                        delivery_id=delivery.id,
                        status="lease_lost" if result.ok else "lease_lost_error",
                        provider_id=result.provider_id,
                        error=result.error,
                        worker=self.name,
                        duration_ms=duration_ms,
                    ),
                )
                return
            # Receipt time of the alert when this is its first page handed over (measured
            # once per alert, after the commit).
            first_page_of = None
            if result.ok and row.purpose == "page" and row.alert_id is not None:
                first_page_of = await repo.received_if_unpaged(session, row.alert_id)
            await service.apply_result(
                session, self.settings, row, result, worker=self.name, duration_ms=duration_ms
            )
            if result.ok and row.channel == CHANNEL_SMS and row.via is not None:
                await health.sent(session, self.settings, row.via)
        metrics.count_delivery(row.channel, SENDING, row.status)
        if first_page_of is not None and row.sent_at is not None:
            waited = (row.sent_at - first_page_of).total_seconds()
            metrics.FIRST_PAGE_SECONDS.observe(max(waited, 0.0))

    async def _deliver(self, delivery: Delivery) -> SendResult:
        if delivery.channel == CHANNEL_SMS:
            return await self.sms.send(delivery)
        if delivery.channel == CHANNEL_VOICE:
            return await self.sms.call(delivery)
        async with self.sessionmaker() as session:
            subscription = await repo.get_subscription(session, delivery.subscription_id or 0)
        if subscription is None or not subscription.active:
            return SendResult(ok=False, retryable=False, error="subscription removed or disabled")
        return await self.webhooks.send(
            url=delivery.recipient,
            secret=subscription.secret,
            msg_id=delivery.event_id or f"msg_delivery_{delivery.id}",
            timestamp=int(time.time()),
            body=delivery.body.encode(),
            allow_private=self.settings.webhook_allow_private,
        )

    async def _seconds_to_next(self) -> float:
        poll = self.settings.worker_poll_seconds
        async with self.sessionmaker() as session:
            times = [
                t
                for t in (
                    await repo.next_due_at(session),
                    await escalation_repo.next_due_at(session),
                )
                if t is not None
            ]
        if not times:
            return poll
        wait = (min(times) - utcnow()).total_seconds()
        # A rate-limited sender gets a token back every 1/rate seconds.
        return min(max(wait, 1.0 / self.settings.sms_rate_per_second / 4, 0.01), poll)
