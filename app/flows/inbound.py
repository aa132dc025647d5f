"""The pipeline: a stored inbound message becomes a triaged, geotagged alert.

Step 1 (store the raw message) commits on its own, before anything can fail; steps 2-7
run in a second transaction. A message whose processing failed stays `received` and is
retried by the safety net until it goes through: nothing the provider handed over is lost.
"""

from __future__ import annotations

import asyncio
import logging
import time
import traceback
import unicodedata
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.alerts import service as alerts
from app.alerts.models import Alert
from app.escalation import commands
from app.escalation import service as escalation
from app.flows import replies
from app.flows.lanes import Lanes
from app.geo.matcher import Gazetteer
from app.geo.service import GazetteerCache
from app.inbound import receipts
from app.inbound import service as messages
from app.inbound.models import KIND_CALL, InboundMessage, Taken
from app.kit import hooks, metrics
from app.kit.clock import utcnow
from app.kit.config import Settings
from app.kit.db import one_statement, retry_conflicts, unit_of_work
from app.kit.loops import Step, within
from app.kit.phones import reply_number
from app.kit.signals import Signal
from app.kit.text import ascii_fold
from app.outbox import service as outbox
from app.people import service as people
from app.people.models import Reporter
from app.providers.twilio import message_twiml, reject_call_twiml
from app.triage.engine import prepare as prepare_triage
from app.triage.engine import triage_flash, triage_message, triage_unread
from app.triage.types import TriageResult

log = logging.getLogger(__name__)


def _where(exc: BaseException) -> str:
    """The file and line an exception was raised at, without its message (which may quote
    the text of the SMS)."""
    frames = traceback.extract_tb(exc.__traceback__)
    if not frames:
        return "?"
    last = frames[-1]
    return f"{Path(last.filename).name}:{last.lineno} in {last.name}"


# Where a process that stores messages for others to process (queued, no loops of its own)
# says so: the listening processes' safety nets look at once (app.runtime).
INTAKE_CHANNEL = "kengele_inbound"

OPT_OUT_WORDS = frozenset({"stop", "stopall", "unsubscribe", "arret", "acha"})
OPT_IN_WORDS = frozenset({"start", "unstop"})
MAX_BODY = 10_000
# At most this many of a sender's earlier messages still `received` are tried again before
# the sender's next one (Pipeline._earlier_first).
EARLIER_AT_MOST = 5


def clean_text(text: str) -> str:
    """Drop NUL and other C0 controls a database or a log would choke on; keep newlines."""
    return "".join(ch for ch in text if ch in "\n\t" or unicodedata.category(ch) != "Cc")[:MAX_BODY]


def keyword(body: str) -> str | None:
    """'stop' or 'start' when the whole message is an opt-out or opt-in word."""
    folded = ascii_fold(body)
    word = "".join(ch for ch in folded.lower() if ch.isalnum())
    if word in OPT_OUT_WORDS:
        return "stop"
    if word in OPT_IN_WORDS:
        return "start"
    return None


class _Behind(Exception):
    """The sender has earlier messages still `received`: the claim is rolled back, for them
    to go first (`Pipeline._in_turn`)."""


@dataclass(frozen=True)
class Inbound:
    """What a provider's webhook handed over."""

    provider: str
    provider_sid: str
    kind: str
    from_phone: str
    to_phone: str
    body: str
    raw: dict[str, str]
    # Another id of the provider's this message is a replay of when stored under it (an id
    # derived from the minute a post came in: a retry in the next minute is the same post).
    retry_of: str | None = None


