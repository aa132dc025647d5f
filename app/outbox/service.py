"""Decisions about deliveries: enqueue, results of attempts, retries, provider statuses."""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import datetime, timedelta
from functools import partial
from typing import Literal

from sqlalchemy.ext.asyncio import AsyncSession

from app.kit import metrics
from app.kit.clock import utcnow
from app.kit.config import Settings
from app.kit.crypto import lookup_hash
from app.kit.errors import Conflict, NotFound
from app.outbox import repository as repo
from app.outbox import routing, voice
from app.outbox.models import (
    CANCELLED,
    CHANNEL_SMS,
    CHANNEL_WEBHOOK,
    DEAD,
    PAGING,
    PENDING,
    PROVIDER_ID_LENGTH,
    SENDING,
    Delivery,
    DeliveryAttempt,
    EarlyStatus,
    payload,
    provider_rank,
    status_for,
)
from app.outbox.routing import sending_number as sending_number
from app.outbox.schemas import safe_error
from app.outbox.subscriptions import disable_subscription, emit_event
from app.outbox.wakeup import mark_work
from app.providers.types import SendResult

FINAL_FAILURES = ("undelivered", "failed")
WAITING = "waiting: every channel of its route is down"


async def enqueue_sms(
    session: AsyncSession,
    settings: Settings,
    *,
    to: str,
    body: str,
    purpose: str,
    alert_id: int | None = None,
    liaison_id: int | None = None,
    step: int | None = None,
    via: str | None = None,
    of_zone: bool = False,
    flush: bool = True,
) -> Delivery:
    """Write an SMS to the outbox (sent by a worker once this transaction commits).

    `via`: the channel it must leave by (a reply by the channel its message came in on);
    otherwise the route of its purpose, recipient and alert (app.outbox.routing).
    `flush=False`: the row goes in with the transaction's next flush (the pages of one step
    in one statement); its id is unknown until then.
    """
    channels = await routing.route(
        session, purpose=purpose, via=via, liaison_id=liaison_id, alert_id=alert_id
    )
    first = channels[0] if channels else None
    delivery = Delivery(
        channel=CHANNEL_SMS,
        purpose=purpose,
        status=PENDING,
        alert_id=alert_id,
        liaison_id=liaison_id,
        recipient=to,
        sender=routing.rate_key(settings, first),
        route=channels,
        via=first,
        body=body,
        escalation_step=step,
        of_zone=of_zone,
        due_at=utcnow(),
        max_attempts=settings.delivery_max_attempts,
    )
    session.add(delivery)
    if flush:
        await session.flush()
    await mark_work(session)
    return delivery


def backoff_seconds(settings: Settings, attempts: int, retry_after: float | None) -> float:
    """Exponential backoff with jitter; never sooner than the provider's Retry-After."""
    base = min(settings.retry_base_seconds * 2 ** max(attempts - 1, 0), settings.retry_max_seconds)
    delay: float = base * random.uniform(0.5, 1.5)
    if retry_after is not None:
        delay = max(delay, min(retry_after, settings.retry_max_seconds))
    return delay


def stored_id(result: SendResult) -> str | None:
    """The provider's id of a send as stored, cut to the column's length as the status
    webhooks cut the id they look up: an aggregator's longer id must not make the result
    impossible to store (the SMS would then be sent again at every lease)."""
    return result.provider_id[:PROVIDER_ID_LENGTH] if result.provider_id else None


