"""Twilio webhooks: inbound SMS and missed calls."""

from __future__ import annotations

import logging
import re
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from app.api.deps import PipelineDep, SettingsDep
from app.flows.inbound import Inbound
from app.inbound.models import KIND_CALL, KIND_SMS
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
# Twilio's ids are 34 letters and digits (SM…, CA…); the columns hold 64. Anything else (too
# long, a space, a NUL PostgreSQL refuses) never came from Twilio: 400, nothing stored.
_TWILIO_ID = re.compile(r"[!-~]{1,64}")
BAD_FORM = (
    "The id (MessageSid, SmsSid, CallSid) is missing or is not one: more than 64 characters, "
    "or a space, control or non-ASCII character in it. Nothing is stored; Twilio never sends "
    "such a form. Other fields are stored whatever they hold (control characters dropped)."
)
# Twilio gets TwiML; a request without a valid signature gets 403, one without its id 400,
# one that could not be stored (database unavailable) 503: Twilio may retry it.
WEBHOOK_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"content": {TWIML: {}}, "description": "TwiML"},
    **errors_doc(400, 403, 503, auth=False),
}
WEBHOOK_RESPONSES[400] = {**WEBHOOK_RESPONSES[400], "description": BAD_FORM}


def twilio_id(form: dict[str, str], *fields: str) -> str:
    """The event's id: the first of `fields` the form has (400 when none, or not an id)."""
    name = next((field for field in fields if form.get(field)), None)
    if name is None:
        raise BadRequest(f"{fields[0]} is missing")
    if not _TWILIO_ID.fullmatch(form[name]):
        raise BadRequest(f"{name} is not a Twilio id: at most 64 printable ASCII characters")
    return form[name]


async def twilio_form(request: Request, settings: SettingsDep) -> dict[str, str]:
    """The form Twilio posted, once its X-Twilio-Signature is checked (403 otherwise)."""
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


TwilioForm = Annotated[dict[str, str], Depends(twilio_form)]


@router.post("/sms", response_class=Response, responses=WEBHOOK_RESPONSES)
async def inbound_sms(pipeline: PipelineDep, form: TwilioForm) -> Response:
    """An SMS to the gateway's number: stored, triaged, answered with a receipt."""
    sid = twilio_id(form, "MessageSid", "SmsSid")
    twiml = await pipeline.receive(
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
async def inbound_call(pipeline: PipelineDep, form: TwilioForm) -> Response:
    """A missed call ("flash"): rejected as busy so nobody pays, recorded as a FLASH alert."""
    sid = twilio_id(form, "CallSid")
    await pipeline.receive(
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