class Pipeline:
    """Stores, processes and reprocesses inbound messages."""

    def __init__(
        self,
        settings: Settings,
        sessionmaker: async_sessionmaker[AsyncSession],
        gazetteers: GazetteerCache,
    ) -> None:
        self.settings = settings
        self.sessionmaker = sessionmaker
        self.gazetteers = gazetteers
        # Queued: set when a new message is stored, and the safety net's loop waits on it.
        self.intake = Signal()
        # Whether this process's own safety net runs (a queued message then wakes it, else
        # a NOTIFY wakes another process's).
        self.processes_here = False
        # Webhooks of this process storing their message right now (see _lanes).
        self.accepting = 0
        # Messages this process's webhooks are processing right now (auto: `_queue_this`).
        self.processing = 0
        # Receipts of messages processed too late for their webhook's answer, on their way.
        self._late_receipts: set[asyncio.Task[None]] = set()

    async def prepare(self) -> None:
        """Before the process serves: triage's word lists read and its code run once, in a
        thread, so that the first report after a start is not several times slower than the
        next ones. Needs the place index (`GazetteerCache.load`)."""
        async with self.sessionmaker() as session:
            gazetteer = await self.gazetteers.get(session)
        await asyncio.to_thread(prepare_triage, gazetteer)

    @property
    def queued(self) -> bool:
        """Whether webhooks may store and answer, leaving the processing to the background
        loops: always (queued), or in a surge (auto)."""
        return self.settings.inbound_mode != "inline"

    def _queue_this(self) -> bool:
        """Whether this webhook's message is left to the background loops. Auto: when this
        process's webhooks are already processing `inline_at_once` messages (a surge: the
        next one would only wait for the processor), and loops will be woken to take it
        (this process's; on PostgreSQL, another's by NOTIFY; on SQLite a process without
        loops of its own processes inline)."""
        mode = self.settings.inbound_mode
        if mode == "auto":
            queue = self.processing >= self.settings.inline_at_once and (
                self.processes_here or not self.settings.is_sqlite
            )
        else:
            queue = mode == "queued"
        return queue

    async def _take(self, inbound: Inbound, deadline: float) -> tuple[int, bool, bool]:
        """Store a webhook's message by `deadline` (`accept`): its id, whether it is new,
        and whether it is left to the background loops (`_queue_this`). One the webhook
        processes counts in `processing` from now until its processing ends."""
        queue = self._queue_this()
        if not queue:
            self.processing += 1
        try:
            message_id, new = await within(
                self.accept(inbound, queued=queue), deadline - time.monotonic(), cancel_late=False
            )
        except BaseException:
            if not queue:
                self._processed()
            raise
        return message_id, new, queue

    async def receive(self, inbound: Inbound) -> str | None:
        """A Twilio webhook's message: stored, then processed, within the webhook deadline;
        its TwiML (None: no receipt in the answer).

        Storing late raises TimeoutError (the webhook answers 503): the store is left to
        finish, and a message it commits late is finished by the safety net. Processing late
        is cancelled and answers None: the message is stored, the safety net finishes it and
        sends the receipt by SMS.
        """
        deadline = time.monotonic() + self.settings.webhook_deadline_seconds
        message_id, new, queue = await self._take(inbound, deadline)
        if queue:
            return None  # processed by the safety net's loop, which accept woke
        if not new:
            await self._retried(deadline, message_id)
            return None
        return await self._process_by(deadline, message_id, reply_by_sms=False)

    async def _retried(self, deadline: float, message_id: int) -> None:
        """Twilio posted a message again: it gave up on the first request's answer (that
        answer reaches nobody), while the first request may still be at work or be sending
        the receipt by SMS because it answered late (`_receipt_after_late`). So the retry's
        answer carries no receipt: the message, if still `received`, is processed with its
        receipt by SMS; if another request stored a receipt for its answer, the retry takes
        it and sends it by SMS, under the row lock the late path takes it under too. One
        receipt, whichever of them comes first, never one in the retry's TwiML and another
        by SMS."""
        await self._process_by(deadline, message_id, reply_by_sms=True)
        try:
            await within(
                self._reply_unanswered(message_id), deadline - time.monotonic(), cancel_late=True
            )
        except TimeoutError:  # the receipt stays with the message: a late path or a retry's
            log.warning(
                "inbound message %s: its retry could not take the reply in time", message_id
            )

    async def receive_from_app(
        self,
        inbound: Inbound,
        heard: Callable[[], Awaitable[None]],
        deadline: float | None = None,
    ) -> tuple[int, bool]:
        """A gateway app's message: (its id, whether it is new), stored and processed within
        the webhook deadline as `receive` does (or by `deadline`, a time.monotonic(), when
        the webhook's own clock started earlier); `heard` (the channel spoke) runs between
        the two, within the same deadline. The receipt goes by SMS through the same channel:
        nobody reads the webhook's answer, which must only come in time (a handset whose
        request hangs sends the message again, into a surge)."""
        if deadline is None:
            deadline = time.monotonic() + self.settings.webhook_deadline_seconds
        message_id, new, queue = await self._take(inbound, deadline)
        try:
            await within(heard(), deadline - time.monotonic(), cancel_late=True)
        except TimeoutError:  # the message is stored: the answer must not wait for this
            log.warning("channel %s: its word not recorded in time", inbound.provider)
        except BaseException:  # left to the safety net, as one whose processing failed
            if not queue:
                self._processed()
            raise
        if not queue:
            await self._process_by(deadline, message_id, reply_by_sms=True)
        return message_id, new

    async def _process_by(
        self, deadline: float, message_id: int, *, reply_by_sms: bool
    ) -> str | None:
        """Process a stored message until `deadline`; late, cancelled and left to the safety
        net (which sends the receipt by SMS). The sender's earlier messages still `received`
        go first, within half the time left (`_in_turn`).

        Cancelled late, the processing may have committed all the same (its COMMIT was sent,
        its answer had not come): the receipt the answer did not carry then goes by SMS
        (`_receipt_after_late`)."""
        work = asyncio.ensure_future(
            self._in_turn(
                message_id,
                reply_by_sms=reply_by_sms,
                seconds=(deadline - time.monotonic()) / 2,
            )
        )
        work.add_done_callback(lambda _: self._processed())
        try:
            return await within(work, deadline - time.monotonic(), cancel_late=True)
        except TimeoutError:
            log.warning("inbound message %s processed late: left to the safety net", message_id)
            if not reply_by_sms:
                task = asyncio.create_task(
                    self._receipt_after_late(work, message_id), name="inbound-late-receipt"
                )
                self._late_receipts.add(task)
                task.add_done_callback(self._late_receipts.discard)
            return None

    def _processed(self) -> None:
        """A message a webhook counted in `processing` is no longer processed by it."""
        self.processing -= 1

    async def _receipt_after_late(self, work: asyncio.Future[str | None], message_id: int) -> None:
        """Once the processing cut short at the deadline has ended: if it committed anyway,
        its receipt (meant for the webhook's answer, which went without it) goes out by SMS,
        once. If it did not, the message is still `received` and the safety net finishes
        it, receipt and all."""
        await asyncio.wait({work})
        await self._reply_unanswered(message_id)

    async def _reply_unanswered(self, message_id: int) -> None:
        """Send by SMS the reply stored for a webhook's answer that did not carry it (late, or
        the provider retried), once: the stored answer is emptied in the same transaction."""
        try:
            async with unit_of_work(self.sessionmaker) as session:
                unanswered = await messages.take_unanswered_reply(session, message_id)
                if unanswered is None:
                    return
                message, text = unanswered
                await self._reply_by_sms(session, message, text, message.alert_id)
            log.info("inbound message %s: its reply not in a webhook's answer, by SMS", message_id)
        except Exception:
            log.exception("could not send the reply of inbound message %s by SMS", message_id)

    async def accept(self, inbound: Inbound, *, queued: bool = False) -> tuple[int, bool]:
        """Commit the raw message (step 1); (id, False) when the provider id (or the one it
        is a retry of, `retry_of`) was seen before.

        `queued`, a new message is due at once and the safety net is woken to process it;
        else the request processes it and the safety net leaves it alone for a grace time.
        """
        self.accepting += 1
        try:
            return await self._accept(inbound, queued)
        finally:
            self.accepting -= 1

    async def _accept(self, inbound: Inbound, queued: bool) -> tuple[int, bool]:
        if inbound.retry_of is not None:
            async with self.sessionmaker() as session:
                first = await messages.by_provider_sid(session, inbound.provider, inbound.retry_of)
            if first is not None:
                metrics.INBOUND.labels(inbound.provider, inbound.kind, "replayed").inc()
                return first.id, False
        now = utcnow()
        grace = 0.0 if queued else self.settings.reprocess_grace_seconds
        message = InboundMessage(
            provider=inbound.provider,
            provider_sid=inbound.provider_sid,
            kind=inbound.kind,
            from_phone=clean_text(inbound.from_phone)[:32],
            to_phone=clean_text(inbound.to_phone)[:32],
            body=clean_text(inbound.body),
            raw={clean_text(k): clean_text(v) for k, v in inbound.raw.items()},
            received_at=now,
            next_attempt_at=now + timedelta(seconds=grace),
        )
        try:
            async with one_statement(self.sessionmaker) as session:
                message_id = await messages.store(session, message)
        except IntegrityError:
            async with self.sessionmaker() as session:
                existing = await messages.by_provider_sid(
                    session, inbound.provider, inbound.provider_sid
                )
            if existing is None:
                raise
            metrics.INBOUND.labels(inbound.provider, inbound.kind, "replayed").inc()
            return existing.id, False
        metrics.INBOUND.labels(inbound.provider, inbound.kind, "stored").inc()
        if queued:
            await self._wake_intake()
        return message_id, True

    async def _wake_intake(self) -> None:
        """Wake the safety net that processes a queued message: this process's, or (when it
        runs none) every listening process's. A lost wake-up costs a poll's delay, no more."""
        if self.processes_here:
            self.intake.set()
        elif not self.settings.is_sqlite:
            try:
                async with one_statement(self.sessionmaker) as session:
                    await hooks.notify_now(session, INTAKE_CHANNEL)
            except Exception as exc:  # the message is stored: the loops' poll finds it
                log.warning("could not wake the inbound loops (%s)", type(exc).__name__)

    async def handle(
        self, message_id: int, *, reply_by_sms: bool = False, in_order: bool = False
    ) -> str | None:
        """Process a stored message; on failure note it for a retry and return None.

        A transaction the database aborted for a conflict (`retry_conflicts`) is tried again
        at once, up to CONFLICT_RETRIES times, after a short random pause that lets the other
        transaction finish: nothing was wrong with the message, and its alert would
        otherwise wait for the safety net's retry.
        """
        try:
            return await retry_conflicts(
                lambda: self.process(message_id, reply_by_sms=reply_by_sms, in_order=in_order),
                what=f"inbound message {message_id}",
                counted=metrics.PIPELINE_CONFLICTS.inc,
            )
        except _Behind:
            raise
        except Exception as exc:
            metrics.PIPELINE_FAILURES.inc()
            log.exception("pipeline failed for inbound message %s; it will be retried", message_id)
            await self._note_failure(message_id, exc)
            return None

    async def process(
        self, message_id: int, *, reply_by_sms: bool = False, in_order: bool = False
    ) -> str | None:
        """Steps 2-7 in one transaction; returns the TwiML answer of the message.

        `reply_by_sms`: nobody waits for the TwiML any more (a retry after a failure), so the
        reply goes out through the outbox instead, and a later retry of the webhook by the
        provider gets an empty TwiML: one receipt, whichever comes first.
        `in_order`: when the sender has earlier messages still `received`, raise _Behind
        (nothing done) rather than overtake them.
        """
        started = time.perf_counter()
        async with unit_of_work(self.sessionmaker) as session:
            message = await messages.claim(session, message_id)
            if message is None:
                return await messages.stored_reply(session, message_id)
            if in_order and message.behind:
                raise _Behind
            waited = (utcnow() - message.received_at).total_seconds()
            metrics.INBOUND_WAIT_SECONDS.observe(max(waited, 0.0))
            alert_id: int | None
            if message.kind == KIND_CALL:
                alert_id = await self._missed_call(session, message)
                reply = reject_call_twiml()
            else:
                text, alert_id = await self._sms(session, message)
                if text and reply_by_sms:
                    await self._reply_by_sms(session, message, text, alert_id)
                    # The outbox owns this receipt now: when the provider retries the webhook
                    # (its first try got no answer), the stored reply says nothing more.
                    text = None
                reply = message_twiml(text)
            await messages.finish(session, message_id, alert_id=alert_id, reply=reply, at=utcnow())
        metrics.PIPELINE_SECONDS.observe(time.perf_counter() - started)
        return reply

    async def reprocess_due(self, limit: int = 100, *, left_before: datetime | None = None) -> int:
        """Retry messages left `received` (a crash, a failed try, or queued); returns how many
        it took (a full batch: more may be waiting).

        `left_before`: every message received before then, whatever its retry schedule (the
        leftovers of an earlier process), instead of those whose next attempt is due.
        """
        async with self.sessionmaker() as session:
            if left_before is None:
                taken = await messages.due_for_retry(session, utcnow(), limit)
            else:
                taken = await messages.received_before(session, left_before, limit)
        lanes = self._lanes()
        for message_id, sender in taken:
            lanes.add(message_id, sender)
        try:
            await lanes.all_finished()
        finally:
            await lanes.cancel()
        return len(taken)

    def _lanes(self) -> Lanes:
        """Messages processed several at once (their round trips to the database overlap),
        but a sender's one after the other, in the order they came: a resend must find the
        alert before it. One at a time while webhooks are coming in (a surge): the providers
        waiting for an answer come first, and the backlog goes at full pace once they are
        answered. The receipts leave by SMS."""
        tried: set[int] = set()  # in this pass: an earlier message is not tried twice

        async def process(message_id: int) -> None:
            tried.add(message_id)
            await self._in_background(message_id, tried)

        return Lanes(
            process,
            1 if self.settings.is_sqlite else self.settings.inbound_concurrency,
            surge=lambda: self.accepting > 0,
        )

    async def _in_background(self, message_id: int, tried: set[int] | None = None) -> None:
        """Process a message for the loops, within `process_timeout_seconds`: past it, it is
        cancelled and noted as failed, to be retried later, and the pass goes on. A message
        the database holds (a row lock, a stalled statement) must not hold up the others: a
        pass ends only when every message it took is done. The sender's earlier messages
        still `received` (and not `tried` in this pass) go first, within half that time."""
        limit = self.settings.process_timeout_seconds
        try:
            await within(
                self._in_turn(message_id, reply_by_sms=True, seconds=limit / 2, skip=tried),
                limit,
                cancel_late=True,
            )
        except TimeoutError:
            metrics.PIPELINE_FAILURES.inc()
            log.warning(
                "inbound message %s took over %.0f s: cut short, retried later", message_id, limit
            )
            await self._note_failure(message_id, TimeoutError(f"processing took over {limit:g} s"))

    async def _in_turn(
        self,
        message_id: int,
        *,
        reply_by_sms: bool,
        seconds: float,
        skip: set[int] | None = None,
    ) -> str | None:
        """Handle a message after its sender's earlier messages still `received`, which its
        claim finds (no statement more when there are none): those go first, within
        `seconds` (`_earlier_first`), then this one, whatever became of them."""
        try:
            return await self.handle(message_id, reply_by_sms=reply_by_sms, in_order=True)
        except _Behind:
            await self._earlier_first(message_id, seconds, skip=skip)
            return await self.handle(message_id, reply_by_sms=reply_by_sms)

    async def _earlier_first(
        self, message_id: int, seconds: float, *, skip: set[int] | None = None
    ) -> None:
        """Try the sender's earlier messages still `received` (one that failed and waits for
        its retry, say) once each, in their order, before this one, so that a sender's
        message does not overtake one it follows: a resend finds the alert of its first
        copy, a liaison's later correction stands, an `OK` comes after its report. Within
        `seconds` in all, a part of the message's own time: an earlier message that fails
        again is left to its retry at once, one that hangs is cut short at `seconds`, and
        the sender's new message goes on either way (a new report waits no longer)."""

        async def in_order() -> None:
            async with self.sessionmaker() as session:
                earlier = await messages.earlier_of_sender(session, message_id, EARLIER_AT_MOST)
            for earlier_id in earlier:
                if skip is None or earlier_id not in skip:
                    await self.handle(earlier_id, reply_by_sms=True)

        try:
            await within(in_order(), seconds, cancel_late=True)
        except TimeoutError:
            log.warning(
                "inbound message %s: its sender's earlier messages took over %.1f s, "
                "left to their retry",
                message_id,
                seconds,
            )
        except Exception as exc:  # the message itself is processed (or fails) on its own
            log.warning(
                "inbound message %s: its sender's earlier messages not looked up (%s)",
                message_id,
                type(exc).__name__,
            )

    async def process_as_they_come(self, limit: int, seconds: float = 1.0) -> bool:
        """Queued: process the due messages as they come, for about `seconds`; whether more
        may be waiting (time was up, not the work).

        A pass of `reprocess_due` waits for all of its batch before it takes the next one,
        so a message stored meanwhile waited for the slowest message of the batch. Here
        each message starts as soon as there is room (`inbound_concurrency`, and at most
        `limit` taken at once): woken by `intake` or by a message finished, the pass takes
        what came since. A sender's messages still go one after the other, in the order
        they came (a resend must find the alert before it).
        """
        lanes = self._lanes()
        until = time.monotonic() + seconds
        look = True  # whether messages may be due that are not in hand
        try:
            while True:
                taking = time.monotonic() < until
                # In hand before the query: those finished while it ran are not taken again
                # (an answer read before their commit still lists them as received).
                held = lanes.held()
                if taking and look and len(held) < limit:
                    async with self.sessionmaker() as session:
                        due = await messages.due_for_retry(session, utcnow(), limit + len(held))
                    room = limit - len(lanes.held())
                    for message_id, sender in [m for m in due if m[0] not in held][:room]:
                        lanes.add(message_id, sender)
                    look = len(due) >= limit + len(held)  # a full answer: more may wait
                if not lanes.sweep():
                    return not taking
                woken = (
                    asyncio.ensure_future(self.intake.wait(until - time.monotonic()))
                    if taking
                    else None
                )
                await lanes.one_finished(woken)
                if woken is not None and woken.done() and not woken.cancelled():
                    look = look or woken.result()
        finally:
            await lanes.cancel()

    def safety_net(self, started: datetime | None = None) -> Step:
        """The safety net's pass (reprocess_due), for a background loop; queued, it processes
        every message as it comes (`process_as_they_come`, woken by `intake`).

        The first pass retries everything an earlier process left `received`, but not what
        arrived since this one started (`started`, taken when the process started its
        background work, not when the loop first runs: requests may come in between, and
        they are handling their own messages). It stays the first pass until one goes through.
        """
        left_before = started or utcnow()
        first = True

        async def step() -> float:
            nonlocal first
            batch = self.settings.worker_batch
            if self.queued and not first:
                more = await self.process_as_they_come(batch)
                return 0.0 if more else self.settings.reprocess_interval_seconds
            tried = await self.reprocess_due(batch, left_before=left_before if first else None)
            first = False
            full = tried >= batch
            return 0.0 if full else self.settings.reprocess_interval_seconds

        return step

    async def _note_failure(self, message_id: int, exc: Exception) -> None:
        try:
            async with unit_of_work(self.sessionmaker) as session:
                message = await messages.get(session, message_id)
                attempts = message.attempts if message else 0
                delay = min(self.settings.reprocess_interval_seconds * 2**attempts, 3600.0)
                error = f"{type(exc).__name__}: {exc}"
                await messages.record_failure(
                    session, message_id, error, utcnow() + timedelta(seconds=delay)
                )
        except Exception:
            log.exception("could not record the failure of inbound message %s", message_id)

    async def _reply_by_sms(
        self,
        session: AsyncSession,
        message: Taken | InboundMessage,
        text: str,
        alert_id: int | None,
    ) -> None:
        """The answer to a message, by SMS through the channel it came by (nobody waits for
        the webhook's answer any more); none to a sender that is no number."""
        to = reply_number(message.from_phone, self.settings.default_region)
        if to is None:
            log.warning("inbound message %s: its sender is no number, no reply", message.id)
            return
        await outbox.enqueue_sms(
            session,
            self.settings,
            to=to,
            body=text,
            purpose="reply",
            alert_id=alert_id,
            via=message.provider,
        )

    async def _identify(
        self, session: AsyncSession, raw: str, gazetteer: Gazetteer
    ) -> people.Identity:
        """The sender: looked up when it is a number, else nobody (`people.nobody`): its
        message is filed, and nothing is sent to it nor remembered of it."""
        number = reply_number(raw, self.settings.default_region)
        if number is None:
            return people.nobody(raw.strip())
        return await people.identify(session, number, gazetteer)

    async def _sms(self, session: AsyncSession, message: Taken) -> tuple[str | None, int | None]:
        """Handle an SMS: the reply text (None: answer nothing) and the alert it went to."""
        gazetteer = await self.gazetteers.get(session)
        who = await self._identify(session, message.from_phone, gazetteer)
        phone = who.phone
        opt = keyword(message.body)
        if opt is not None:
            return await self._opt(session, who, opt), None
        if who.liaison is not None and (
            commands.addressed(commands.parse(message.body))
            or not people.is_registered(who.reporter)
        ):
            # Liaisons answer pages by SMS; their other texts get the help.
            text = await replies.handle_command(
                session, self.settings, who.liaison, message.body, gazetteer, message.received_at
            )
            return text, None

        resent = await alerts.find_resend(
            session, phone, message.body, message.received_at, self.settings
        )
        if resent is not None:
            alerts.fold_repeat(session, resent, message.received_at, actor=_actor(who.reporter))
            return self._receipt(who, who.reporter, resent.ref, resent.language), resent.id

        try:
            result = triage_message(
                message.body,
                gazetteer=gazetteer,
                sender=who.sender,
                received_at=message.received_at,
            )
        except Exception as exc:
            # Triage is pure: a retry would fail alike, and the report would never be paged.
            # Filed unread instead, for a human. The log names the error, not the text.
            log.error(
                "triage failed on inbound message %s (%s at %s): filed unread",
                message.id,
                type(exc).__name__,
                _where(exc),
            )
            result = triage_unread(sender=who.sender)
        alert, reporter = await self._store(session, who, message, result)
        return self._receipt(who, reporter, alert.ref, alert.language), alert.id

    async def _missed_call(self, session: AsyncSession, message: Taken) -> int:
        """A flash: one FLASH alert per number per window, counting the calls; its alert."""
        gazetteer = await self.gazetteers.get(session)
        who = await self._identify(session, message.from_phone, gazetteer)
        phone = who.phone
        existing = await alerts.find_flash(session, phone, message.received_at, self.settings)
        if existing is not None:
            alerts.fold_repeat(session, existing, message.received_at, actor=_actor(who.reporter))
            return existing.id
        alert, _ = await self._store(session, who, message, triage_flash(sender=who.sender))
        return alert.id

    async def _store(
        self,
        session: AsyncSession,
        who: people.Identity,
        message: Taken,
        result: TriageResult,
    ) -> tuple[Alert, Reporter | None]:
        """Create the alert, filed under the sender (remembered if new and a number)."""
        reporter = who.reporter
        if reporter is None and not who.registered and who.numbered:
            reporter = people.add_unregistered(session, who.phone, result.language)
            await session.flush()
        alert = await file_alert(
            session,
            self.settings,
            alerts.NewAlert(
                kind=message.kind,
                from_phone=who.phone,
                body=message.body,
                reporter_id=reporter.id if reporter else None,
                verified_reporter=who.sender.verified,
                received_at=message.received_at,
                result=result,
            ),
            actor=_actor(reporter),
        )
        return alert, reporter

    async def _opt(self, session: AsyncSession, who: people.Identity, opt: str) -> str | None:
        if not who.numbered:
            return None  # nobody to send receipts to, nor to stop sending them to
        reporter = who.reporter or people.add_unregistered(session, who.phone, None)
        reporter.opted_out = opt == "stop"
        await session.flush()
        log.info("reporter %s opted %s of receipts", reporter.id, "out" if opt == "stop" else "in")
        if opt == "stop":
            return receipts.opted_out(reporter.language)
        return receipts.opted_in(reporter.language)

    def _receipt(
        self, who: people.Identity, reporter: Reporter | None, ref: str, language: str
    ) -> str | None:
        """The receipt of the sender's alert; None for a sender that is no number."""
        if not who.numbered:
            return None
        return receipt_for(self.settings, reporter, ref, language)


async def file_alert(
    session: AsyncSession, settings: Settings, new: alerts.NewAlert, *, actor: str
) -> Alert:
    """Steps 5-6 for any report (SMS, flash, entered by hand): the alert, its incident, paging."""
    alert = await alerts.create_alert(session, new, settings, actor=actor)
    metrics.after_commit(session, metrics.ALERTS.labels(alert.category, alert.severity).inc)
    await escalation.on_new_alert(session, settings, alert, utcnow())
    return alert


def receipt_for(
    settings: Settings, reporter: Reporter | None, ref: str, language: str
) -> str | None:
    """The receipt a reporter gets for an alert (None: receipts off or the reporter opted out)."""
    if not settings.receipts_enabled or (reporter is not None and reporter.opted_out):
        return None
    registered = people.is_registered(reporter)
    return receipts.receipt(ref, reporter.language if registered and reporter else language)


def _actor(reporter: Reporter | None) -> str:
    return f"reporter:{reporter.id}" if reporter is not None else "system"