async def apply_result(
    session: AsyncSession,
    settings: Settings,
    delivery: Delivery,
    result: SendResult,
    *,
    worker: str,
    duration_ms: float,
    now: datetime | None = None,
) -> None:
    """Record an attempt and move the delivery on: sent, retry later, or dead."""
    now = now or utcnow()
    # Looking again while every channel is still down is no news: one attempt says it waits
    # (an outage of days would otherwise write one every KENGELE_CHANNEL_WAIT_SECONDS).
    if not (result.every_channel_down and delivery.last_error == WAITING):
        _record(session, delivery, result, worker, duration_ms, now)
    delivery.lease_until = None
    delivery.leased_by = None
    if result.ok:
        delivery.provider_id = stored_id(result)
        delivery.sent_at = now
        delivery.last_error = None
        if delivery.channel == CHANNEL_WEBHOOK:
            delivery.status = "delivered"
            delivery.final_at = now
        else:
            # A status callback may already have moved it further.
            status = result.provider_status or "queued"
            if provider_rank(status) > provider_rank(delivery.provider_status):
                delivery.provider_status = status
            delivery.status = status_for(delivery.provider_status or status)
        return
    delivery.last_error = result.error
    if await _liaison_gone(session, delivery):
        # Its liaison was deactivated while it was being sent: the roster's change passed on
        # their queued pages only. Put back in the queue (a retry, the next channel, the wait
        # for one), it would go to their number, perhaps someone else's by now, for an OK
        # that would be refused. Given up on, it is passed on to the next liaison (the
        # worker's `gave_up`), as one whose worker died meanwhile is (repository `_BURY`).
        # Taken or closed meanwhile, it is cancelled.
        if not await withdrawn(session, delivery):
            delivery.last_error = LIAISON_GONE
            await _dead(session, settings, delivery, now)
        return
    if await fail_over(session, settings, delivery, result, now):
        return
    if result.every_channel_down:
        if await withdrawn(session, delivery):
            return
        await _to_current_number(session, delivery)
        # A critical page cannot wait: where Twilio voice is on, the liaison is called now
        # (once per escalation step); the SMS still waits for a channel.
        await voice.call_instead(session, settings, delivery)
        # Waiting for a channel costs no attempt: the SMS goes out when one comes back.
        delivery.status = PENDING
        delivery.max_attempts += 1
        delivery.last_error = WAITING
        delivery.due_at = now + timedelta(seconds=settings.channel_wait_seconds)
        await mark_work(session)
        return
    if result.retryable and delivery.attempts < delivery.max_attempts:
        if await withdrawn(session, delivery):
            return
        await _to_current_number(session, delivery)
        delivery.status = PENDING
        delay = backoff_seconds(settings, delivery.attempts, result.retry_after)
        delivery.due_at = now + timedelta(seconds=delay)
        await mark_work(session)
        return
    await _dead(session, settings, delivery, now)
    if delivery.channel == CHANNEL_WEBHOOK and result.error_code == 410:
        await disable_subscription(session, delivery.subscription_id, "the receiver answered 410")


def _attempt_status(result: SendResult) -> str:
    # "down": the channel was known down and nothing was sent (no failure of the channel's).
    if result.channel_down:
        return "down"
    return "ok" if result.ok else ("retry" if result.retryable else "error")


def _record(
    session: AsyncSession,
    delivery: Delivery,
    result: SendResult,
    worker: str,
    duration_ms: float,
    now: datetime,
) -> None:
    repo.add_attempt(
        session,
        DeliveryAttempt(
            delivery_id=delivery.id,
            at=now,
            status=_attempt_status(result),
            channel=delivery.via,
            provider_id=stored_id(result),
            http_status=result.http_status,
            error_code=result.error_code,
            error=result.error,
            worker=worker,
            duration_ms=duration_ms,
        ),
    )


def record_lost_lease(
    session: AsyncSession, delivery_id: int, result: SendResult, worker: str, duration_ms: float
) -> None:
    """Keep a trace of a send whose lease ran out before its result was stored (another
    worker took the row): an attempt `lease_lost` (or `lease_lost_error`)."""
    repo.add_attempt(
        session,
        DeliveryAttempt(
            delivery_id=delivery_id,
            status="lease_lost" if result.ok else "lease_lost_error",
            provider_id=stored_id(result),
            error=result.error,
            worker=worker,
            duration_ms=duration_ms,
        ),
    )


