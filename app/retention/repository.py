"""SQL of retention: which rows are past their time, and removing what they hold.

Values are set through the mapped columns (never compared as text), so that the markers
are stored like any value of the column: encrypted where the column is.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import ColumnElement, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from app.alerts.models import Alert
from app.alerts.status import CLOSED
from app.inbound.models import STATUS_RECEIVED, InboundMessage
from app.outbox.models import CHANNEL_SMS, PENDING, SENDING, Delivery, DeliveryAttempt
from app.retention.kinds import (
    ALERT_TEXT,
    CLOSED_ALERT_TEXTS,
    DELIVERY_NUMBERS,
    MESSAGE_TEXTS,
    NUMBER,
    PURGED_NUMBER,
    PURGED_TEXT,
    RAW,
    RAW_MESSAGES,
    TEXT,
)


def _not_yet(column: InstrumentedAttribute[int], bit: int) -> ColumnElement[bool]:
    return column.op("&")(bit) == 0


def _due(kind: str, cutoff: datetime) -> tuple[type, list[ColumnElement[bool]]]:
    """The model and the conditions of the rows of `kind` past `cutoff`."""
    if kind == RAW_MESSAGES:
        return InboundMessage, [
            InboundMessage.status != STATUS_RECEIVED,
            InboundMessage.received_at < cutoff,
            _not_yet(InboundMessage.purged, RAW),
        ]
    if kind in (MESSAGE_TEXTS, DELIVERY_NUMBERS):
        bit = TEXT if kind == MESSAGE_TEXTS else NUMBER
        conditions = [
            Delivery.status.not_in((PENDING, SENDING)),
            Delivery.created_at < cutoff,
            _not_yet(Delivery.purged, bit),
        ]
        if kind == DELIVERY_NUMBERS:
            conditions.append(Delivery.channel == CHANNEL_SMS)  # a webhook's URL is no one's
        return Delivery, conditions
    if kind == CLOSED_ALERT_TEXTS:
        return Alert, [
            Alert.status.in_(CLOSED),
            Alert.updated_at < cutoff,
            _not_yet(Alert.purged, ALERT_TEXT),
        ]
    raise ValueError(f"unknown kind {kind}")


async def count_due(session: AsyncSession, kind: str, cutoff: datetime) -> int:
    """How many rows of `kind` are past `cutoff` and still hold it."""
    model, conditions = _due(kind, cutoff)
    stmt = select(func.count()).select_from(model).where(*conditions)
    return int(await session.scalar(stmt) or 0)


async def due_ids(session: AsyncSession, kind: str, cutoff: datetime, limit: int) -> list[int]:
    """Ids of at most `limit` rows of `kind` past `cutoff`, oldest first."""
    model, conditions = _due(kind, cutoff)
    stmt = select(model.id).where(*conditions).order_by(model.id).limit(limit)  # type: ignore[attr-defined]
    return list((await session.scalars(stmt)).all())


async def purge_raw(session: AsyncSession, ids: Sequence[int]) -> None:
    """Inbound messages: the provider's form, the text and both numbers go."""
    await session.execute(
        update(InboundMessage)
        .where(InboundMessage.id.in_(ids))
        .values(
            raw={},
            body=PURGED_TEXT,
            from_phone=PURGED_NUMBER,
            to_phone=PURGED_NUMBER,
            last_error=None,
            purged=InboundMessage.purged.op("|")(RAW),
        )
        .execution_options(synchronize_session=False)
    )


async def purge_delivery_texts(session: AsyncSession, ids: Sequence[int]) -> None:
    """Deliveries: the text sent goes (the purpose, times and status stay)."""
    await session.execute(
        update(Delivery)
        .where(Delivery.id.in_(ids))
        .values(body=PURGED_TEXT, purged=Delivery.purged.op("|")(TEXT))
        .execution_options(synchronize_session=False)
    )


async def purge_delivery_numbers(session: AsyncSession, ids: Sequence[int]) -> None:
    """SMS deliveries: the number goes, and the provider's errors that may quote it."""
    await session.execute(
        update(Delivery)
        .where(Delivery.id.in_(ids))
        .values(recipient=PURGED_NUMBER, last_error=None, purged=Delivery.purged.op("|")(NUMBER))
        .execution_options(synchronize_session=False)
    )
    await session.execute(
        update(DeliveryAttempt)
        .where(DeliveryAttempt.delivery_id.in_(ids))
        .values(error=None)
        .execution_options(synchronize_session=False)
    )


async def alerts_by_ids(session: AsyncSession, ids: Sequence[int]) -> Sequence[Alert]:
    """The alerts with these ids (changed through the ORM: pollers hear of the change)."""
    return (await session.scalars(select(Alert).where(Alert.id.in_(ids)))).all()
