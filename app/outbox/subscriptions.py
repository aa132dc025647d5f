"""Webhook subscriptions: admins subscribe a URL, turn it on or off, remove it; each event
becomes one delivery per subscription that wants it; a receiver that is gone is disabled."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.kit.clock import utcnow
from app.kit.config import Settings
from app.kit.errors import Conflict, Unprocessable
from app.kit.repository import get_or_raise
from app.outbox import repository as repo
from app.outbox import webhooks
from app.outbox.models import CHANNEL_WEBHOOK, EVENT_TYPES, PENDING, Delivery, WebhookSubscription
from app.outbox.schemas import subscription_name
from app.outbox.wakeup import mark_work


async def list_subscriptions(session: AsyncSession) -> Sequence[WebhookSubscription]:
    """Every subscription."""
    return await repo.list_subscriptions(session)


async def names(session: AsyncSession) -> dict[int, str]:
    """How each subscription is shown to those who may not read its URL, by id."""
    return {
        s.id: subscription_name(s.id, s.description) for s in await repo.list_subscriptions(session)
    }


def _check_events(event_types: list[str]) -> list[str]:
    unknown = sorted(set(event_types) - set(EVENT_TYPES))
    if unknown:
        raise Unprocessable(
            f"event_types: unknown event types {unknown}; use {', '.join(EVENT_TYPES)}"
        )
    return sorted(set(event_types))


async def subscribe(
    session: AsyncSession,
    settings: Settings,
    *,
    url: str,
    event_types: list[str],
    description: str,
) -> WebhookSubscription:
    """A new subscription of `url` to these events, with a fresh signing secret."""
    try:
        await webhooks.check_target(url, allow_private=settings.webhook_allow_private)
    except webhooks.WebhookTargetError as exc:
        exc.detail = f"url: {exc.detail}"
        raise
    wanted = _check_events(event_types)
    # A second subscription of one URL would get every event twice.
    if any(s.url == url for s in await repo.list_subscriptions(session)):
        raise Conflict(f"{url} is subscribed already; PATCH or DELETE that subscription")
    subscription = WebhookSubscription(
        url=url,
        event_types=wanted,
        secret=webhooks.new_secret(),
        description=description,
        active=True,
    )
    await repo.add_subscription(session, subscription)
    return subscription


async def get(session: AsyncSession, subscription_id: int) -> WebhookSubscription:
    """The subscription with this id, or 404."""
    return await get_or_raise(session, WebhookSubscription, subscription_id, "webhook subscription")


def set_active(subscription: WebhookSubscription, active: bool) -> None:
    """Turn a subscription on again (after its receiver was fixed), or off."""
    subscription.active = active
    subscription.disabled_reason = None if active else "turned off by an admin"


async def delete(session: AsyncSession, subscription_id: int) -> None:
    """Remove a subscription and what is still queued for it."""
    await session.delete(await get(session, subscription_id))


async def emit_event(
    session: AsyncSession,
    settings: Settings,
    event_type: str,
    data: dict[str, Any] | Callable[[], dict[str, Any]],
    *,
    alert_id: int | None = None,
) -> list[Delivery]:
    """One webhook delivery per subscription that wants `event_type`; `data` may be a
    function that makes it, called only when a subscription wants the event."""
    subscriptions = await repo.subscriptions_for(session, event_type)
    if not subscriptions:
        return []
    if callable(data):
        data = data()
    body = webhooks.event_body(event_type, data, utcnow()).decode()
    out = []
    for subscription in subscriptions:
        delivery = Delivery(
            channel=CHANNEL_WEBHOOK,
            purpose="event",
            status=PENDING,
            alert_id=alert_id,
            subscription_id=subscription.id,
            recipient=subscription.url,
            sender="",
            body=body,
            event_type=event_type,
            event_id=webhooks.new_message_id(),
            due_at=utcnow(),
            max_attempts=settings.delivery_max_attempts,
        )
        session.add(delivery)
        out.append(delivery)
    await session.flush()
    await mark_work(session)
    return out


async def disable_subscription(
    session: AsyncSession, subscription_id: int | None, reason: str
) -> None:
    """Stop sending to a subscription (its receiver is gone)."""
    if subscription_id is None:
        return
    subscription = await repo.get_subscription(session, subscription_id)
    if subscription is None:
        return
    subscription.active = False
    subscription.disabled_reason = reason
    await repo.cancel_pending_of_subscription(session, subscription_id)
