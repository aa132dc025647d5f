"""SMS Gateway for Android (capcom6/android-sms-gateway): webhook signatures and events.

The app posts `{deviceId, event, id, webhookId, payload}` and signs it: `X-Signature` is the
hex HMAC-SHA256 of the raw body followed by `X-Timestamp` (Unix seconds), keyed with the
signing key of the app's Settings → Webhooks. It retries (10 s, doubling, 14 times) until it
gets a 2xx within 30 s, so one event may come many times: its `id` (per device) is the key
that de-duplicates, never `payload.messageId` (derived from the text, not unique).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets
import time
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from app.kit.text import NO_CONTROL

SIGNATURE_HEADER = "X-Signature"
TIMESTAMP_HEADER = "X-Timestamp"
# A device whose clock is further than this from ours is told of (`clock_offset`), not
# refused: a handset with the wrong date, or set to the wrong time zone (Kinshasa's wall
# time read as Goma's is an hour off), would otherwise have every report it carries refused
# at every retry until its retries ran out, and lost. Its signature still has to be right;
# a request posted again (a replay) is known by its event id, kept as long as its message
# (`event_key`), and stores nothing twice.
MAX_SKEW_SECONDS = 300
# Provider states of our deliveries, from the events of messages the device sent.
STATUS_EVENTS = {"sms:sent": "sent", "sms:delivered": "delivered", "sms:failed": "failed"}
RECEIVED = "sms:received"
PING = "system:ping"
_UNIX_SECONDS = re.compile(r"[0-9]{1,12}")


class SmsGateEvent(BaseModel):
    """The envelope of every webhook the app posts (its ids are looked up and stored: no
    control character, which PostgreSQL refuses)."""

    model_config = ConfigDict(extra="allow")

    device_id: str = Field(alias="deviceId", min_length=1, max_length=64, pattern=NO_CONTROL)
    event: str = Field(min_length=1, max_length=64)
    id: str = Field(min_length=1, max_length=64, pattern=NO_CONTROL)
    webhook_id: str | None = Field(default=None, alias="webhookId")
    payload: dict[str, Any] = {}


class SmsReceived(BaseModel):
    """The payload of `sms:received`."""

    model_config = ConfigDict(extra="allow")

    message_id: str | None = Field(default=None, alias="messageId")
    message: str = Field(max_length=10_000)
    # Empty, no number at all, or longer than a stored number (cut to 32 characters), the
    # message is filed all the same (and never answered): a refusal would be retried and refused.
    phone_number: str = Field(alias="phoneNumber", max_length=500)
    sim_number: int | None = Field(default=None, alias="simNumber")
    # With the device's own offset (2024-06-22T15:46:11.000+07:00).
    received_at: datetime | None = Field(default=None, alias="receivedAt")


class SmsStatus(BaseModel):
    """The payload of `sms:sent`, `sms:delivered` and `sms:failed`."""

    model_config = ConfigDict(extra="allow")

    message_id: str = Field(alias="messageId", min_length=1, max_length=64, pattern=NO_CONTROL)
    reason: str | None = Field(default=None, max_length=500)


def sign(signing_key: str, body: bytes, timestamp: str) -> str:
    """The X-Signature the app sends for `body` at `timestamp`."""
    return hmac.new(signing_key.encode(), body + timestamp.encode(), hashlib.sha256).hexdigest()


def check_signature(
    signing_key: str,
    body: bytes,
    timestamp: str | None,
    signature: str | None,
) -> str | None:
    """None when the request is signed with the key; else what is wrong (its time is not
    judged here: `clock_offset`).

    An empty key is refused whatever is posted: anybody can sign with it (channels are
    refused one at configuration; this holds for any stored before that).
    """
    if not signing_key:
        return "the channel has no signing key"
    if not signature or not timestamp:
        return f"missing {SIGNATURE_HEADER} or {TIMESTAMP_HEADER}"
    # ASCII digits only: str.isdigit() takes "²", which int() refuses (a 500, not a 403).
    if not _UNIX_SECONDS.fullmatch(timestamp):
        return f"{TIMESTAMP_HEADER} is not Unix seconds"
    # As bytes: compare_digest refuses str with characters beyond ASCII (TypeError).
    expected = sign(signing_key, body, timestamp).encode()
    if not hmac.compare_digest(expected, signature.strip().lower().encode()):
        return f"wrong {SIGNATURE_HEADER}"
    return None


def clock_offset(timestamp: str, now: float | None = None) -> int | None:
    """How far ahead of ours (behind: negative) the device's clock is, in seconds, when that
    is more than MAX_SKEW_SECONDS; None when it is near enough (or the stamp is no time)."""
    if not _UNIX_SECONDS.fullmatch(timestamp):
        return None
    offset = int(timestamp) - round(time.time() if now is None else now)
    return offset if abs(offset) > MAX_SKEW_SECONDS else None


def event_key(event: SmsGateEvent) -> str:
    """What de-duplicates an event: the device and the event's own id (≤ 64 characters)."""
    key = f"{event.device_id}:{event.id}"
    if len(key) <= 64:
        return key
    return "sha256:" + hashlib.sha256(key.encode()).hexdigest()[:57]


def simulated(
    signing_key: str, phone: str, text: str, now: int | None = None
) -> tuple[bytes, dict[str, str]]:
    """(body, headers) of the `sms:received` webhook the app would post (`kengele simulate`)."""
    stamp = int(time.time()) if now is None else now
    event = {
        "deviceId": "kengele-simulate",
        "event": RECEIVED,
        "id": secrets.token_urlsafe(15),
        "webhookId": "kengele-simulate",
        "payload": {
            "messageId": hashlib.sha256(text.encode()).hexdigest()[:21],
            "message": text,
            "phoneNumber": phone,
            "simNumber": 1,
            "receivedAt": datetime.fromtimestamp(stamp, UTC).isoformat(),
        },
    }
    body = json.dumps(event).encode()
    headers = {
        "Content-Type": "application/json",
        SIGNATURE_HEADER: sign(signing_key, body, str(stamp)),
        TIMESTAMP_HEADER: str(stamp),
    }
    return body, headers
