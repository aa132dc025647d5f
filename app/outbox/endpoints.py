"""Twilio status callbacks; deliveries and webhook subscriptions for operators."""

from __future__ import annotations

import logging
import re
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request, Response

from app.auth.deps import Admin, Operator, Session, Viewer
from app.flows.delivery_status import record_status
from app.inbound.endpoints import twilio_form, twilio_id
from app.kit.config import Settings
from app.kit.db import unit_of_work
from app.kit.errors import (
    BadRequest,
    Conflict,
    ErrorBody,
    NotFound,
    Unprocessable,
    errors_doc,
)
from app.kit.ids import MAX_ID, Id
from app.kit.pagination import Page, decode_id, encode_cursor
from app.outbox import repository as repo
from app.outbox import service, voice, webhooks
from app.outbox.health import report as channels_report
from app.outbox.health import unreachable as channels_unreachable
from app.outbox.models import EVENT_TYPES, WebhookSubscription
from app.outbox.schemas import (
    AttemptRead,
    ChannelHealthRead,
    DeliveryRead,
    SubscriptionCreate,
    SubscriptionCreated,
    SubscriptionRead,
    ZoneUnreachableRead,
    subscription_name,
)

log = logging.getLogger(__name__)
# A status is stored as "callback:<status>" in a column of 32 characters.
_STATUS = re.compile(r"[a-z_]{1,23}")
_ERROR_CODE = re.compile(r"[0-9]{1,9}")
callbacks = APIRouter(prefix="/webhooks/twilio", tags=["webhooks"])
router = APIRouter(prefix="/api/v1", tags=["outbox"])


@callbacks.post(
    "/status",
    status_code=204,
    response_class=Response,
    responses={
        204: {"description": "recorded (or an unknown message)"},
        **errors_doc(400, 403, auth=False),
        400: {
            "description": "MessageSid or MessageStatus missing or not Twilio's (an id of more "
            "than 64 printable ASCII characters; a status not of 1 to 23 letters and _)",
            "model": ErrorBody,
        },
    },
)
async def status_callback(
    request: Request, form: dict[str, str] = Depends(twilio_form)
) -> Response:
    """Twilio tells how an SMS fared: moves the delivery forward, never backwards."""
    sid = twilio_id(form, "MessageSid", "SmsSid")
    status = (form.get("MessageStatus") or form.get("SmsStatus") or "").lower()
    if not status:
        raise BadRequest("MessageStatus is missing")
    if not _STATUS.fullmatch(status):
        raise BadRequest("MessageStatus is not a Twilio status: 1 to 23 letters and _")
    code = form.get("ErrorCode") or ""
    # Twilio's error codes are 5 digits; anything else is kept out of the integer column.
    error_code = int(code) if _ERROR_CODE.fullmatch(code) else None
    sessionmaker = request.app.state.sessionmaker
    settings: Settings = request.app.state.settings
    await record_status(sessionmaker, settings, sid, status, error_code)
    return Response(status_code=204)


@callbacks.post(
    "/call-status",
    status_code=204,
    response_class=Response,
    responses={
        204: {"description": "recorded (or an unknown call)"},
        **errors_doc(400, 403, auth=False),
        400: {
            "description": "CallSid or CallStatus missing or not Twilio's",
            "model": ErrorBody,
        },
    },
)
async def call_status_callback(
    request: Request, form: dict[str, str] = Depends(twilio_form)
) -> Response:
    """Twilio tells how a voice call fared (app.outbox.voice): completed is delivered; busy,
    no-answer, failed and canceled are failed; forward only, as an SMS's status."""
    sid = twilio_id(form, "CallSid")
    raw = (form.get("CallStatus") or "").lower()
    status = voice.CALL_STATUSES.get(raw)
    if status is None:
        raise BadRequest("CallStatus is missing or not a Twilio call status")
    sessionmaker = request.app.state.sessionmaker
    settings: Settings = request.app.state.settings
    await record_status(sessionmaker, settings, sid, status, None)
    if status == "failed":
        async with unit_of_work(sessionmaker) as session:
            call = await repo.by_provider_id(session, sid)
            if call is not None:
                call.last_error = f"call {raw}"
    return Response(status_code=204)


# Every status a delivery row can be in (from "accepted" on: the provider's word, as in
# app.outbox.models.ACCEPTED_STATES).
DeliveryStatus = Literal[
    "pending",
    "sending",
    "dead",
    "cancelled",
    "accepted",
    "queued",
    "sent",
    "delivered",
    "undelivered",
    "failed",
]


async def _subscription_names(session: Session) -> dict[int, str]:
    return {
        s.id: subscription_name(s.id, s.description) for s in await repo.list_subscriptions(session)
    }


@router.get("/channels/health", response_model=list[ChannelHealthRead], responses=errors_doc())
async def channels_health(session: Session, _: Viewer) -> list[ChannelHealthRead]:
    """Every channel: up or down, last inbound and heartbeat, sends and failures last hour."""
    return [ChannelHealthRead.of(h) for h in await channels_report(session)]


