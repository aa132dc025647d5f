"""The worker: claims due deliveries, sends them, records each attempt.

Claims are short transactions (SKIP LOCKED on PostgreSQL, a lease on each row) taken once
half of the send slots are free; each send happens outside any transaction, and the results
of the sends that finish together are recorded in one transaction.
A worker killed after claiming leaves rows that another worker takes once the lease expires.
The escalation steps that write pages run beside it (app.flows.escalation_step).
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.channels import service as channel_service
from app.channels.models import Channel
from app.kit import metrics
from app.kit.clock import utcnow
from app.kit.config import Settings
from app.kit.db import unit_of_work
from app.kit.errors import unavailable
from app.kit.loops import Backoff
from app.kit.signals import wait_for
from app.outbox import health, routing, service
from app.outbox import repository as repo
from app.outbox.models import (
    CHANNEL_SMS,
    CHANNEL_VOICE,
    CHANNEL_WEBHOOK,
    DEAD,
    PAGING,
    PENDING,
    SENDING,
    Delivery,
)
from app.outbox.wakeup import Wakeup
from app.outbox.webhooks import WebhookSender
from app.providers.types import SendResult

log = logging.getLogger(__name__)

# How long finished sends may wait for the others in flight to be recorded with them.
RECORD_GATHER_SECONDS = 0.005
# Rows given up on whose passing on raised are buried again this much later.
BURY_RETRY = timedelta(seconds=5)

# Tells everyone that a channel is up again (app.flows.channel_health.changed, given by the
# runtime): the worker sees it come back when one of its sends goes through.
Announce = Callable[[AsyncSession, Channel], Awaitable[None]]
# What happens when the worker gives up on a delivery (dead), in the transaction that says so:
# a page goes to the next liaison, else the JOC (app.flows.provider_reports.page_dead, given
# by the runtime; the outbox does not know escalation).
GaveUp = Callable[[AsyncSession, Delivery], Awaitable[None]]
# What happens when a page or call goes back to its queue after a failed send, in the same
# transaction (app.flows.roster.requeued: passed on if its liaison went off duty meanwhile).
Requeued = Callable[[AsyncSession, Delivery], Awaitable[None]]


class SmsSender(Protocol):
    """What the worker needs of the SMS channels (app.outbox.channels.ChannelSender)."""

    async def send(
        self, delivery: Delivery, channels: Mapping[str, Channel] | None = None
    ) -> SendResult:
        """Hand one SMS to the provider of its channel (`channels`: by name, as claimed)."""
        ...

    async def call(self, delivery: Delivery) -> SendResult:
        """Place one voice call reading `delivery.body` (app.outbox.voice)."""
        ...


@dataclass(slots=True)
class _Sent:
    """A finished send waiting to be recorded; `done` is set once it is (or cannot be)."""

    delivery: Delivery
    result: SendResult
    duration_ms: float
    done: asyncio.Future[None]
    channels: Mapping[str, Channel]  # the channels as the claim read them


class Worker:
    """Sends the outbox until stopped."""

    def __init__(
        self,
        settings: Settings,
        sessionmaker: async_sessionmaker[AsyncSession],
        wakeup: Wakeup,
        sms: SmsSender,
        webhooks: WebhookSender,
        announce: Announce,
        name: str | None = None,
        gave_up: GaveUp | None = None,
        requeued: Requeued | None = None,
    ) -> None:
        self.settings = settings
        self.sessionmaker = sessionmaker
        self.wakeup = wakeup
        self.sms = sms
        self.webhooks = webhooks
        self.announce = announce
        self.gave_up = gave_up
        # A page or call of a liaison that failed and went back to its queue: what is done
        # about it (passed on if the liaison went off duty while it was being sent).
        self.requeued = requeued
        self.name = name or f"{socket.gethostname()}:{os.getpid()}:{id(self) % 10_000}"
        # Tests stop a worker between claim and send to play a crash.
        self.before_send: Callable[[Delivery], Awaitable[None]] | None = None
        # One task per delivery in flight: a hung send holds its own row and slot only.
        self.sending: set[asyncio.Task[None]] = set()
        # Finished sends waiting to be recorded, and the task recording them.
        self._to_record: list[_Sent] = []
        self._recorder: asyncio.Task[None] | None = None
        self._bury_after = datetime.min.replace(tzinfo=UTC)
        self._finished = asyncio.Event()  # set when a send adds its result to `_to_record`

    async def step(self) -> float:
        """One pass of the worker's loop; returns how long to sleep unless woken sooner.

        A claim that filled its batch goes again at once: more may wait. One that took fewer
        took all that was due (and within its numbers' rates) when it ran, so the pass ends
        there, without a second claim that would find nothing: work committed since then has
        set the wake-up, which only the wait that sees it clears."""
        limit = self.claim_limit()
        claimed = await self.run_once(limit)
        if claimed and claimed >= limit:
            return 0.0
        if self.free_slots() < self.claim_at_least():
            return self.settings.worker_poll_seconds  # finished sends wake the loop
        return await self._seconds_to_next()

    def free_slots(self) -> int:
        """How many more deliveries this worker may send at once."""
        return max(self.settings.send_concurrency - len(self.sending), 0)

    def claim_at_least(self) -> int:
        """Free slots worth a claim: half of them, so that claims come in batches rather
        than one transaction per finished send."""
        return max(self.settings.send_concurrency // 2, 1)

    def claim_limit(self) -> int:
        """How many rows a claim may take now: none until half the slots are free."""
        free = self.free_slots()
        return min(free, self.settings.worker_batch) if free >= self.claim_at_least() else 0

    async def run_once(self, limit: int) -> int:
        """Claim up to `limit` rows and start sending each claimed row on its own; returns
        how many were claimed."""
        claimed, channels = await self._claim(limit) if limit else ([], {})
        for delivery in claimed:
            metrics.count_delivery(delivery.channel, None, SENDING)
            task = asyncio.create_task(self._send(delivery, channels), name=f"send-{delivery.id}")
            self.sending.add(task)
            task.add_done_callback(self._sent)
        return len(claimed)

    def _sent(self, task: asyncio.Task[None]) -> None:
        was_short = self.free_slots() < self.claim_at_least()
        self.sending.discard(task)
        if not task.cancelled() and (error := task.exception()) is not None:
            # Its row stays leased: sent again once the lease runs out.
            log.error("worker %s: %s failed", self.name, task.get_name(), exc_info=error)
        if was_short and self.free_slots() >= self.claim_at_least():
            self.wakeup.set()  # enough slots are free: claim what waits

    async def drain(self, grace: float) -> None:
        """Let the sends in flight finish and be recorded (cancelled after `grace` s)."""
        if self.sending:
            _, late = await asyncio.wait(set(self.sending), timeout=grace)
            for task in late:
                task.cancel()  # its row waits for the lease to run out
            await asyncio.gather(*late, return_exceptions=True)
        if self._recorder is not None and not self._recorder.done():
            self._recorder.cancel()
            await asyncio.gather(self._recorder, return_exceptions=True)

    async def _claim(self, limit: int) -> tuple[list[Delivery], dict[str, Channel]]:
        """Lease up to `limit` due rows: SMS first (pages), each number within its rate.
        Also returns the channels as they are now (their sends need them)."""
        settings = self.settings
        now = utcnow()
        lease = now + timedelta(seconds=settings.lease_seconds)
        out: list[Delivery] = []
        async with unit_of_work(self.sessionmaker) as session:
            # Released before the buried are passed on: the release reads liaisons under a
            # share lock, passing on takes escalations' locks, and a roster change takes the
            # liaison's lock before the escalations' (the other order could deadlock).
            await repo.release_expired(session, now)
            if now >= self._bury_after:  # a pass a second is enough for rows given up on
                await self._bury(session, now)
            channels = {c.name: c for c in await channel_service.list_all(session)}
            due = await repo.due_senders(session, now)
            for sender in due.get(CHANNEL_SMS, []):
                if len(out) >= limit:
                    break
                rate, burst = routing.rate_in(settings, sender, channels)
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
                # Another worker's claim may have locked it with a later clock than this
                # one's `now` (read before the lock): never wind it back, or the time
                # between would be credited twice.
                bucket.updated_at = max(bucket.updated_at, now)
                out += rows
            for channel in (CHANNEL_VOICE, CHANNEL_WEBHOOK):
                for sender in due.get(channel, []):
                    out += await repo.claim(
                        session,
                        now=now,
                        lease_until=lease,
                        worker=self.name,
                        limit=limit - len(out),
                        channel=channel,
                        sender=sender,
                    )
        return out, channels

    async def _bury(self, session: AsyncSession, now: datetime) -> None:
        """Rows whose worker died at their last attempt are dead, and passed on (a page to
        the next liaison), in a savepoint of the claim's transaction: when passing one on
        raises (a bug, data nobody expected), they are buried again BURY_RETRY later, and
        the claim goes on. Failing the claim instead failed every claim after it: one page
        held every SMS of the gateway. The database away still fails the claim."""
        try:
            async with session.begin_nested():
                buried = await repo.bury_crashed(session, now)
                # Passed on in alert order, as a recorder does (`_record`): each page passed
                # on takes its alert's escalation lock, and two transactions taking them in
                # other orders could each hold one the other waits for.
                for row in sorted(buried, key=lambda d: (d.alert_id or 0, d.id)):
                    await service.announce_dead(session, self.settings, row)
                    await self._gave_up(session, row)
        except Exception as exc:
            if unavailable(exc):
                raise
            log.exception(
                "worker %s: passing on the deliveries given up on failed; tried again in %.0f s",
                self.name,
                BURY_RETRY.total_seconds(),
            )
            self._bury_after = now + BURY_RETRY
            return
        self._bury_after = now + timedelta(seconds=1)

    async def _send(self, delivery: Delivery, channels: Mapping[str, Channel]) -> None:
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
            result = await self._deliver(delivery, channels)
        except Exception as exc:  # a sender bug must not lose the row: retry it
            log.exception("worker %s: delivery %s raised", self.name, delivery.id)
            result = SendResult(ok=False, retryable=True, error=f"{type(exc).__name__}: {exc}")
        duration_ms = (time.perf_counter() - started) * 1000
        # The send (and its slot) ends once its result is stored, with those of the sends
        # that finished meanwhile, in one transaction.
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._to_record.append(_Sent(delivery, result, duration_ms, done, channels))
        self._finished.set()
        if self._recorder is None or self._recorder.done():
            self._recorder = asyncio.create_task(self._recording(), name="record")
        await done

    async def _recording(self) -> None:
        """Store finished sends in batches until none waits."""
        backoff = Backoff()
        while self._to_record:
            # Sends finishing at about this moment join the batch: wait (a few ms at most)
            # until every send in flight has finished.
            gather_until = time.monotonic() + RECORD_GATHER_SECONDS
            await asyncio.sleep(0)
            while len(self._to_record) < len(self.sending):
                self._finished.clear()
                left = gather_until - time.monotonic()
                if left <= 0 or not await wait_for(self._finished, left):
                    break
            size = self.settings.worker_batch
            batch, self._to_record = self._to_record[:size], self._to_record[size:]
            batch = [s for s in batch if not s.done.done()]  # cancelled by drain
            if not batch:
                continue
            failed, error = await self._record_batch(batch)
            if failed:
                # The provider has the messages: recording them must outlast a database blip,
                # or the rows would be sent again once their leases run out.
                exc = error
                delay = backoff.next()
                if backoff.failures == 1:
                    log.warning(
                        "worker %s: recording %d deliveries failed (%s); retrying",
                        self.name,
                        len(failed),
                        type(exc).__name__,
                    )
                retry = []
                for sent in failed:
                    lease = sent.delivery.lease_until
                    if sent.done.done():
                        continue  # cancelled by drain meanwhile
                    if lease is None or utcnow() + timedelta(seconds=delay) >= lease:
                        sent.done.set_exception(exc)
                    else:
                        retry.append(sent)
                self._to_record = retry + self._to_record
                await asyncio.sleep(delay)
                continue
            backoff.reset()

    async def _record_batch(self, batch: list[_Sent]) -> tuple[list[_Sent], Exception]:
        """Record a batch in one transaction; those still to record, and why.

        The database away: the whole batch waits for it. A statement failing for one row
        (a bug, a row nobody expected) must not hold the others back, or they would be sent
        again once their leases run out: each is then recorded alone.
        """
        error: Exception = RuntimeError("not recorded")
        try:
            await self._record(batch)
        except Exception as exc:
            error = exc
            away = unavailable(exc)
            if away or len(batch) == 1:
                return batch, exc
            log.warning(
                "worker %s: recording a batch of %d failed (%s); recording each alone",
                self.name,
                len(batch),
                type(exc).__name__,
            )
            failed: list[_Sent] = []
            for sent in batch:
                try:
                    await self._record([sent])
                except Exception as one:
                    failed.append(sent)
                    error = one
                else:
                    if not sent.done.done():
                        sent.done.set_result(None)
            return failed, error
        for sent in batch:
            if not sent.done.done():
                sent.done.set_result(None)
        return [], error

    async def _record(self, batch: list[_Sent]) -> None:
        """Store the attempts and move the rows on, those this worker still holds the lease of."""
        # In alert order: an alert's first page in the batch is its lowest delivery id, and
        # the escalation locks of the pages passed on (`_gave_up`) are taken in one order by
        # every recorder and claim.
        batch = sorted(batch, key=lambda s: (s.delivery.alert_id or 0, s.delivery.id))
        moved: list[Delivery] = []
        # Channels an SMS of the batch went out by that were down for their failures when
        # claimed (one up then that went down since comes back at its next probe's success).
        went_through: set[str] = set()
        async with unit_of_work(self.sessionmaker) as session:
            held = await repo.lock_leased_many(session, [s.delivery.id for s in batch], self.name)
            # Receipt time of each alert a page of this batch is the first of (measured once
            # per alert, after the commit): looked up for the whole batch, before any is moved.
            paged = [
                row.alert_id
                for sent in batch
                if sent.result.ok
                and (row := held.get(sent.delivery.id)) is not None
                and row.purpose == "page"
                and row.alert_id is not None
            ]
            received = await repo.received_if_unpaged(session, paged)
            first_pages: dict[int, tuple[Delivery, datetime]] = {}
            for sent in batch:
                result, row = sent.result, held.get(sent.delivery.id)
                if row is not None and row.attempts != sent.delivery.attempts:
                    # This worker's lease ran out and it took the row again since (a claim
                    # counts an attempt): this result is of the old lease, and the new one's
                    # send decides the row.
                    row = None
                if row is None:
                    # The lease ran out and another worker took the row: keep a trace.
                    log.warning(
                        "worker %s: lost the lease of delivery %s", self.name, sent.delivery.id
                    )
                    service.record_lost_lease(
                        session, sent.delivery.id, result, self.name, sent.duration_ms
                    )
                    continue
                if row.alert_id in received and result.ok and row.purpose == "page":
                    # The batch's first page of an alert none of whose pages was sent before.
                    first_pages.setdefault(row.alert_id, (row, received[row.alert_id]))
                await service.apply_result(
                    session,
                    self.settings,
                    row,
                    result,
                    worker=self.name,
                    duration_ms=sent.duration_ms,
                )
                if row.status == DEAD:
                    await self._gave_up(session, row)
                elif (
                    self.requeued is not None
                    and row.status == PENDING
                    and row.purpose in PAGING
                    and row.liaison_id is not None
                ):
                    await self.requeued(session, row)
                if result.ok and row.channel == CHANNEL_SMS and row.via is not None:
                    claimed = sent.channels.get(row.via)
                    if claimed is None or channel_service.down_for_failures(claimed):
                        went_through.add(row.via)
                moved.append(row)
            # A channel down for its failed sends is up again once one went through.
            for via in sorted(went_through):
                if (channel := await health.came_back(session, via)) is not None:
                    await self.announce(session, channel)
        for row in moved:
            metrics.count_delivery(row.channel, SENDING, row.status)
        for row, receipt in first_pages.values():
            if row.sent_at is not None:
                waited = (row.sent_at - receipt).total_seconds()
                metrics.FIRST_PAGE_SECONDS.observe(max(waited, 0.0))

    async def _gave_up(self, session: AsyncSession, delivery: Delivery) -> None:
        """A delivery this worker made dead: what is done about it (a page is passed on)."""
        if self.gave_up is not None:
            await self.gave_up(session, delivery)

    async def _deliver(self, delivery: Delivery, channels: Mapping[str, Channel]) -> SendResult:
        if delivery.channel == CHANNEL_SMS:
            return await self.sms.send(delivery, channels)
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
            due = await repo.next_due_at(session)
        if due is None:
            return poll
        wait = (due - utcnow()).total_seconds()
        # A rate-limited sender gets a token back every 1/rate seconds.
        return min(max(wait, 1.0 / self.settings.sms_rate_per_second / 4, 0.01), poll)
