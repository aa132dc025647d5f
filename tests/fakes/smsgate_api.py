"""A local stand-in of SMS Gateway for Android: the handset's API, and the webhooks it posts.

The stand-in serves, on a free loopback port (`fake.base_url`), what the app's local server
offers (`POST /messages`, and the older `POST /message`) and what its cloud or private server
offers (`POST /3rdparty/v1/messages`), each with HTTP Basic auth (401 otherwise). An accepted
message is answered 202 with the app's message state (`id` as given, `state: Pending`).
`fake.fail_with(500)` answers every send with that status until `fake.fail_with(None)`;
`fake.requests` records every POST (path, JSON, authorised, answered status).

`fake.webhook(event, payload)` builds the request the app would post to the gateway for one of
its events, signed as the app signs it (X-Signature: hex HMAC-SHA256 of body + X-Timestamp),
from the documented payloads in tests/data/smsgate/.
"""

from __future__ import annotations

import base64
import copy
import json
import secrets
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from app.providers.smsgate import sign
from tests.harness.standin import SimpleStandIn
from tests.support import data_file

DEVICE_ID = "ffffffffceb0b1db0000018e937c815b"


def documented(event: str) -> dict[str, Any]:
    """The documented webhook of `event` (sms:received → tests/data/smsgate/sms_received.json)."""
    name = event.replace(":", "_") + ".json"
    data: dict[str, Any] = json.loads(data_file(f"smsgate/{name}").read_text())
    return data


@dataclass
class Sent:
    """One POST of a message as the stand-in received it."""

    path: str
    json: dict[str, Any]
    authorized: bool
    status: int = 0

    @property
    def to(self) -> str:
        """The (first) recipient."""
        return str((self.json.get("phoneNumbers") or [""])[0])

    @property
    def text(self) -> str:
        """The text of the message."""
        return str((self.json.get("textMessage") or {}).get("text") or self.json.get("message"))


class SmsGateFake(SimpleStandIn):
    """The stand-in of one handset; `with SmsGateFake() as fake:`."""

    name = "smsgate-fake"

    def __init__(
        self, username: str = "sms", password: str = "fake-pw-7c1d", signing_key: str = ""
    ) -> None:
        super().__init__()
        self.username = username
        self.password = password
        self.signing_key = signing_key or secrets.token_urlsafe(24)
        self.requests: list[Sent] = []
        routes = ["/messages", "/message", "/3rdparty/v1/messages"]
        self.app = Starlette(routes=[Route(p, self._send, methods=["POST"]) for p in routes])

    def accepted(self, to: str | None = None) -> list[Sent]:
        """The sends it accepted (to `to`)."""
        with self.lock:
            return [r for r in self.requests if r.status == 202 and to in (None, r.to)]

    def tried(self, to: str) -> list[Sent]:
        """Every authorised send to `to`, accepted or not."""
        with self.lock:
            return [r for r in self.requests if r.authorized and r.to == to]

    async def _send(self, request: Request) -> JSONResponse:
        expected = base64.b64encode(f"{self.username}:{self.password}".encode()).decode()
        authorized = request.headers.get("authorization") == f"Basic {expected}"
        body = await request.json()
        sent = Sent(request.url.path, body, authorized)
        with self.lock:
            self.requests.append(sent)
        if not authorized:
            sent.status = 401
            return JSONResponse({"message": "Unauthorized"}, status_code=401)
        if self.status is not None:
            sent.status = self.status
            return JSONResponse({"message": "Internal error"}, status_code=self.status)
        sent.status = 202
        now = datetime.now(UTC).isoformat()
        return JSONResponse(
            {
                "id": body.get("id") or secrets.token_urlsafe(16),
                "deviceId": DEVICE_ID,
                "state": "Pending",
                "isHashed": False,
                "isEncrypted": False,
                "recipients": [
                    {"phoneNumber": p, "state": "Pending"} for p in body.get("phoneNumbers", [])
                ],
                "states": {"Pending": now},
            },
            status_code=202,
        )

    def webhook(
        self,
        event: str,
        payload: dict[str, Any] | None = None,
        *,
        event_id: str | None = None,
        timestamp: int | None = None,
        key: str | None = None,
    ) -> tuple[bytes, dict[str, str]]:
        """(body, headers) of the webhook the app posts for `event`, signed.

        `payload` fields replace the documented ones; each call is a new event (a new `id`)
        unless `event_id` is given.
        """
        envelope = copy.deepcopy(documented(event))
        envelope["payload"].update(payload or {})
        envelope["id"] = event_id or secrets.token_urlsafe(15)
        body = json.dumps(envelope).encode()
        stamp = str(int(time.time()) if timestamp is None else timestamp)
        signature = sign(key or self.signing_key, body, stamp)
        headers = {
            "Content-Type": "application/json",
            "X-Signature": signature,
            "X-Timestamp": stamp,
        }
        return body, headers