async def fail_over(
    session: AsyncSession,
    settings: Settings,
    delivery: Delivery,
    result: SendResult | None,
    now: datetime | None = None,
) -> bool:
    """Move an SMS that failed on its channel to the next channel of its route (once per
    failure, recorded as an attempt); False when no other channel of the route is up. A page
    whose alert was taken or closed meanwhile goes nowhere (`withdrawn`): True, dealt with."""
    if delivery.channel != CHANNEL_SMS or not delivery.route:
        return False
    # A channel known down sends nothing: any live channel of the route may take the SMS.
    down = result is not None and result.channel_down
    nxt = await routing.next_channel(session, delivery.route, delivery.via, cyclic=down)
    if nxt is None:
        return False
    if await withdrawn(session, delivery):
        return True
    if await _liaison_gone(session, delivery):
        return False  # not sent again to a liaison deactivated: passed on (on_page_failed)
    await _to_current_number(session, delivery)
    now = now or utcnow()
    repo.add_attempt(
        session,
        DeliveryAttempt(
            delivery_id=delivery.id,
            at=now,
            status=f"failover:{nxt}",
            channel=delivery.via,
            error=f"{delivery.via}: {delivery.last_error}",
        ),
    )
    delivery.via = nxt
    delivery.sender = routing.rate_key(settings, nxt)
    delivery.status = PENDING
    delivery.due_at = now
    delivery.provider_id = None
    delivery.provider_status = None
    delivery.final_at = None
    delivery.lease_until = None
    delivery.leased_by = None
    # The attempt on the failed channel does not count against the next one.
    delivery.max_attempts += 1
    await mark_work(session)
    return True


# Why a page that failed while its liaison was deactivated was given up on.
LIAISON_GONE = "its liaison was deactivated"


async def _liaison_gone(session: AsyncSession, delivery: Delivery) -> bool:
    """Whether a page (or call) that failed is for a liaison deactivated since, read as
    `_to_current_number` reads their number: a roster change under way is waited for."""
    if delivery.liaison_id is None or delivery.purpose not in PAGING:
        return False
    return await repo.liaison_deactivated(session, delivery.liaison_id)


async def _to_current_number(session: AsyncSession, delivery: Delivery) -> None:
    """A page or call going back to its queue (a retry, the next channel, the wait for one,
    an operator's retry) goes to its liaison's number of now: the number may have changed
    since it was written (a lost phone; its queued pages follow at once: app.flows.roster),
    and the old one may be someone else's by now."""
    if delivery.liaison_id is None or delivery.purpose not in PAGING:
        return
    phone = await repo.liaison_phone(session, delivery.liaison_id)
    if phone and phone != delivery.recipient:
        delivery.recipient = phone


async def withdrawn(session: AsyncSession, delivery: Delivery) -> bool:
    """Whether a page (or a liaison's call) about to go back to its queue, for a retry, the
    next channel or the wait for one, is of an alert taken by a liaison's OK after the page
    was written, or closed, while it was being sent. The escalation's stop cancels only the
    pages still pending; this one, sent later (hours later if every channel was down), would
    page a liaison and ask for their OK about an alert already in hand. It is cancelled
    instead (its provider's failure, if a status callback said so, stays as it is). A page
    written after the alert was taken (its paging restarted at a higher severity) is not."""
    if delivery.purpose not in PAGING or delivery.alert_id is None:
        return False
    status = await repo.withdrawn_for(session, delivery.id)
    if status is None:
        return False
    if delivery.status in (PENDING, SENDING):
        delivery.status = CANCELLED
        delivery.last_error = f"alert {status}"
    return True


async def _dead(
    session: AsyncSession, settings: Settings, delivery: Delivery, now: datetime
) -> None:
    delivery.status = DEAD
    delivery.final_at = now
    await announce_dead(session, settings, delivery)


async def announce_dead(session: AsyncSession, settings: Settings, delivery: Delivery) -> None:
    """The `delivery.dead` event of a delivery that just went dead (by its last result, or
    buried: its worker gone at every attempt); none for a `delivery.dead` event itself."""
    if delivery.event_type != "delivery.dead":
        # Other systems get the kind of the error, never another target's answer or address.
        error = safe_error(delivery.last_error, channel=delivery.channel, viewer=True)
        data = {**payload(delivery), "last_error": error}
        await emit_event(session, settings, "delivery.dead", data, alert_id=delivery.alert_id)


# What a provider's status made of a delivery, when it made it final (apply_status).
Became = Literal["failed", "delivered"]


