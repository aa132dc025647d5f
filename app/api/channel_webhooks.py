"""Webhooks of the channels other than Twilio: `POST /webhooks/{kind}/{name}`.

Each provider's request is authenticated with the channel's own secret before anything is
read or stored; its events are stored and de-duplicated exactly as Twilio's are (the
provider's event id is the message's `provider_sid`, the channel's name its `provider`).
"""

from __future__ import annotations

import hmac
import json
import logging
import re
import time
from dataclasses import dataclass
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Path, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ValidationError

from app.api.deps import RuntimeDep, SettingsDep
from app.channels import service as channels
from app.flows.inbound import Inbound
from app.flows.provider_reports import channel_heard, record_status
from app.inbound.models import KIND_CALL, KIND_SMS
from app.kit import metrics
from app.kit.clock import utcnow
from app.kit.config import Settings
from app.kit.errors import BadRequest, Forbidden, NotFound, Unprocessable, errors_doc
from app.kit.loops import within
from app.kit.text import NO_CONTROL
from app.providers import africastalking, http_channel, httpsms, smsgate
from app.providers.twilio import signed_url
from app.runtime import Runtime

log = logging.getLogger(__name__)
M = TypeVar("M", bound=BaseModel)
router = APIRouter(prefix="/webhooks", tags=["webhooks"])
# A channel's name in the URL is looked up: no control character (PostgreSQL refuses NUL).
ChannelName = Annotated[str, Path(pattern=NO_CONTROL)]


@dataclass(frozen=True)
class Hook:
    """One webhook request and what handling it needs."""

    request: Request
    runtime: Runtime
    settings: Settings
    # When the answer is due (time.monotonic()): every read and write of the webhook is
    # bounded by it, as the Twilio webhook's are (503 when the database holds them longer).
    deadline: float

    def left(self) -> float:
        """Seconds until the answer is due."""
        return self.deadline - time.monotonic()

    @classmethod
    def of(cls, request: Request, runtime: Runtime, settings: Settings) -> Hook:
        """The webhook just received, its answer due within the webhook deadline."""
        deadline = time.monotonic() + settings.webhook_deadline_seconds
        return cls(request, runtime, settings, deadline)


@dataclass(frozen=True)
class ChannelInfo:
    """What a webhook needs of its channel, read in a short transaction."""

    kind: str
    name: str
    numbers: list[str]
    secrets: dict[str, str]
    options: dict[str, Any]


async def _channel(runtime: Runtime, kind: str, name: str) -> ChannelInfo:
    async with runtime.sessionmaker() as session:
        channel = await channels.webhook_channel(session, kind, name)
        return ChannelInfo(
            channel.kind,
            channel.name,
            list(channel.numbers or []),
            dict(channel.secrets),
            dict(channel.options),
        )


def _json(body: bytes) -> Any:
    try:
        return json.loads(body)
    except (UnicodeDecodeError, ValueError) as exc:
        raise BadRequest(f"the body is not JSON: {exc}") from exc


def _model(model: type[M], data: Any, where: str) -> M:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{where}.{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()
        )
        raise Unprocessable(problems or f"{where} is not valid") from exc


def _ids(fields: dict[str, str], *names: str) -> None:
    """422 when a field holding the provider's id of a message or report has a control
    character: no provider sends one, and the id is stored and looked up (PostgreSQL
    refuses NUL, which would answer 500)."""
    for name in names:
        if not re.fullmatch(NO_CONTROL, fields.get(name, "")):
            raise Unprocessable(f"{name}: the id has a control character in it")


def _same(given: str, secret: str) -> bool:
    """Whether a secret from the request is the channel's, in constant time (as bytes:
    compare_digest refuses str beyond ASCII, and a URL or a header can carry any)."""
    return hmac.compare_digest(given.encode(), secret.encode())


async def _seen(hook: Hook, name: str, *, heartbeat: bool = False, down: str | None = None) -> None:
    """The channel spoke (a heartbeat says it is up; with `down`, its provider says not)."""
    sessionmaker = hook.runtime.sessionmaker
    heard = channel_heard(sessionmaker, hook.settings, name, heartbeat=heartbeat, down=down)
    await within(heard, hook.left(), cancel_late=True)


