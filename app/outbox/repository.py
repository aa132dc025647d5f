"""SQL for deliveries, attempts, subscriptions and sender rates."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BindParameter,
    ColumnElement,
    and_,
    bindparam,
    case,
    delete,
    exists,
    func,
    literal_column,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from app.alerts.models import Alert, AlertEvent
from app.alerts.status import CLOSED, AlertStatus
from app.kit.clock import utcnow
from app.kit.repository import forget_read, newest_first, read_once
from app.outbox.models import (
    CANCELLED,
    DEAD,
    PAGING,
    PENDING,
    SENDING,
    Delivery,
    DeliveryAttempt,
    EarlyStatus,
    SenderRate,
    WebhookSubscription,
)
from app.people.models import Liaison

# Key space of the advisory lock taken per alert when its first page is recorded.
_FIRST_PAGE_LOCK = 0x6B67


def _due(now: datetime | BindParameter[datetime]) -> ColumnElement[bool]:
    return or_(
        and_(Delivery.status == PENDING, Delivery.due_at <= now),
        and_(Delivery.status == SENDING, Delivery.lease_until < now),
    )


# The worker's statements, built once (their values are parameters): built at every call, a
# statement is hashed again before SQLAlchemy finds its compiled form (docs/PERFORMANCE.md 1f).
# The worker's queue is read through the partial index ix_deliveries_queue, whose predicate
# a query must repeat word for word: a bound value in its place would not prove it to
# PostgreSQL's generic plans of the prepared statement, which would then read the table.
_QUEUED = Delivery.status == literal_column(f"'{PENDING}'")
_DUE_SENDERS = (
    select(Delivery.channel, Delivery.sender)
    .where(_QUEUED, Delivery.due_at <= bindparam("now"))
    .distinct()
    .order_by(Delivery.channel, Delivery.sender)
)
_LOCK_RATE = (
    select(SenderRate)
    .where(SenderRate.sender == bindparam("sender_name"))
    .with_for_update()
    .execution_options(populate_existing=True)
)


def _liaisons(column: Any, fallback: Any, *, share: bool = True) -> Any:
    """The page's liaison's `column` of now, else `fallback` (no liaison, not a page). Read
    under a share lock (PostgreSQL), as `liaison_phone` reads it: a roster
    change under way is waited for, and the number it leaves is taken. Without `share` (the
    claim, which holds the rows a roster change may lock next), the number committed."""
    current = select(column).where(Liaison.id == Delivery.liaison_id, Delivery.purpose.in_(PAGING))
    if share:
        current = current.with_for_update(read=True)
    return func.coalesce(current.scalar_subquery(), fallback)


# One statement: the first due rows of a sender's queue (SKIP LOCKED: those another claim
# is taking are passed over) are leased and returned. Read in the index's order, a claim
# stops at its limit whatever the backlog behind it.
_CLAIM = (
    update(Delivery)
    .where(
        Delivery.id.in_(
            select(Delivery.id)
            .where(
                Delivery.channel == bindparam("channel_name"),
                Delivery.sender == bindparam("sender_name"),
                _QUEUED,
                Delivery.due_at <= bindparam("now"),
            )
            .order_by(Delivery.queue_rank, Delivery.due_at, Delivery.id)
            .limit(bindparam("limit"))
            .with_for_update(skip_locked=True)
            .scalar_subquery()
        )
    )
    .values(
        status=SENDING,
        claimed_at=bindparam("now"),
        lease_until=bindparam("lease"),
        leased_by=bindparam("worker_name"),
        attempts=Delivery.attempts + 1,
        # A page is sent to its liaison's number of now: one written by a transaction that
        # read the number while a roster change gave a new one (that change moved the pages
        # it saw queued, not this one, not yet committed) goes to the new number all the same.
        recipient=_liaisons(Liaison.phone, Delivery.recipient, share=False),
        recipient_hash=_liaisons(Liaison.phone_hash, Delivery.recipient_hash, share=False),
    )
    .returning(Delivery)
    .execution_options(synchronize_session=False, populate_existing=True)
)
# A page (or call) whose alert was closed, or taken (it left `new`) after the page was
# written. A page written since is wanted: the paging of a taken alert restarts when its
# severity rises, and those pages must not be cancelled at their first failure.
_WITHDRAWN = and_(
    Delivery.purpose.in_(PAGING),
    or_(
        select(Alert.id).where(Alert.id == Delivery.alert_id, Alert.status.in_(CLOSED)).exists(),
        select(AlertEvent.id)
        .where(
            AlertEvent.alert_id == Delivery.alert_id,
            AlertEvent.from_status == AlertStatus.NEW,
            AlertEvent.to_status != AlertStatus.NEW,
            AlertEvent.at >= Delivery.created_at,
        )
        .exists(),
    ),
)


# Liaisons who may not be paged (off duty or deactivated).
_UNPAGEABLE = select(Liaison.id).where(or_(Liaison.active.is_(False), Liaison.on_duty.is_(False)))
# A page or call whose liaison may not be paged any more.
_LIAISON_GONE = and_(
    Delivery.purpose.in_(PAGING),
    Delivery.liaison_id.is_not(None),  # a number a policy lists, of no liaison, stays
    Delivery.liaison_id.in_(_UNPAGEABLE),
)


# A row whose worker died holding it (its lease ran out) goes back to its queue, where it
# keeps its place (its due time); one whose every attempt ended so is buried (_BURY). A page
# whose alert was taken or closed while it was leased is cancelled instead: the escalation's
# stop cancelled only the pages then pending (app.outbox.service.withdrawn says why). The
# alert is looked at only for the rows whose lease ran out, not by the claims. A page (or
# call) goes back with its liaison's number of now, as one going back for a retry does
# (app.outbox.service._to_current_number): a roster change moves the queued pages only, and
# the number the page was leased with may be someone else's by now. The ciphertext and its
# hash are copied as stored: a number is encrypted with no context of its column.
#
# A page whose liaison left the roster meanwhile (deactivated, off duty: a roster change
# passes on the pages still queued only) is not put back for them: it is buried (_BURY), and
# so passed on as a page given up on is (the next liaison of the zone; nobody, and the next
# to come on duty is paged).
_RELEASE = (
    update(Delivery)
    .where(
        Delivery.status == SENDING,
        Delivery.lease_until < bindparam("now"),
        Delivery.attempts < Delivery.max_attempts,
        ~and_(_LIAISON_GONE, ~_WITHDRAWN),
    )
    .values(
        status=case((_WITHDRAWN, CANCELLED), else_=PENDING),
        last_error=case((_WITHDRAWN, "alert taken or closed"), else_=Delivery.last_error),
        recipient=_liaisons(Liaison.phone, Delivery.recipient),
        recipient_hash=_liaisons(Liaison.phone_hash, Delivery.recipient_hash),
    )
    .execution_options(synchronize_session=False)
)
_BURY = (
    update(Delivery)
    .where(
        Delivery.status == SENDING,
        Delivery.lease_until < bindparam("now"),
        or_(Delivery.attempts >= Delivery.max_attempts, and_(_LIAISON_GONE, ~_WITHDRAWN)),
    )
    .values(
        status="dead",
        final_at=bindparam("now"),
        last_error=case(
            (
                Delivery.attempts >= Delivery.max_attempts,
                "its worker died at every attempt",
            ),
            else_="its worker died, and its liaison left the roster",
        ),
    )
    .returning(Delivery)
    .execution_options(synchronize_session=False, populate_existing=True)
)
_LOCK_LEASED = (
    select(Delivery)
    .where(
        Delivery.id.in_(bindparam("ids", expanding=True)),
        Delivery.status == SENDING,
        Delivery.leased_by == bindparam("worker_name"),
    )
    .order_by(Delivery.id)
    .with_for_update()
    .execution_options(populate_existing=True)
)
_NEXT_DUE = select(
    select(func.min(Delivery.due_at)).where(Delivery.status == PENDING).scalar_subquery(),
    select(func.min(Delivery.lease_until)).where(Delivery.status == SENDING).scalar_subquery(),
)
_FIRST_PAGE_LOCKS = text(
    "SELECT pg_advisory_xact_lock(:space, a) FROM unnest(CAST(:ids AS integer[])) a"
)
_UNPAGED = select(Alert.id, Alert.received_at).where(
    Alert.id.in_(bindparam("ids", expanding=True)),
    ~select(Delivery.id)
    .where(
        Delivery.alert_id == Alert.id,
        Delivery.purpose == "page",
        Delivery.sent_at.is_not(None),
    )
    .exists(),
)


async def due_senders(session: AsyncSession, now: datetime) -> dict[str, list[str]]:
    """Per channel that has deliveries due, the senders they are due from, in order (for
    SMS the sending numbers: workers lock the buckets of these senders one after the other,
    in turn). A channel with nothing due is not claimed from. Rows whose lease ran out are
    due once `release_expired` has put them back."""
    due: dict[str, list[str]] = {}
    for channel, sender in (await session.execute(_DUE_SENDERS, {"now": now})).all():
        due.setdefault(channel, []).append(sender)
    return due


async def lock_rate(session: AsyncSession, sender: str, burst: float) -> SenderRate | None:
    """The token bucket of `sender`, locked for this transaction.

    A worker whose claim meets a bucket another worker's claim holds waits for it (a claim is
    one short transaction, and buckets are locked in sender order, so no two claims wait on
    each other): skipping it instead left the second worker polling for its turn.
    """
    bucket = await session.scalar(_LOCK_RATE, {"sender_name": sender})
    if bucket is not None:
        return bucket
    dialect = session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    # Two workers may meet a new sender at once: the second insert does nothing.
    await session.execute(
        insert(SenderRate)
        .values(sender=sender, tokens=burst, updated_at=utcnow())
        .on_conflict_do_nothing(index_elements=["sender"])
    )
    return await session.scalar(_LOCK_RATE, {"sender_name": sender})


async def claim(
    session: AsyncSession,
    *,
    now: datetime,
    lease_until: datetime,
    worker: str,
    limit: int,
    channel: str,
    sender: str,
) -> Sequence[Delivery]:
    """Lease up to `limit` due deliveries of a sender's queue, in its order (SKIP LOCKED:
    workers never take the same row)."""
    if limit <= 0:
        return []
    params = {
        "channel_name": channel,
        "sender_name": sender,
        "now": now,
        "limit": limit,
        "lease": lease_until,
        "worker_name": worker,
    }
    rows = list((await session.scalars(_CLAIM, params)).all())
    return sorted(rows, key=lambda d: (d.queue_rank, d.due_at, d.id))


# Whether a liaison is still active, read under a share lock (PostgreSQL): a roster change
# under way (a deactivation, its queued pages passed on) is waited for, and its outcome read;
# SQLite has one writer at a time.
_ACTIVE_NOW = (
    select(Liaison.active).where(Liaison.id == bindparam("liaison_id")).with_for_update(read=True)
)


async def liaison_deactivated(session: AsyncSession, liaison_id: int) -> bool:
    """Whether the liaison was deactivated."""
    return await session.scalar(_ACTIVE_NOW, {"liaison_id": liaison_id}) is False


# The liaison's number, read under a share lock (PostgreSQL) as `_ACTIVE_NOW` is: a roster
# change under way (a new number, its queued pages moved to it) is waited for and its number
# read, not the one it replaces.
_PHONE_OF_NOW = (
    select(Liaison.phone).where(Liaison.id == bindparam("liaison_id")).with_for_update(read=True)
)


async def liaison_phone(session: AsyncSession, liaison_id: int) -> str | None:
    """The liaison's number of now (None when the liaison is gone). A page going back to its
    queue reads it while a roster change may be moving the liaison's queued pages to a new
    number: that change does not see this page (not queued yet), so this read waits for it
    to end, or it for this one, and the page goes to the number the roster leaves."""
    return await session.scalar(_PHONE_OF_NOW, {"liaison_id": liaison_id})


async def release_expired(session: AsyncSession, now: datetime) -> int:
    """Rows whose lease ran out with attempts left go back to their queue (their worker died
    or hung: a claim takes them again); pages of an alert taken or closed since are cancelled."""
    result = await session.execute(_RELEASE, {"now": now})
    return int(getattr(result, "rowcount", 0) or 0)


async def withdrawn_for(session: AsyncSession, delivery_id: int) -> AlertStatus | None:
    """The status of the alert of a page (or call) withdrawn since it was written (closed,
    or taken after it: `_WITHDRAWN`), as committed now; None when it is still wanted."""
    alert_id = await session.scalar(
        select(Delivery.alert_id).where(Delivery.id == delivery_id, _WITHDRAWN)
    )
    if alert_id is None:
        return None
    return await session.scalar(select(Alert.status).where(Alert.id == alert_id))


async def bury_crashed(session: AsyncSession, now: datetime) -> Sequence[Delivery]:
    """Rows whose every attempt ended with their worker gone (lease expired) are dead; the
    rows buried (a page among them is passed on to the next liaison)."""
    return (await session.scalars(_BURY, {"now": now})).all()


async def lock_leased(session: AsyncSession, delivery_id: int, worker: str) -> Delivery | None:
    """The delivery if this worker still holds its lease, locked for the result."""
    stmt = (
        select(Delivery)
        .where(Delivery.id == delivery_id, Delivery.status == SENDING, Delivery.leased_by == worker)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return await session.scalar(stmt)


async def lock_leased_many(
    session: AsyncSession, ids: Sequence[int], worker: str
) -> dict[int, Delivery]:
    """Those of `ids` this worker still holds the lease of, locked for their results (in id
    order: two transactions locking overlapping sets never wait on each other in a cycle)."""
    if not ids:
        return {}
    rows = await session.scalars(_LOCK_LEASED, {"ids": list(ids), "worker_name": worker})
    return {row.id: row for row in rows.all()}


async def get(session: AsyncSession, delivery_id: int, *, lock: bool = False) -> Delivery | None:
    """The delivery with this id."""
    stmt = select(Delivery).where(Delivery.id == delivery_id)
    if lock:
        stmt = stmt.with_for_update()
    return await session.scalar(stmt.execution_options(populate_existing=True))


async def by_provider_id(
    session: AsyncSession, provider_id: str, via: str | None = None
) -> Delivery | None:
    """The delivery the provider knows by this id (sent through channel `via`, when given),
    locked for an update."""
    stmt = select(Delivery).where(Delivery.provider_id == provider_id)
    if via is not None:
        stmt = stmt.where(Delivery.via == via)
    stmt = stmt.with_for_update().execution_options(populate_existing=True)
    return await session.scalar(stmt)


def keep_early(session: AsyncSession, early: EarlyStatus) -> None:
    """Keep a status whose message id no delivery has yet."""
    session.add(early)


async def any_early(session: AsyncSession) -> bool:
    """Whether any status is kept (one indexed read; the table is empty most of the time)."""
    return await session.scalar(select(EarlyStatus.id).limit(1)) is not None


def _early_of(*, stale: bool) -> ColumnElement[bool]:
    """A kept status whose message id a delivery now has (sent through the channel that
    reported it, when one did): received since that send was claimed, or (`stale`) before,
    when it is of an earlier send of the same id. The ids Kengele gives the handsets are one
    send's (`kengele-<delivery id>-<attempt>`), so a report of handset A's first send, kept
    while the page went by handset B, does not name A's second send of it; this guards
    against a provider that would give two sends one id."""
    since = or_(Delivery.claimed_at.is_(None), EarlyStatus.received_at >= Delivery.claimed_at)
    return (
        select(Delivery.id)
        .where(
            Delivery.provider_id == EarlyStatus.provider_id,
            or_(EarlyStatus.channel.is_(None), Delivery.via == EarlyStatus.channel),
            ~since if stale else since,
        )
        .exists()
    )


async def early_now_known(session: AsyncSession, limit: int) -> Sequence[EarlyStatus]:
    """Kept statuses whose message id a delivery now has, received since its send was
    claimed, oldest first, locked (those another transaction holds are left to it)."""
    stmt = (
        select(EarlyStatus)
        .where(_early_of(stale=False))
        .order_by(EarlyStatus.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return (await session.scalars(stmt)).all()


async def forget_early_stale(session: AsyncSession) -> int:
    """Forget the kept statuses received before the send of their id was claimed (of an
    earlier send: `_early_of`); how many."""
    result = await session.execute(delete(EarlyStatus).where(_early_of(stale=True)))
    return int(getattr(result, "rowcount", 0) or 0)


async def forget_early(session: AsyncSession, ids: Sequence[int]) -> None:
    """Forget kept statuses (applied)."""
    if ids:
        await session.execute(delete(EarlyStatus).where(EarlyStatus.id.in_(ids)))


async def forget_early_before(session: AsyncSession, when: datetime) -> int:
    """Forget the kept statuses received before `when` that no delivery claimed; how many."""
    result = await session.execute(delete(EarlyStatus).where(EarlyStatus.received_at < when))
    return int(getattr(result, "rowcount", 0) or 0)


def add_attempt(session: AsyncSession, attempt: DeliveryAttempt) -> None:
    """Record one attempt or provider status."""
    session.add(attempt)


async def attempts(session: AsyncSession, delivery_id: int) -> Sequence[DeliveryAttempt]:
    """Attempts of a delivery, oldest first."""
    stmt = (
        select(DeliveryAttempt)
        .where(DeliveryAttempt.delivery_id == delivery_id)
        .order_by(DeliveryAttempt.id)
    )
    return (await session.scalars(stmt)).all()


async def next_due_at(session: AsyncSession) -> datetime | None:
    """When the next pending delivery or expiring lease falls due."""
    # One round trip; each minimum read from its own index range (status, due_at) / lease.
    row = (await session.execute(_NEXT_DUE)).one()
    times = [t for t in row if t is not None]
    return min(times) if times else None


async def due_backlog(session: AsyncSession, now: datetime) -> list[tuple[str, int, datetime]]:
    """Per channel: deliveries due and not yet sent, and the oldest due time among them."""
    stmt = (
        select(Delivery.channel, func.count(), func.min(Delivery.due_at))
        .where(_due(now))
        .group_by(Delivery.channel)
    )
    return [(channel, int(n), oldest) for channel, n, oldest in (await session.execute(stmt))]


async def received_if_unpaged(
    session: AsyncSession, alert_ids: Sequence[int]
) -> dict[int, datetime]:
    """When each of these alerts was received, for those none of whose pages was handed to
    the provider yet.

    Workers that record pages of one alert at once take turns here (transaction locks on
    PostgreSQL, taken in id order so that two batches never wait on each other in a cycle;
    SQLite has one writer at a time), so exactly one of them sees no page sent.
    """
    ids = sorted(set(alert_ids))
    if not ids:
        return {}
    if session.get_bind().dialect.name == "postgresql":
        # unnest yields the sorted array in its order: the locks are taken in that order.
        await session.execute(_FIRST_PAGE_LOCKS, {"space": _FIRST_PAGE_LOCK, "ids": ids})
    rows = await session.execute(_UNPAGED, {"ids": ids})
    return {alert_id: received for alert_id, received in rows.all()}


async def list_deliveries(
    session: AsyncSession,
    *,
    status: str | None,
    alert_id: int | None,
    before: int | None,
    limit: int,
) -> Sequence[Delivery]:
    """Deliveries, newest first."""
    stmt = select(Delivery)
    if status:
        stmt = stmt.where(Delivery.status == status)
    if alert_id is not None:
        stmt = stmt.where(Delivery.alert_id == alert_id)
    return (await session.scalars(newest_first(stmt, Delivery.id, before, limit))).all()


async def cancel_pending_pages(session: AsyncSession, alert_id: int, error: str) -> None:
    """Cancel an alert's pages not yet handed to the provider, and the calls reading them: in
    one statement whose condition is checked again on a row a worker is claiming (PostgreSQL
    waits for the claim), so that a page being sent is not marked cancelled."""
    await session.execute(
        update(Delivery)
        .where(
            Delivery.alert_id == alert_id, Delivery.purpose.in_(PAGING), Delivery.status == PENDING
        )
        .values(status=CANCELLED, last_error=error)
        .execution_options(synchronize_session="fetch")
    )


def _queued_for(liaison_id: int) -> ColumnElement[bool]:
    return and_(
        Delivery.liaison_id == liaison_id,
        Delivery.purpose.in_(PAGING),
        Delivery.status == PENDING,
        Delivery.alert_id.is_not(None),
    )


async def queued_elsewhere(session: AsyncSession, liaison_id: int, phone_hash: str) -> bool:
    """Whether a page or call to a liaison still queued is addressed to another number than
    the one of this lookup hash."""
    stmt = select(
        exists().where(
            _queued_for(liaison_id),
            or_(Delivery.recipient_hash.is_(None), Delivery.recipient_hash != phone_hash),
        )
    )
    return bool(await session.scalar(stmt))


async def queued_paging_alerts(session: AsyncSession, liaison_id: int) -> set[int]:
    """The alerts of the pages and calls to a liaison still queued (not handed to a worker)."""
    stmt = select(Delivery.alert_id).where(_queued_for(liaison_id)).distinct()
    return {i for i in (await session.scalars(stmt)).all() if i is not None}


async def lock_queued_paging(
    session: AsyncSession, liaison_id: int, alert_ids: Sequence[int]
) -> Sequence[Delivery]:
    """The pages and calls to a liaison still queued, of these alerts, locked (by alert, then
    id; a row a worker's claim is taking is waited for, and left out once it is the
    worker's); claims pass over them until this transaction ends."""
    if not alert_ids:
        return []
    stmt = (
        select(Delivery)
        .where(_queued_for(liaison_id), Delivery.alert_id.in_(alert_ids))
        .order_by(Delivery.alert_id, Delivery.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return (await session.scalars(stmt)).all()


async def has_live_page(
    session: AsyncSession, alert_id: int, *, not_for: Sequence[int] = ()
) -> bool:
    """Whether a page or call of the alert went out and did not fail, is being sent, or is
    queued for a liaison who may be paged for it (cancelled, dead, failed and undelivered
    ones reach nobody; one queued for a liaison since put off duty, or moved to zones of
    which `not_for` holds those without the alert's, with nobody else to take it, waits for
    someone on duty)."""
    gone: ColumnElement[bool] = Delivery.liaison_id.in_(_UNPAGEABLE)
    if not_for:
        gone = or_(gone, Delivery.liaison_id.in_(list(not_for)))
    stmt = select(
        exists().where(
            Delivery.alert_id == alert_id,
            Delivery.purpose.in_(PAGING),
            Delivery.status.not_in((CANCELLED, DEAD, "failed", "undelivered")),
            ~and_(Delivery.status == PENDING, Delivery.liaison_id.is_not(None), gone),
        )
    )
    return bool(await session.scalar(stmt))


async def paged_liaison_ids(session: AsyncSession, alert_id: int) -> set[int]:
    """Liaisons an alert was paged to (sent or not)."""
    stmt = select(Delivery.liaison_id).where(
        Delivery.alert_id == alert_id, Delivery.purpose == "page", Delivery.liaison_id.is_not(None)
    )
    return {i for i in (await session.scalars(stmt)).all() if i is not None}


async def paged_for(
    session: AsyncSession, liaison_id: int, alert_id: int, incident_id: int | None
) -> bool:
    """Whether a page or a call was written to the liaison for this alert, or for another
    report of its incident."""
    about = Delivery.alert_id == alert_id
    if incident_id is not None:
        others = select(Alert.id).where(Alert.incident_id == incident_id)
        about = or_(about, Delivery.alert_id.in_(others))
    stmt = select(
        select(Delivery.id)
        .where(Delivery.liaison_id == liaison_id, Delivery.purpose.in_(PAGING), about)
        .exists()
    )
    return bool(await session.scalar(stmt))


# A page its provider said never reached the liaison, or gone back to its queue since such a
# report (or never handed over): one the liaison has not seen.
_MISSED = ("failed", "undelivered", DEAD, CANCELLED, PENDING, SENDING)


async def last_page_to(
    session: AsyncSession, liaison_id: int, sent_by: datetime
) -> Delivery | None:
    """The newest page (by SMS, or read by a call) sent to a liaison by `sent_by` (pages
    written, or sent, later are not counted), and not known to have missed them: one the
    provider reported undelivered or failed (a handset off, a call not answered), or that
    went back to its queue after such a report, was never seen, and is no page a reply
    answers."""
    stmt = (
        select(Delivery)
        .where(
            Delivery.liaison_id == liaison_id,
            Delivery.purpose.in_(PAGING),
            Delivery.status.not_in(_MISSED),
            Delivery.sent_at.is_not(None),
            Delivery.sent_at <= sent_by,
        )
        .order_by(Delivery.sent_at.desc(), Delivery.id.desc())
        .limit(1)
    )
    return await session.scalar(stmt)


_ACTIVE_SUBSCRIPTIONS = select(WebhookSubscription).where(WebhookSubscription.active)
# The subscriptions a transaction read (a webhook's pipeline emits several events).
_SUBSCRIPTIONS = "outbox.subscriptions"


async def subscriptions_for(session: AsyncSession, event_type: str) -> list[WebhookSubscription]:
    """Active subscriptions that want `event_type` (read once per transaction: `read_once`)."""
    subs = await read_once(session, _SUBSCRIPTIONS, _ACTIVE_SUBSCRIPTIONS)
    return [s for s in subs if s.active and event_type in (s.event_types or [])]


async def cancel_pending_of_subscription(session: AsyncSession, subscription_id: int) -> None:
    """Drop what is still queued for a subscription that was disabled."""
    await session.execute(
        update(Delivery)
        .where(Delivery.subscription_id == subscription_id, Delivery.status == PENDING)
        .values(status="cancelled", last_error="subscription disabled")
        .execution_options(synchronize_session=False)
    )


async def add_subscription(session: AsyncSession, subscription: WebhookSubscription) -> None:
    """Store a new subscription."""
    session.add(subscription)
    await session.flush()
    forget_read(session, _SUBSCRIPTIONS)


async def get_subscription(session: AsyncSession, sub_id: int) -> WebhookSubscription | None:
    """The subscription with this id."""
    return await session.get(WebhookSubscription, sub_id)


async def list_subscriptions(session: AsyncSession) -> Sequence[WebhookSubscription]:
    """Every subscription."""
    return (
        await session.scalars(select(WebhookSubscription).order_by(WebhookSubscription.id))
    ).all()