async def apply_status(
    session: AsyncSession,
    provider_id: str,
    status: str,
    error_code: int | None,
    channel: str | None = None,
) -> tuple[Delivery | None, Became | None]:
    """A provider status callback: move forward only. Returns (delivery, what it became:
    "failed" a failure, "delivered" on the phone; None when it did not move so).

    `channel`: the channel that reported it, whose sends alone it may move: a gateway app's
    ids are its own (an aggregator's may be another's too). The ids Kengele gives are one
    send's (`kengele-<delivery id>-<attempt>`, app.outbox.channels.message_id): a late report
    of an earlier send, by the handset a page failed over from or by the same handset before
    the page came back to it, names an id no delivery has now. None: Twilio's ids, unique
    across the account."""
    delivery = await repo.by_provider_id(session, provider_id, via=channel)
    if delivery is None:
        return None, None
    now = utcnow()
    repo.add_attempt(
        session,
        DeliveryAttempt(
            delivery_id=delivery.id,
            at=now,
            status=f"callback:{status}",
            channel=delivery.via,
            provider_id=provider_id,
            error_code=error_code,
        ),
    )
    if provider_rank(status) <= provider_rank(delivery.provider_status):
        return delivery, None  # late, repeated or out of order: never backwards
    delivery.provider_status = status
    # A row a worker holds (or that waits for a retry) takes its status from its result. A
    # row left "sending" without a lease took Twilio's word for ours before `status_for`.
    leased = delivery.status == SENDING and delivery.leased_by is not None
    if delivery.status not in (DEAD, PENDING) and not leased:
        moved = status_for(status)
        metrics.after_commit(
            session, partial(metrics.count_delivery, delivery.channel, delivery.status, moved)
        )
        delivery.status = moved
    if status in FINAL_FAILURES:
        delivery.final_at = now
        delivery.last_error = f"{status} (error {error_code})" if error_code else status
        return delivery, "failed"
    if status == "delivered":
        delivery.final_at = now
        return delivery, "delivered"
    return delivery, None


# A status kept for a message id no delivery had is forgotten this long after it came.
EARLY_STATUS_KEPT = timedelta(days=1)


def keep_early_status(
    session: AsyncSession,
    provider_id: str,
    status: str,
    error_code: int | None,
    channel: str | None = None,
) -> None:
    """Keep a provider's status of a message id no delivery has yet (its send's result is
    not recorded yet): applied once one has (`early_statuses_known`)."""
    repo.keep_early(
        session,
        EarlyStatus(
            provider_id=provider_id[:PROVIDER_ID_LENGTH],
            channel=channel,
            status=status,
            error_code=error_code,
            received_at=utcnow(),
        ),
    )


async def early_statuses_kept(session: AsyncSession) -> bool:
    """Whether any status waits for its send to be recorded (`keep_early_status`)."""
    return await repo.any_early(session)


async def early_statuses_known(session: AsyncSession, limit: int = 100) -> Sequence[EarlyStatus]:
    """The kept statuses whose message a delivery now has, oldest first, forgotten as they
    are handed over (apply them in this transaction); those received before that delivery's
    send was claimed (of an earlier send, were a provider to give two sends one id), and
    those kept past EARLY_STATUS_KEPT, forgotten."""
    found = await repo.early_now_known(session, limit)
    await repo.forget_early(session, [early.id for early in found])
    await repo.forget_early_stale(session)
    await repo.forget_early_before(session, utcnow() - EARLY_STATUS_KEPT)
    return found


async def get(session: AsyncSession, delivery_id: int) -> Delivery:
    """The delivery with this id, or 404."""
    delivery = await repo.get(session, delivery_id)
    if delivery is None:
        raise NotFound(f"no delivery {delivery_id}")
    return delivery


async def note_call_failure(session: AsyncSession, provider_id: str, status: str) -> None:
    """Keep a failed voice call's own status (busy, no-answer…) as its last error."""
    call = await repo.by_provider_id(session, provider_id)
    if call is not None:
        call.last_error = f"call {status}"


async def retry(session: AsyncSession, delivery_id: int, settings: Settings) -> Delivery:
    """An operator sends a dead (or failed) delivery again."""
    delivery = await repo.get(session, delivery_id, lock=True)
    if delivery is None:
        raise NotFound(f"no delivery {delivery_id}")
    if delivery.status not in (DEAD, *FINAL_FAILURES, "cancelled"):
        raise Conflict(f"delivery {delivery_id} is {delivery.status}; only dead ones are retried")
    if delivery.purged:
        # Its text or number is gone (retention): sending it would send a marker to nobody.
        raise Conflict(f"delivery {delivery_id} was purged (retention); it cannot be sent again")
    metrics.after_commit(
        session, partial(metrics.count_delivery, delivery.channel, delivery.status, PENDING)
    )
    await _to_current_number(session, delivery)
    delivery.status = PENDING
    delivery.due_at = utcnow()
    delivery.max_attempts = delivery.attempts + settings.delivery_max_attempts
    delivery.final_at = None
    delivery.provider_status = None
    # The old send's id goes with it: its late callbacks (Twilio's repeated `failed`, a
    # handset's app posting its events again) must not move the new send (kept as statuses
    # of an id no delivery has, they are applied only to a send claimed before they came).
    delivery.provider_id = None
    await mark_work(session)
    return delivery


