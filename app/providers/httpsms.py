"""httpSMS (NdoleStudio/httpsms): webhook tokens and events.

httpSMS posts each event as a CloudEvent in JSON (`specversion, id, source, type, time,
datacontenttype, data`) with its type in `X-Event-Type` and `Authorization: Bearer` a JWT
signed HS256 with the webhook's signing key, whose audience is the webhook URL and which
expires ten minutes after it was issued. Anything else is refused.
"""

from __future__ import annotations

import json
import time
import uuid
from datetime import UTC, datetime
from typing import Any

import jwt
from pydantic import BaseModel, ConfigDict, Field

from app.kit.text import NO_CONTROL

EVENT_HEADER = "X-Event-Type"
RECEIVED = "message.phone.received"
MISSED_CALL = "message.call.missed"
STATUS_EVENTS = {
    "message.phone.sent": "sent",
    "message.phone.delivered": "delivered",
    "message.send.failed": "failed",
    "message.send.expired": "failed",
}
OFFLINE = "phone.heartbeat.offline"
ONLINE = "phone.heartbeat.online"
# httpSMS issues tokens for ten minutes; a token meant to live longer is not one of its own.
MAX_TOKEN_SECONDS = 15 * 60
LEEWAY_SECONDS = 30


class CloudEvent(BaseModel):
    """The envelope of every webhook httpSMS posts."""

    model_config = ConfigDict(extra="allow")

    specversion: str = Field(min_length=1, max_length=8)
    id: str = Field(min_length=1, max_length=64)
    source: str = Field(default="", max_length=500)
    type: str = Field(min_length=1, max_length=64)
    data: dict[str, Any]


class PhoneMessage(BaseModel):
    """The data of message.phone.received and message.call.missed."""

    model_config = ConfigDict(extra="allow")

    message_id: str = Field(min_length=1, max_length=64, pattern=NO_CONTROL)
    owner: str = Field(default="", max_length=500)
    # Empty, no number at all, or longer than a stored number (cut to 32 characters), the
    # message is filed all the same (and never answered): a refusal would be retried and refused.
    contact: str = Field(max_length=500)
    content: str = Field(default="", max_length=10_000)
    encrypted: bool = False
    timestamp: datetime | None = None
    sim: str | None = Field(default=None, max_length=16)


class MessageStatus(BaseModel):
    """The data of the events about a message sent through the phone."""

    model_config = ConfigDict(extra="allow")

    id: str | None = Field(default=None, max_length=64, pattern=NO_CONTROL)
    message_id: str | None = Field(default=None, max_length=64, pattern=NO_CONTROL)
    error_message: str | None = Field(default=None, max_length=500)
    is_final: bool = True

    @property
    def provider_id(self) -> str | None:
        """The message's id (`message_id` in message.send.expired, `id` elsewhere)."""
        return self.id or self.message_id


def check_token(
    signing_key: str, authorization: str | None, audience: str, now: float | None = None
) -> str | None:
    """None when `authorization` is httpSMS's fresh HS256 token for `audience`; else why not.

    An empty key is refused (anybody can sign with it; PyJWT raises on it); so is any token
    PyJWT cannot check: a 403, never a server error.
    """
    if not signing_key:
        return "the channel has no signing key"
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return "missing Authorization: Bearer token"
    try:
        claims = jwt.decode(
            token.strip(),
            signing_key,
            algorithms=["HS256"],
            audience=audience,
            options={"require": ["exp", "iat", "aud"]},
            leeway=LEEWAY_SECONDS,
        )
    except jwt.ExpiredSignatureError:
        return "the token has expired"
    except jwt.InvalidAudienceError:
        return "the token is for another URL"
    except jwt.PyJWTError as exc:
        return f"invalid token: {type(exc).__name__}"
    if int(claims["exp"]) - int(claims["iat"]) > MAX_TOKEN_SECONDS:
        return "the token lives longer than httpSMS's"
    return None


def make_token(signing_key: str, audience: str, issued_at: int, lifetime: int = 600) -> str:
    """The token httpSMS sends (used by `kengele simulate` and the tests' stand-in)."""
    claims = {
        "aud": [audience],
        "exp": issued_at + lifetime,
        "iat": issued_at,
        "nbf": issued_at - 600,
        "iss": "api.httpsms.com",
        "sub": "kengele-simulate",
    }
    return jwt.encode(claims, signing_key, algorithm="HS256")


def simulated(
    signing_key: str, url: str, event_type: str, phone: str, owner: str, text: str = ""
) -> tuple[bytes, dict[str, str]]:
    """(body, headers) of the CloudEvent httpSMS would post to `url` (`kengele simulate`)."""
    now = int(time.time())
    when = datetime.fromtimestamp(now, UTC).isoformat()
    data: dict[str, Any] = {
        "message_id": str(uuid.uuid4()),
        "user_id": "kengele-simulate",
        "owner": owner,
        "contact": phone,
        "timestamp": when,
        "sim": "SIM1",
    }
    if event_type == RECEIVED:
        data.update({"content": text, "encrypted": False, "attachments": []})
    event = {
        "specversion": "1.0",
        "id": str(uuid.uuid4()),
        "source": "kengele-simulate",
        "type": event_type,
        "datacontenttype": "application/json",
        "time": when,
        "data": data,
    }
    headers = {
        "Content-Type": "application/json",
        EVENT_HEADER: event_type,
        "Authorization": f"Bearer {make_token(signing_key, url, now)}",
    }
    return json.dumps(event).encode(), headers