async def _accept(hook: Hook, inbound: Inbound) -> JSONResponse:
    """Store a message or call (once per provider id) and process it."""
    pipeline = hook.runtime.pipeline
    message_id, new = await pipeline.receive_from_app(
        inbound, heard=lambda: _seen(hook, inbound.provider), deadline=hook.deadline
    )
    return JSONResponse({"status": "stored" if new else "replayed", "id": message_id})


async def _status(hook: Hook, channel: ChannelInfo, provider_id: str, status: str) -> JSONResponse:
    """The provider's word on an SMS it was given (forward only, failover on a failure)."""
    await _seen(hook, channel.name)
    sessionmaker = hook.runtime.sessionmaker
    recorded = record_status(sessionmaker, hook.settings, provider_id, status, None, channel.name)
    known = await within(recorded, hook.left(), cancel_late=True)
    return JSONResponse({"status": "recorded" if known else "unknown message"})


WEBHOOK_ERRORS = errors_doc(400, 403, 404, 422, 503, auth=False)


@router.post(
    "/{kind}/{name}",
    responses={200: {"description": "stored (or known already)"}, **WEBHOOK_ERRORS},
)
async def channel_webhook(
    kind: str, name: ChannelName, request: Request, runtime: RuntimeDep, settings: SettingsDep
) -> JSONResponse:
    """An event a channel's provider posts (SMS Gateway for Android: `/webhooks/smsgate/NAME`)."""
    return await _dispatch(kind, name, Hook.of(request, runtime, settings), None)


@router.post(
    "/{kind}/{name}/{token}",
    responses={200: {"description": "stored (or known already)"}, **WEBHOOK_ERRORS},
)
async def channel_webhook_with_secret(
    kind: str,
    name: ChannelName,
    token: str,
    request: Request,
    runtime: RuntimeDep,
    settings: SettingsDep,
) -> JSONResponse:
    """An event posted to a URL that carries the channel's secret (generic HTTP channels)."""
    return await _dispatch(kind, name, Hook.of(request, runtime, settings), token)


async def _dispatch(kind: str, name: str, hook: Hook, token: str | None) -> JSONResponse:
    channel = await within(_channel(hook.runtime, kind, name), hook.left(), cancel_late=True)
    body = await hook.request.body()
    if kind == "http":
        return await _http(hook, channel, body, token)
    if kind == "africastalking":
        return await _africastalking(hook, channel, token)
    if token is not None:
        raise NotFound(f"channels of kind {kind} take no secret in the URL")
    if kind in ("smsgate", "console"):  # the console handset posts as the Android app
        return await _smsgate(hook, channel, body)
    if kind == "httpsms":
        return await _httpsms(hook, channel, body)
    raise NotFound(f"channels of kind {kind} take no webhook")


async def _smsgate(hook: Hook, channel: ChannelInfo, body: bytes) -> JSONResponse:
    request = hook.request
    problem = smsgate.check_signature(
        channel.secrets.get("signing_key", ""),
        body,
        request.headers.get(smsgate.TIMESTAMP_HEADER),
        request.headers.get(smsgate.SIGNATURE_HEADER),
    )
    if problem is not None:
        log.warning("rejected a request to %s: %s", request.url.path, problem)
        raise Forbidden(problem)
    offset = smsgate.clock_offset(request.headers.get(smsgate.TIMESTAMP_HEADER, ""))
    if offset is not None:
        # Taken all the same (smsgate.MAX_SKEW_SECONDS says why); the operator is told.
        log.warning(
            "channel %s: its device's clock is %+d min from ours (set its date and time zone "
            "right); its request is taken all the same",
            channel.name,
            round(offset / 60),
        )
        metrics.CLOCK_OFF.labels(channel.name).inc()
    event = _model(smsgate.SmsGateEvent, _json(body), "body")
    if event.event == smsgate.RECEIVED:
        sms = _model(smsgate.SmsReceived, event.payload, "payload")
        sim = sms.sim_number
        to = channel.numbers[sim - 1] if sim and 0 < sim <= len(channel.numbers) else ""
        return await _accept(
            hook,
            Inbound(
                provider=channel.name,
                provider_sid=smsgate.event_key(event),
                kind=KIND_SMS,
                from_phone=sms.phone_number,
                to_phone=to or (channel.numbers[0] if channel.numbers else ""),
                body=sms.message,
                raw={
                    "deviceId": event.device_id,
                    "event": event.event,
                    "id": event.id,
                    "messageId": sms.message_id or "",
                    "simNumber": str(sim or ""),
                    "receivedAt": sms.received_at.isoformat() if sms.received_at else "",
                },
            ),
        )
    if event.event in smsgate.STATUS_EVENTS:
        status = _model(smsgate.SmsStatus, event.payload, "payload")
        return await _status(hook, channel, status.message_id, smsgate.STATUS_EVENTS[event.event])
    if event.event == smsgate.PING:
        stamp = int(request.headers.get(smsgate.TIMESTAMP_HEADER, "0"))
        if offset is not None and not _newest_ping(channel.name, stamp):
            return JSONResponse({"status": "ignored", "event": event.event})
        await _seen(hook, channel.name, heartbeat=True)
        return JSONResponse({"status": "heartbeat"})
    # Other events (data SMS, MMS…) are acknowledged so that the app stops retrying them.
    return JSONResponse({"status": "ignored", "event": event.event})


