"""What the inbound pipeline (app.flows.inbound) does with stored messages: store one once,
take one for processing, note a failed attempt, find the ones to try again."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from app.inbound import repository as repo
from app.inbound.models import InboundMessage, Taken
from app.providers.twilio import message_text, message_twiml


async def store(session: AsyncSession, message: InboundMessage) -> int:
    """Store a message; raises IntegrityError when (provider, provider_sid) exists."""
    return await repo.insert(session, message)


async def by_provider_sid(
    session: AsyncSession, provider: str, provider_sid: str
) -> InboundMessage | None:
    """The message the provider knows by this id."""
    return await repo.by_provider_sid(session, provider, provider_sid)


async def claim(session: AsyncSession, message_id: int) -> Taken | None:
    """Take a `received` message for processing in this transaction: what processing reads
    of it, or None when it is done already, or being done."""
    return await repo.claim(session, message_id)


async def stored_reply(session: AsyncSession, message_id: int) -> str | None:
    """The answer stored with a message (a replayed webhook gets it again)."""
    return await repo.stored_reply(session, message_id)


async def finish(
    session: AsyncSession, message_id: int, *, alert_id: int | None, reply: str, at: datetime
) -> None:
    """A taken message is processed: its alert (if any) and its answer."""
    await repo.finish(session, message_id, alert_id=alert_id, reply=reply, processed_at=at)


async def take_unanswered_reply(
    session: AsyncSession, message_id: int
) -> tuple[InboundMessage, str] | None:
    """A message processed for a webhook that answered without its reply (it was late):
    the message and the text its stored answer replies, which the caller must send another
    way; the stored answer becomes an empty one, so that a replay does not reply it again.
    None when the message is not processed (the safety net finishes it, with its receipt)
    or its answer replies nothing (a call, receipts off), or was taken already."""
    message = await repo.lock_processed(session, message_id)
    text = message_text(message.reply) if message is not None and message.reply else None
    if message is None or text is None:
        return None
    await repo.set_reply(session, message_id, message_twiml(None))
    return message, text


async def get(session: AsyncSession, message_id: int) -> InboundMessage | None:
    """The message with this id, fresh from the database."""
    return await repo.get(session, message_id)


async def record_failure(
    session: AsyncSession, message_id: int, error: str, next_attempt_at: datetime
) -> None:
    """Note a failed attempt; the message stays `received` for the next try."""
    await repo.record_failure(session, message_id, error, next_attempt_at)


async def due_for_retry(
    session: AsyncSession, now: datetime, limit: int
) -> Sequence[tuple[int, str | None]]:
    """Messages still `received` whose next attempt is due, oldest first: (id, sender's hash)."""
    return await repo.due_for_retry(session, now, limit)


async def received_before(
    session: AsyncSession, when: datetime, limit: int
) -> Sequence[tuple[int, str | None]]:
    """Messages still `received` that arrived before `when`, oldest first: (id, sender's hash)."""
    return await repo.received_before(session, when, limit)


async def earlier_of_sender(session: AsyncSession, message_id: int, limit: int) -> list[int]:
    """The sender's messages still `received` that came before this one, oldest first."""
    return await repo.earlier_of_sender(session, message_id, limit)


async def waiting(session: AsyncSession) -> tuple[int, datetime | None]:
    """How many messages wait to be processed, and when the oldest of them arrived."""
    return await repo.waiting(session)