# --- what other domains read of the outbox -------------------------------------------------


async def cancel_pending_pages(session: AsyncSession, alert_id: int, error: str) -> None:
    """Cancel an alert's pages and calls not yet handed to the provider (not those a worker
    is sending)."""
    await repo.cancel_pending_pages(session, alert_id, error)


async def queued_paging_alerts(session: AsyncSession, liaison_id: int) -> set[int]:
    """The alerts of a liaison's pages and calls still queued (a plain read: lock them
    with `lock_queued_paging`)."""
    return await repo.queued_paging_alerts(session, liaison_id)


async def queued_elsewhere(session: AsyncSession, liaison_id: int, phone: str) -> bool:
    """Whether a page or call to the liaison still queued is addressed to another number."""
    return await repo.queued_elsewhere(session, liaison_id, lookup_hash(phone))


async def lock_queued_paging(
    session: AsyncSession, liaison_id: int, alert_ids: Sequence[int]
) -> Sequence[Delivery]:
    """A liaison's pages and calls of these alerts still queued, locked: no worker claims
    them until this transaction ends (then those cancelled are not sent)."""
    return await repo.lock_queued_paging(session, liaison_id, alert_ids)


def readdress_queued(delivery: Delivery, to: str) -> None:
    """Send a queued page or call locked by `lock_queued_paging` to `to` (its liaison's
    number changed)."""
    if delivery.status == PENDING and delivery.recipient != to:
        delivery.recipient = to


def cancel_queued(delivery: Delivery, error: str) -> None:
    """Cancel a queued page or call locked by `lock_queued_paging`."""
    if delivery.status == PENDING:
        delivery.status = CANCELLED
        delivery.last_error = error


async def has_live_page(
    session: AsyncSession, alert_id: int, *, not_for: Sequence[int] = ()
) -> bool:
    """Whether a page or call of the alert may still reach someone, or reached them; one
    still queued for a liaison of `not_for` (no longer of the alert's zone) does not count."""
    return await repo.has_live_page(session, alert_id, not_for=not_for)


async def paged_liaison_ids(session: AsyncSession, alert_id: int) -> set[int]:
    """Liaisons an alert was paged to (sent or not)."""
    return await repo.paged_liaison_ids(session, alert_id)


async def paged_for(
    session: AsyncSession, liaison_id: int, alert_id: int, incident_id: int | None
) -> bool:
    """Whether the liaison was paged or called for this alert or its incident."""
    return await repo.paged_for(session, liaison_id, alert_id, incident_id)


async def last_page_to(
    session: AsyncSession, liaison_id: int, sent_by: datetime
) -> Delivery | None:
    """The newest page sent to a liaison before their reply came in (`sent_by`), by SMS or
    read by a call (the voice fallback): a reply without a reference is about that page's
    alert, not about one paged since, which the liaison has not seen when they wrote, nor
    about an older SMS page than the call they answer, nor about a page the provider said
    never reached them (undelivered, a call not answered)."""
    return await repo.last_page_to(session, liaison_id, sent_by)


async def due_backlog(session: AsyncSession, now: datetime) -> list[tuple[str, int, datetime]]:
    """Per channel: deliveries due and not yet sent, and the oldest due time among them."""
    return await repo.due_backlog(session, now)


# Deliveries newest first (before the id `before`): the repository's query, as it is.
deliveries = repo.list_deliveries


async def attempts(session: AsyncSession, delivery_id: int) -> Sequence[DeliveryAttempt]:
    """The attempts of a delivery, oldest first."""
    return await repo.attempts(session, delivery_id)


async def lock_leased(session: AsyncSession, delivery_id: int, worker: str) -> Delivery | None:
    """The delivery if `worker` still holds its lease, locked for its result."""
    return await repo.lock_leased(session, delivery_id, worker)
