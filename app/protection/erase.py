"""Erasing a focal point: their number and words go, their alerts stay as anonymous records.

Texts are encrypted, so no SQL can find a number inside them: every stored text is read, in
batches, and any copy of the number is replaced by [erased].

Alert events are links of a hash chain (app/alerts/chain.py): an event whose note or detail
quoted the number is rewritten, and its alert's trail is linked again (resealed). The erasure's
audit entry names the resealed alerts and any whose trail was already broken before, so that
what the erasure re-hashed is on record in the admin log's own chain.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.alerts import chain
from app.alerts.models import Alert, AlertEvent
from app.audit import service as audit
from app.inbound.models import InboundMessage
from app.kit.errors import NotFound
from app.kit.phones import mask_in_text
from app.outbox.models import CANCELLED, PENDING, SENDING, Delivery, DeliveryAttempt
from app.people.models import Reporter
from app.protection.scrub import number_pattern, scrub_document, scrub_text

BATCH = 500
# Columns holding free text (str) or documents (JSON) a number may have been copied into.
TEXTS: list[tuple[Any, tuple[str, ...], tuple[str, ...]]] = [
    (Alert, ("body", "summary"), ("correction",)),
    (InboundMessage, ("body", "reply", "last_error"), ("raw",)),
    (Delivery, ("body", "last_error"), ()),
    (DeliveryAttempt, ("error",), ()),
]


@dataclass
class Erased:
    """What an erasure removed, in counts (the audit log keeps them, never the number)."""

    alerts: int = 0
    messages: int = 0
    deliveries: set[int] = field(default_factory=set)
    copies: dict[str, int] = field(default_factory=dict)
    resealed: list[int] = field(default_factory=list)
    broken_before: list[int] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        """The counts, for the audit entry and the answer."""
        return {
            "alerts": self.alerts,
            "messages": self.messages,
            "deliveries": len(self.deliveries),
            "copies": self.copies,
            "chains_resealed": self.resealed,
            "chains_broken_before": self.broken_before,
        }


async def erase_reporter(
    session: AsyncSession, reporter_id: int, *, reason: str, actor: str
) -> Erased:
    """Erase the focal point `reporter_id`; recorded in the audit log with `reason`."""
    reporter = await session.get(Reporter, reporter_id)
    if reporter is None:
        raise NotFound(f"no reporter {reporter_id}")
    phone = reporter.phone
    done = Erased()
    # Their alerts: anonymous records (category, severity, place, times, counts are kept).
    alerts = await session.scalars(
        select(Alert).where(or_(Alert.reporter_id == reporter.id, Alert.from_phone == phone))
    )
    alerts_done = list(alerts)
    for alert in alerts_done:
        alert.from_phone, alert.body, alert.reporter_id = "", "", None
        done.alerts += 1
    messages = await session.scalars(
        select(InboundMessage).where(InboundMessage.from_phone == phone)
    )
    for message in messages:
        message.from_phone, message.body, message.raw, message.reply = "", "", {}, None
        done.messages += 1
    deliveries = await session.scalars(select(Delivery).where(Delivery.recipient == phone))
    for delivery in deliveries:  # receipts and answers sent to them
        delivery.recipient, delivery.body = "", ""
        if delivery.status in (PENDING, SENDING):
            delivery.status, delivery.last_error = CANCELLED, "erased"
        done.deliveries.add(delivery.id)
    # Pages and webhooks about their alerts quote their words: emptied, and no longer sent.
    if ids := [a.id for a in alerts_done]:
        about = await session.scalars(select(Delivery).where(Delivery.alert_id.in_(ids)))
        for delivery in about:
            delivery.body = ""
            if delivery.status in (PENDING, SENDING):
                delivery.status, delivery.last_error = CANCELLED, "erased"
            done.deliveries.add(delivery.id)
    await session.flush()
    await session.delete(reporter)
    await session.flush()
    pattern = number_pattern(phone)
    for model, texts, documents in TEXTS:
        done.copies[model.__tablename__] = await _scrub_table(
            session, model, texts, documents, pattern
        )
    done.copies[AlertEvent.__tablename__] = await _scrub_events(session, pattern, done)
    audit.record(
        session,
        actor=actor,
        action="reporter.erase",
        target_type="reporter",
        target_id=reporter_id,
        detail={"reason": mask_in_text(reason), **done.as_dict()},
    )
    await session.flush()
    return done


async def _scrub_table(
    session: AsyncSession,
    model: Any,
    texts: tuple[str, ...],
    documents: tuple[str, ...],
    pattern: Any,
) -> int:
    """Remove the number from every text of `model`, BATCH rows at a time; rows changed."""
    changed = 0
    last = 0
    while True:
        rows = list(
            await session.scalars(
                select(model).where(model.id > last).order_by(model.id).limit(BATCH)
            )
        )
        if not rows:
            return changed
        for row in rows:
            touched = False
            for name in texts:
                value = getattr(row, name)
                if (new := scrub_text(value, pattern)) != value:
                    setattr(row, name, new)
                    touched = True
            for name in documents:
                value = getattr(row, name)
                if (new := scrub_document(value, pattern)) != value:
                    setattr(row, name, new)
                    touched = True
            changed += touched
        await session.flush()
        last = rows[-1].id


async def _scrub_events(session: AsyncSession, pattern: Any, done: Erased) -> int:
    """Remove the number from alert events' notes and details, and link each touched
    alert's trail again; events changed."""
    if chain.queued(session):  # events this transaction queued, too
        await session.run_sync(chain.write_pending)
    affected: set[int] = set()
    last = 0
    while True:
        rows = (
            await session.execute(
                select(AlertEvent.id, AlertEvent.alert_id, AlertEvent.note, AlertEvent.detail)
                .where(AlertEvent.id > last)
                .order_by(AlertEvent.id)
                .limit(BATCH)
            )
        ).all()
        if not rows:
            break
        for row in rows:
            if scrub_text(row.note, pattern) != row.note or (
                scrub_document(row.detail, pattern) != row.detail
            ):
                affected.add(row.alert_id)
        last = rows[-1].id
    changed = 0
    for alert_id in sorted(affected):
        # Nobody appends to this trail while it is relinked (SQLite: one writer at a time).
        await session.execute(select(Alert.id).where(Alert.id == alert_id).with_for_update())
        events = list(
            await session.scalars(
                select(AlertEvent).where(AlertEvent.alert_id == alert_id).order_by(AlertEvent.id)
            )
        )
        if not chain.holds(events):
            done.broken_before.append(alert_id)
        for event in events:
            note, detail = scrub_text(event.note, pattern), scrub_document(event.detail, pattern)
            if note != event.note or detail != event.detail:
                event.note, event.detail = note, detail
                changed += 1
        chain.reseal(session, events)
        done.resealed.append(alert_id)
    await session.flush()
    return changed
