"""Twilio status callbacks; deliveries and webhook subscriptions for operators."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Response
from fastapi.types import DecoratedCallable

from app.api.deps import Admin, Operator, RuntimeDep, SessionDep, SettingsDep, Viewer
from app.api.inbound import TwilioForm, twilio_id
from app.flows.provider_reports import record_call_status, record_status
from app.kit.errors import BadRequest, ErrorBody, errors_doc
from app.kit.ids import MAX_ID, Id
from app.kit.pagination import Page, decode_id, next_id_cursor
from app.outbox import service, subscriptions, voice
from app.outbox.health import report as channels_report
from app.outbox.health import unreachable as channels_unreachable
from app.outbox.schemas import (
    AttemptRead,
    ChannelHealthRead,
    DeliveryRead,
    SubscriptionCreate,
    SubscriptionCreated,
    SubscriptionRead,
    ZoneUnreachableRead,
)

# A status is stored as "callback:<status>" in a column of 32 characters.
_STATUS = re.compile(r"[a-z_]{1,23}")
_ERROR_CODE = re.compile(r"[0-9]{1,9}")
callbacks = APIRouter(prefix="/webhooks/twilio", tags=["webhooks"])
router = APIRouter(prefix="/api/v1", tags=["outbox"])


def _status_callback(
    path: str, what: str, bad_form: str
) -> Callable[[DecoratedCallable], DecoratedCallable]:
    """A Twilio status callback: 204 once recorded (or for an unknown `what`), 400 for a form
    that is not Twilio's (`bad_form` says how), 403 without a valid signature."""
    return callbacks.post(
        path,
        status_code=204,
        response_class=Response,
        responses={
            204: {"description": f"recorded (or an unknown {what})"},
            **errors_doc(400, 403, auth=False),
            400: {"description": bad_form, "model": ErrorBody},
        },
    )


@_status_callback(
    "/status",
    "message",
    "MessageSid or MessageStatus missing or not Twilio's (an id of more than 64 printable "
    "ASCII characters; a status not of 1 to 23 letters and _)",
)
async def status_callback(runtime: RuntimeDep, settings: SettingsDep, form: TwilioForm) -> Response:
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
    await record_status(runtime.sessionmaker, settings, sid, status, error_code)
    return Response(status_code=204)


@_status_callback("/call-status", "call", "CallSid or CallStatus missing or not Twilio's")
async def call_status_callback(
    runtime: RuntimeDep, settings: SettingsDep, form: TwilioForm
) -> Response:
    """Twilio tells how a voice call fared (app.outbox.voice): completed is delivered; busy,
    no-answer, failed and canceled are failed; forward only, as an SMS's status."""
    sid = twilio_id(form, "CallSid")
    raw = (form.get("CallStatus") or "").lower()
    status = voice.CALL_STATUSES.get(raw)
    if status is None:
        raise BadRequest("CallStatus is missing or not a Twilio call status")
    await record_call_status(runtime.sessionmaker, settings, sid, status, raw)
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


@router.get("/channels/health", response_model=list[ChannelHealthRead], responses=errors_doc())
async def channels_health(session: SessionDep, _: Viewer) -> list[ChannelHealthRead]:
    """Every channel: up or down, last inbound and heartbeat, sends and failures last hour."""
    return [ChannelHealthRead.of(h) for h in await channels_report(session)]


@router.get(
    "/channels/unreachable", response_model=list[ZoneUnreachableRead], responses=errors_doc()
)
async def zones_unreachable(session: SessionDep, _: Viewer) -> list[ZoneUnreachableRead]:
    """The zones whose every SMS channel is down, and how many of their pages wait."""
    return [ZoneUnreachableRead.model_validate(z) for z in await channels_unreachable(session)]


@router.get("/deliveries", response_model=Page[DeliveryRead], responses=errors_doc(400, 422))
async def list_deliveries(
    session: SessionDep,
    principal: Viewer,
    status: DeliveryStatus | None = None,
    alert_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    cursor: str | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> Page[DeliveryRead]:
    """Deliveries, newest first (`?status=dead` for those that gave up)."""
    before = decode_id(cursor) if cursor else None
    rows = await service.deliveries(
        session, status=status, alert_id=alert_id, before=before, limit=limit
    )
    mask_phone = not principal.can("operator")
    names = await subscriptions.names(session)
    items = [DeliveryRead.of(d, mask_phone=mask_phone, names=names) for d in rows]
    return Page[DeliveryRead](items=items, next_cursor=next_id_cursor(rows, limit))


@router.get(
    "/deliveries/{delivery_id}", response_model=DeliveryRead, responses=errors_doc(404, 422)
)
async def get_delivery(delivery_id: Id, session: SessionDep, principal: Viewer) -> DeliveryRead:
    """One delivery with every attempt."""
    delivery = await service.get(session, delivery_id)
    mask_phone = not principal.can("operator")
    names = await subscriptions.names(session)
    read = DeliveryRead.of(delivery, mask_phone=mask_phone, names=names)
    context = {"channel": delivery.channel, "mask_phone": mask_phone}
    read.history = [
        AttemptRead.model_validate(a, context=context)
        for a in await service.attempts(session, delivery_id)
    ]
    return read


@router.post(
    "/deliveries/{delivery_id}/retry",
    response_model=DeliveryRead,
    responses=errors_doc(404, 409, 422),
)
async def retry_delivery(
    delivery_id: Id, session: SessionDep, settings: SettingsDep, _: Operator
) -> DeliveryRead:
    """Send a dead delivery again."""
    delivery = await service.retry(session, delivery_id, settings)
    return DeliveryRead.of(delivery, mask_phone=False)


@router.post(
    "/webhooks",
    response_model=SubscriptionCreated,
    status_code=201,
    responses=errors_doc(409, 422),
)
async def create_subscription(
    body: SubscriptionCreate, session: SessionDep, settings: SettingsDep, _: Admin
) -> SubscriptionCreated:
    """Subscribe a URL to alert events; the signing secret is shown in this answer only."""
    subscription = await subscriptions.subscribe(
        session,
        settings,
        url=body.url,
        event_types=body.event_types,
        description=body.description,
    )
    return SubscriptionCreated(
        **SubscriptionRead.model_validate(subscription).model_dump(), secret=subscription.secret
    )


@router.get("/webhooks", response_model=list[SubscriptionRead], responses=errors_doc())
async def list_subscriptions(session: SessionDep, _: Admin) -> list[SubscriptionRead]:
    """Every subscription."""
    return [
        SubscriptionRead.model_validate(s) for s in await subscriptions.list_subscriptions(session)
    ]


@router.patch(
    "/webhooks/{subscription_id}", response_model=SubscriptionRead, responses=errors_doc(404, 422)
)
async def set_subscription_state(
    subscription_id: Id, session: SessionDep, _: Admin, active: Literal["true", "false"]
) -> SubscriptionRead:
    """Turn a subscription on again after fixing its receiver (or off)."""
    subscription = await subscriptions.get(session, subscription_id)
    subscriptions.set_active(subscription, active == "true")
    return SubscriptionRead.model_validate(subscription)


@router.delete("/webhooks/{subscription_id}", status_code=204, responses=errors_doc(404))
async def delete_subscription(subscription_id: Id, session: SessionDep, _: Admin) -> Response:
    """Remove a subscription and what is still queued for it."""
    await subscriptions.delete(session, subscription_id)
    return Response(status_code=204)
