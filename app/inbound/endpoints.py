"""Twilio webhooks: inbound SMS and missed calls."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from app.config import Settings
from app.inbound.models import KIND_CALL, KIND_SMS
from app.inbound.pipeline import Inbound, Pipeline
from app.kit.errors import BadRequest, Forbidden, errors_doc
from app.providers.twilio import (
    PROVIDER,
    SIGNATURE_HEADER,
    is_valid_signature,
    message_twiml,
    reject_call_twiml,
    signed_url,
)

log = logging.getLogger(__name__)
router = APIRouter(prefix="/webhooks/twilio", tags=["webhooks"])

TWIML = "application/xml"
# Twilio gets TwiML; a request without a valid signature gets 403, one without its id 400,
# one that could not be stored (database unavailable) 503: Twilio may retry it.
WEBHOOK_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"content": {TWIML: {}}, "description": "TwiML"},
    **errors_doc(400, 403, 503, auth=False),
}


async def twilio_form(request: Request) -> dict[str, str]:
    """The form Twilio posted, once its X-Twilio-Signature is checked (403 otherwise)."""
    settings: Settings = request.app.state.settings
    form = await request.form()
    params = {key: value for key, value in form.multi_items() if isinstance(value, str)}
    if not settings.twilio_validate_signature:
        return params
    url = signed_url(settings.public_url, request.url.path, request.url.query)
    token = settings.twilio_auth_token.get_secret_value()
    if not is_valid_signature(token, url, params, request.headers.get(SIGNATURE_HEADER)):
        log.warning("rejected a request to %s: missing or wrong Twilio signature", request.url.path)
        raise Forbidden("missing or invalid X-Twilio-Signature")
    return params


def _pipeline(request: Request) -> Pipeline:
    pipeline: Pipeline = request.app.state.pipeline
    return pipeline


@router.post("/sms", response_class=Response, responses=WEBHOOK_RESPONSES)
async def inbound_sms(request: Request, form: dict[str, str] = Depends(twilio_form)) -> Response:
    """An SMS to the gateway's number: stored, triaged, answered with a receipt."""
    sid = form.get("MessageSid") or form.get("SmsSid")
    if not sid:
        raise BadRequest("MessageSid is missing")
    twiml = await _pipeline(request).receive(
        Inbound(
            provider=PROVIDER,
            provider_sid=sid,
            kind=KIND_SMS,
            from_phone=form.get("From", ""),
            to_phone=form.get("To", ""),
            body=form.get("Body", ""),
            raw=form,
        )
    )
    return Response(twiml or message_twiml(None), media_type=TWIML)


@router.post("/voice", response_class=Response, responses=WEBHOOK_RESPONSES)
async def inbound_call(request: Request, form: dict[str, str] = Depends(twilio_form)) -> Response:
    """A missed call ("flash"): rejected as busy so nobody pays, recorded as a FLASH alert."""
    sid = form.get("CallSid")
    if not sid:
        raise BadRequest("CallSid is missing")
    await _pipeline(request).receive(
        Inbound(
            provider=PROVIDER,
            provider_sid=sid,
            kind=KIND_CALL,
            from_phone=form.get("From", ""),
            to_phone=form.get("To", ""),
            body="",
            raw=form,
        )
    )
    return Response(reject_call_twiml(), media_type=TWIML)