# The newest X-Timestamp of a ping from a device whose clock is off, per channel, in this
# process. Such a ping is taken as a heartbeat only when it is newer: a ping is no message,
# no id de-duplicates it, and one recorded once and posted again (no longer refused for its
# age) must not keep a dead or seized phone's channel up. A ping near our time always counts.
_SKEWED_PINGS: dict[str, int] = {}


def _newest_ping(channel: str, stamp: int) -> bool:
    """Whether a skewed ping is newer than any this process took from the channel (kept)."""
    if stamp <= _SKEWED_PINGS.get(channel, -1):
        return False
    _SKEWED_PINGS[channel] = stamp
    return True


async def _httpsms(hook: Hook, channel: ChannelInfo, body: bytes) -> JSONResponse:
    request = hook.request
    settings = hook.settings
    problem = httpsms.check_token(
        channel.secrets.get("signing_key", ""),
        request.headers.get("Authorization"),
        signed_url(settings.public_url, request.url.path, request.url.query),
    )
    if problem is not None:
        log.warning("rejected a request to %s: %s", request.url.path, problem)
        raise Forbidden(problem)
    event = _model(httpsms.CloudEvent, _json(body), "body")
    header = request.headers.get(httpsms.EVENT_HEADER)
    if header and header != event.type:
        raise Unprocessable(f"{httpsms.EVENT_HEADER} {header!r} is not the body's type")
    if event.type in (httpsms.RECEIVED, httpsms.MISSED_CALL):
        message = _model(httpsms.PhoneMessage, event.data, "data")
        if message.encrypted:
            raise Unprocessable("data.encrypted: turn end-to-end encryption off in the app")
        call = event.type == httpsms.MISSED_CALL
        return await _accept(
            hook,
            Inbound(
                provider=channel.name,
                # httpSMS's own id of the message or call: the same on every retry.
                provider_sid=message.message_id,
                kind=KIND_CALL if call else KIND_SMS,
                from_phone=message.contact,
                to_phone=message.owner or (channel.numbers[0] if channel.numbers else ""),
                body="" if call else message.content,
                raw={
                    "id": event.id,
                    "type": event.type,
                    "message_id": message.message_id,
                    "sim": message.sim or "",
                    "timestamp": message.timestamp.isoformat() if message.timestamp else "",
                },
            ),
        )
    if event.type in httpsms.STATUS_EVENTS:
        status = _model(httpsms.MessageStatus, event.data, "data")
        if status.provider_id is None:
            raise Unprocessable("data.id: the message's id is missing")
        if not status.is_final:  # httpSMS will try that message again
            return JSONResponse({"status": "ignored", "event": event.type})
        return await _status(hook, channel, status.provider_id, httpsms.STATUS_EVENTS[event.type])
    if event.type == httpsms.OFFLINE:
        await _seen(hook, channel.name, down="httpSMS reports the phone offline")
        return JSONResponse({"status": "down"})
    if event.type == httpsms.ONLINE:
        await _seen(hook, channel.name, heartbeat=True)
        return JSONResponse({"status": "heartbeat"})
    return JSONResponse({"status": "ignored", "event": event.type})


# Forms in either encoding: an aggregator's HTTP client may post its fields as
# multipart/form-data (PHP's curl given an array does), and that is a form, not JSON.
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


