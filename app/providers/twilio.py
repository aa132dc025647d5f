"""Twilio: request signatures and TwiML answers, with the official `twilio` library."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Mapping

from twilio.request_validator import RequestValidator
from twilio.twiml.messaging_response import MessagingResponse
from twilio.twiml.voice_response import VoiceResponse

PROVIDER = "twilio"
SIGNATURE_HEADER = "X-Twilio-Signature"


def signed_url(public_url: str, path: str, query: str = "") -> str:
    """The URL Twilio signed: the public base URL, the path, and the query string if any."""
    return public_url.rstrip("/") + path + (f"?{query}" if query else "")


def is_valid_signature(
    auth_token: str, url: str, params: Mapping[str, str], signature: str | None
) -> bool:
    """Whether `signature` is Twilio's HMAC of `url` and the form `params`."""
    if not signature:
        return False
    return bool(RequestValidator(auth_token).validate(url, dict(params), signature))


def compute_signature(auth_token: str, url: str, params: Mapping[str, str]) -> str:
    """The signature Twilio would send for this request (used by `kengele simulate`)."""
    return str(RequestValidator(auth_token).compute_signature(url, dict(params)))


def message_twiml(text: str | None) -> str:
    """A TwiML answer that replies `text`, or an empty `<Response/>` when None."""
    response = MessagingResponse()
    if text:
        response.message(text)
    return str(response)


def message_text(twiml: str) -> str | None:
    """The text a TwiML answer of ours (`message_twiml`) replies; None when it replies none."""
    try:
        message = ET.fromstring(twiml).find("Message")
    except ET.ParseError:
        return None
    return message.text if message is not None and message.text else None


def reject_call_twiml() -> str:
    """Reject a call as busy: the caller pays nothing and we call back."""
    response = VoiceResponse()
    response.reject(reason="busy")
    return str(response)
