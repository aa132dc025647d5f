"""SQL for inbound messages."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import cast

from sqlalchemy import (
    Boolean,
    ColumnElement,
    Table,
    bindparam,
    func,
    inspect,
    literal_column,
    select,
    text,
    update,
)
from sqlalchemy import insert as sql_insert
from sqlalchemy.ext.asyncio import AsyncSession

from app.inbound.models import (
    STATUS_PROCESSED,
    STATUS_RECEIVED,
    STILL_RECEIVED,
    InboundMessage,
    Taken,
)


async def by_provider_sid(
    session: AsyncSession, provider: str, provider_sid: str
) -> InboundMessage | None:
    """The message the provider knows by this id."""
    return await session.scalar(
        select(InboundMessage).where(
            InboundMessage.provider == provider, InboundMessage.provider_sid == provider_sid
        )
    )


# Built once: the values go in as the statement's parameters, so that neither building the
# statement nor looking it up in SQLAlchemy's cache costs anything per webhook (`.values()`
# with the values would make a new statement each time: about 0.6 ms more of CPU).
_TABLE = cast(Table, InboundMessage.__table__)
_INSERT = sql_insert(_TABLE).returning(_TABLE.c.id)


async def insert(session: AsyncSession, message: InboundMessage) -> int:
    """Insert a message (the fields set on this new object) in one statement, without the
    unit of work: a webhook's first write. Raises IntegrityError when (provider,
    provider_sid) exists."""
    state = inspect(message)
    values = {
        prop.columns[0].key: state.dict[prop.key]
        for prop in state.mapper.column_attrs
        if prop.key in state.dict
    }
    return int((await session.execute(_INSERT, values)).scalar_one())


def _earlier_than(this: str) -> str:
    """SQL: `earlier` is a message of the same sender as `this`, still `received`, that came
    before it (the claim's and `earlier_of_sender`'s one condition)."""
    return (
        f"earlier.status = '{STATUS_RECEIVED}'"
        f" AND earlier.from_phone_hash = {this}.from_phone_hash"
        f" AND (earlier.received_at < {this}.received_at"
        f" OR (earlier.received_at = {this}.received_at AND earlier.id < {this}.id))"
    )


# Whether the sender of the message being claimed has earlier messages still `received`. In
# words: SQLAlchemy writes a RETURNING clause's columns without their table on SQLite, which
# would make the subquery compare the other row with itself.
_BEHIND = literal_column(
    f"EXISTS (SELECT 1 FROM inbound_messages AS earlier WHERE {_earlier_than('inbound_messages')})",
    Boolean,
).label("behind")

# Built once, like _INSERT: the message's id is the statement's parameter. Core, not the
# ORM: processing reads a few columns of the row it takes (not the provider's whole form,
# which is encrypted) and finishes it with one UPDATE, without the unit of work. It says in
# the same round trip whether the sender has earlier messages still waiting.
_CLAIM = (
    update(_TABLE)
    .where(_TABLE.c.id == bindparam("message_id"), _TABLE.c.status == STATUS_RECEIVED)
    .values(attempts=_TABLE.c.attempts + 1)
    .returning(
        _TABLE.c.id,
        _TABLE.c.provider,
        _TABLE.c.kind,
        _TABLE.c.from_phone,
        _TABLE.c.body,
        _TABLE.c.received_at,
        _BEHIND,
    )
)
_REPLY = select(_TABLE.c.reply).where(_TABLE.c.id == bindparam("message_id"))
_FINISH = (
    update(_TABLE)
    .where(_TABLE.c.id == bindparam("message_id"))
    .values(
        status=STATUS_PROCESSED,
        alert_id=bindparam("alert_id"),
        reply=bindparam("reply"),
        processed_at=bindparam("processed_at"),
        last_error=None,
    )
)


async def claim(session: AsyncSession, message_id: int) -> Taken | None:
    """Take a `received` message for processing in this transaction (row lock; first write):
    what processing reads of it (with whether the sender has earlier messages still
    `received`), or None when it is not `received` (done already, or being done: the row
    lock waits for that transaction to end)."""
    row = (await session.execute(_CLAIM, {"message_id": message_id})).one_or_none()
    if row is None:
        return None
    return Taken(
        row.id, row.provider, row.kind, row.from_phone, row.body, row.received_at, bool(row.behind)
    )


async def stored_reply(session: AsyncSession, message_id: int) -> str | None:
    """The answer stored with a message (None: none yet, or no such message)."""
    return await session.scalar(_REPLY, {"message_id": message_id})


async def finish(
    session: AsyncSession,
    message_id: int,
    *,
    alert_id: int | None,
    reply: str,
    processed_at: datetime,
) -> None:
    """Mark a taken message processed, with its alert and the answer a replay gets."""
    await session.execute(
        _FINISH,
        {
            "message_id": message_id,
            "alert_id": alert_id,
            "reply": reply,
            "processed_at": processed_at,
        },
    )


async def lock_processed(session: AsyncSession, message_id: int) -> InboundMessage | None:
    """The message if it is processed, row-locked until the transaction ends (a transaction
    still processing it is waited for)."""
    return await session.scalar(
        select(InboundMessage)
        .where(InboundMessage.id == message_id, InboundMessage.status == STATUS_PROCESSED)
        .with_for_update()
        .execution_options(populate_existing=True)
    )


async def set_reply(session: AsyncSession, message_id: int, reply: str) -> None:
    """Replace the answer stored with a message (what a replayed webhook gets)."""
    await session.execute(
        update(_TABLE).where(_TABLE.c.id == message_id).values(reply=reply),
        execution_options={"synchronize_session": False},
    )


async def get(session: AsyncSession, message_id: int) -> InboundMessage | None:
    """The message with this id, fresh from the database."""
    return await session.get(InboundMessage, message_id, populate_existing=True)


async def record_failure(
    session: AsyncSession, message_id: int, error: str, next_attempt_at: datetime
) -> None:
    """Note a failed attempt; the message stays `received` for the next try."""
    await session.execute(
        update(InboundMessage)
        .where(InboundMessage.id == message_id, InboundMessage.status == STATUS_RECEIVED)
        .values(
            attempts=InboundMessage.attempts + 1,
            last_error=error[:2000],
            next_attempt_at=next_attempt_at,
        )
        .execution_options(synchronize_session=False)
    )


async def due_for_retry(
    session: AsyncSession, now: datetime, limit: int
) -> Sequence[tuple[int, str | None]]:
    """Messages still `received` whose next attempt is due, oldest first: (id, sender's hash)."""
    return await _received(session, InboundMessage.next_attempt_at <= now, limit)


async def received_before(
    session: AsyncSession, when: datetime, limit: int
) -> Sequence[tuple[int, str | None]]:
    """Messages still `received` that arrived before `when`, oldest first: (id, sender's hash)."""
    return await _received(session, InboundMessage.received_at < when, limit)


async def _received(
    session: AsyncSession, condition: ColumnElement[bool], limit: int
) -> Sequence[tuple[int, str | None]]:
    stmt = (
        select(InboundMessage.id, InboundMessage.from_phone_hash)
        # The partial index's own predicate, in its words and not bound, so that a prepared
        # statement's generic plan can use that index too (a bound status could be any).
        .where(STILL_RECEIVED, condition)
        .order_by(InboundMessage.received_at, InboundMessage.id)
        .limit(limit)
    )
    return [(row.id, row.from_phone_hash) for row in await session.execute(stmt)]


# A sender's messages still `received` that came before one of theirs (`message_id`), oldest
# first: one statement, the message itself found by its key.
_EARLIER = text(
    "SELECT earlier.id FROM inbound_messages AS earlier"
    " JOIN inbound_messages AS this ON this.id = :message_id"
    f" WHERE {_earlier_than('this')}"
    " ORDER BY earlier.received_at, earlier.id LIMIT :limit"
)


async def earlier_of_sender(session: AsyncSession, message_id: int, limit: int) -> list[int]:
    """The messages of this message's sender still `received` that came before it (failed
    and waiting for a retry, or in another's hands), oldest first, at most `limit`; none
    for a message without a sender."""
    rows = await session.execute(_EARLIER, {"message_id": message_id, "limit": limit})
    return [row.id for row in rows]


# Through the partial index of the messages still `received`, like the safety net's reads.
_WAITING = select(func.count(), func.min(InboundMessage.received_at)).where(STILL_RECEIVED)


async def waiting(session: AsyncSession) -> tuple[int, datetime | None]:
    """How many messages wait to be processed, and when the oldest of them arrived."""
    count, oldest = (await session.execute(_WAITING)).one()
    return int(count or 0), oldest