async def _fields(request: Request, body: bytes) -> dict[str, str]:
    """The posted fields, from a form or a flat JSON object."""
    if request.headers.get("content-type", "").lower().startswith(FORM_TYPES):
        form = await request.form()
        return {k: v for k, v in form.multi_items() if isinstance(v, str)}
    data = _json(body)
    if not isinstance(data, dict):
        raise Unprocessable("body: a form or a JSON object is expected")
    return {
        str(k): str(v) for k, v in data.items() if v is not None and not isinstance(v, dict | list)
    }


async def _http(hook: Hook, channel: ChannelInfo, body: bytes, token: str | None) -> JSONResponse:
    request = hook.request
    config = http_channel.HttpConfig.of(channel.options)
    secret = channel.secrets.get("secret", "")
    # The URL that carries the secret is also where delivery reports come (dlr_url).
    by_path = token is not None and secret and _same(token, secret)
    problem = (
        None if by_path else http_channel.check_auth(config, secret, body, token, request.headers)
    )
    if problem is not None:
        log.warning("rejected a request to /webhooks/http/%s: %s", channel.name, problem)
        raise Forbidden(problem)
    fields = await _fields(request, body)
    if config.dlr_status in fields and config.in_text not in fields:
        _ids(fields, config.dlr_id)
        provider_id = fields.get(config.dlr_id)
        if not provider_id:
            raise Unprocessable(f"{config.dlr_id}: the delivery report names no message")
        value = fields[config.dlr_status].strip().lower()
        if value in config.dlr_delivered:
            status = "delivered"
        elif value in config.dlr_failed:
            status = "failed"
        else:
            return JSONResponse({"status": "ignored", "dlr": value})
        return await _status(hook, channel, provider_id[:64], status)
    missing = [f for f in (config.in_from, config.in_text) if f not in fields]
    if missing:
        raise Unprocessable(f"{', '.join(missing)}: missing (a message needs sender and text)")
    if config.in_id:
        _ids(fields, config.in_id)
    to = fields.get(config.in_to, "") if config.in_to else ""
    provider_sid, retry_of = http_channel.message_ids(config, fields, utcnow())
    return await _accept(
        hook,
        Inbound(
            provider=channel.name,
            provider_sid=provider_sid,
            kind=KIND_SMS,
            from_phone=fields[config.in_from],
            to_phone=to or (channel.numbers[0] if channel.numbers else ""),
            body=fields[config.in_text],
            raw={k: v[:500] for k, v in fields.items()},
            retry_of=retry_of,
        ),
    )


async def _africastalking(hook: Hook, channel: ChannelInfo, token: str | None) -> JSONResponse:
    request = hook.request
    secret = channel.secrets.get("secret", "")
    if not token or not secret or not _same(token, secret):
        log.warning("rejected a request to /webhooks/africastalking/%s: wrong secret", channel.name)
        raise Forbidden("missing or wrong secret in the callback URL")
    source = request.client.host if request.client else None
    if not africastalking.allowed(str(channel.options.get("allow", "")), source):
        log.warning(
            "rejected a request to /webhooks/africastalking/%s from %s", channel.name, source
        )
        raise Forbidden("this source address may not post to this channel")
    form = await request.form()
    fields = {k: v for k, v in form.multi_items() if isinstance(v, str)}
    _ids(fields, "id")
    if "status" in fields and "text" not in fields:
        if not fields.get("id"):
            raise Unprocessable("id: the delivery report names no message")
        status = africastalking.report_status(fields["status"])
        if status is None:
            return JSONResponse({"status": "ignored", "dlr": fields["status"]})
        return await _status(hook, channel, fields["id"][:64], status)
    # An empty text is a message all the same (a blank SMS is filed, as Twilio's webhook
    # files it), and so is an empty sender (filed, never answered: app.kit.phones.
    # reply_number); only the id, which de-duplicates it, must have a value.
    missing = [] if fields.get("id") else ["id"]
    missing += [f for f in ("from", "text") if f not in fields]
    if missing:
        raise Unprocessable(f"{', '.join(missing)}: missing (a message needs from, text and id)")
    return await _accept(
        hook,
        Inbound(
            provider=channel.name,
            provider_sid=fields["id"][:64],
            kind=KIND_SMS,
            from_phone=fields["from"],
            to_phone=fields.get("to", ""),
            body=fields["text"],
            raw={k: v[:500] for k, v in fields.items()},
        ),
    )