@router.get(
    "/channels/unreachable", response_model=list[ZoneUnreachableRead], responses=errors_doc()
)
async def zones_unreachable(session: Session, _: Viewer) -> list[ZoneUnreachableRead]:
    """The zones whose every SMS channel is down, and how many of their pages wait."""
    return [ZoneUnreachableRead.of(z) for z in await channels_unreachable(session)]


@router.get("/deliveries", response_model=Page[DeliveryRead], responses=errors_doc(400, 422))
async def list_deliveries(
    session: Session,
    principal: Viewer,
    status: DeliveryStatus | None = None,
    alert_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    cursor: str | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> Page[DeliveryRead]:
    """Deliveries, newest first (`?status=dead` for those that gave up)."""
    before = decode_id(cursor) if cursor else None
    rows = await repo.list_deliveries(
        session, status=status, alert_id=alert_id, before=before, limit=limit
    )
    mask_phone = not principal.can("operator")
    names = await _subscription_names(session)
    items = [DeliveryRead.of(d, mask_phone=mask_phone, names=names) for d in rows]
    next_cursor = encode_cursor(rows[-1].id) if len(rows) == limit else None
    return Page[DeliveryRead](items=items, next_cursor=next_cursor)


@router.get(
    "/deliveries/{delivery_id}", response_model=DeliveryRead, responses=errors_doc(404, 422)
)
async def get_delivery(delivery_id: Id, session: Session, principal: Viewer) -> DeliveryRead:
    """One delivery with every attempt."""
    delivery = await repo.get(session, delivery_id)
    if delivery is None:
        raise NotFound(f"no delivery {delivery_id}")
    mask_phone = not principal.can("operator")
    names = await _subscription_names(session)
    read = DeliveryRead.of(delivery, mask_phone=mask_phone, names=names)
    read.history = [
        AttemptRead.of(a, channel=delivery.channel, mask_phone=mask_phone)
        for a in await repo.attempts(session, delivery_id)
    ]
    return read


@router.post(
    "/deliveries/{delivery_id}/retry",
    response_model=DeliveryRead,
    responses=errors_doc(404, 409, 422),
)
async def retry_delivery(
    delivery_id: Id, request: Request, session: Session, _: Operator
) -> DeliveryRead:
    """Send a dead delivery again."""
    delivery = await service.retry(session, delivery_id, request.app.state.settings)
    return DeliveryRead.of(delivery, mask_phone=False)


def _check_events(event_types: list[str]) -> list[str]:
    unknown = sorted(set(event_types) - set(EVENT_TYPES))
    if unknown:
        raise Unprocessable(
            f"event_types: unknown event types {unknown}; use {', '.join(EVENT_TYPES)}"
        )
    return sorted(set(event_types))


@router.post(
    "/webhooks",
    response_model=SubscriptionCreated,
    status_code=201,
    responses=errors_doc(409, 422),
)
async def create_subscription(
    body: SubscriptionCreate, request: Request, session: Session, _: Admin
) -> SubscriptionCreated:
    """Subscribe a URL to alert events; the signing secret is shown in this answer only."""
    settings: Settings = request.app.state.settings
    try:
        await webhooks.check_target(body.url, allow_private=settings.webhook_allow_private)
    except webhooks.WebhookTargetError as exc:
        exc.detail = f"url: {exc.detail}"
        raise
    event_types = _check_events(body.event_types)
    # A second subscription of one URL would get every event twice.
    if any(s.url == body.url for s in await repo.list_subscriptions(session)):
        raise Conflict(f"{body.url} is subscribed already; PATCH or DELETE that subscription")
    subscription = WebhookSubscription(
        url=body.url,
        event_types=event_types,
        secret=webhooks.new_secret(),
        description=body.description,
        active=True,
    )
    await repo.add_subscription(session, subscription)
    return SubscriptionCreated(
        **SubscriptionRead.of(subscription).model_dump(), secret=subscription.secret
    )


@router.get("/webhooks", response_model=list[SubscriptionRead], responses=errors_doc())
async def list_subscriptions(session: Session, _: Admin) -> list[SubscriptionRead]:
    """Every subscription."""
    return [SubscriptionRead.of(s) for s in await repo.list_subscriptions(session)]


@router.patch(
    "/webhooks/{subscription_id}", response_model=SubscriptionRead, responses=errors_doc(404, 422)
)
async def set_subscription_state(
    subscription_id: Id, session: Session, _: Admin, active: Literal["true", "false"]
) -> SubscriptionRead:
    """Turn a subscription on again after fixing its receiver (or off)."""
    subscription = await repo.get_subscription(session, subscription_id)
    if subscription is None:
        raise NotFound(f"no webhook subscription {subscription_id}")
    subscription.active = active == "true"
    subscription.disabled_reason = None if subscription.active else "turned off by an admin"
    return SubscriptionRead.of(subscription)


@router.delete("/webhooks/{subscription_id}", status_code=204, responses=errors_doc(404))
async def delete_subscription(subscription_id: Id, session: Session, _: Admin) -> Response:
    """Remove a subscription and what is still queued for it."""
    subscription = await repo.get_subscription(session, subscription_id)
    if subscription is None:
        raise NotFound(f"no webhook subscription {subscription_id}")
    await session.delete(subscription)
    return Response(status_code=204)
