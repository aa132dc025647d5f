"""A local stand-in of httpSMS: its send API, and the webhooks it posts.

It serves `POST /v1/messages/send` (header `x-api-key` checked, 401 otherwise) and answers
200 with httpSMS's message response (`{"data": {"id", "request_id", "owner", "contact",
"content", "status": "pending", ...}, "message", "status": "success"}`); `fail_with(status)`
answers every send with that status until `fail_with(None)`. `fake.webhook(type, data)`
builds the CloudEvent httpSMS would post for an event (from tests/data/httpsms/), with its
`X-Event-Type` and a Bearer JWT signed HS256 with the signing key for the webhook's URL.
"""

from __future__ import annotations

import copy
import json
import secrets
import time
import uuid
from dataclasses import dataclass
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from app.providers.httpsms import make_token
from tests.harness.standin import SimpleStandIn
from tests.support import data_file


def documented(event_type: str) -> dict[str, Any]:
    """The CloudEvent of `event_type` (message.call.missed → httpsms/message_call_missed.json)."""
    name = event_type.replace(".", "_") + ".json"
    data: dict[str, Any] = json.loads(data_file(f"httpsms/{name}").read_text())
    return data


@dataclass
class Sent:
    """One send request as the stand-in received it."""

    json: dict[str, Any]
    authorized: bool
    status: int = 0
    id: str = ""


class HttpSmsFake(SimpleStandIn):
    """The stand-in of httpSMS; `with HttpSmsFake() as fake:`."""

    name = "httpsms-fake"

    def __init__(self, api_key: str = "fake-httpsms-key-3b9e", signing_key: str = "") -> None:
        super().__init__()
        self.api_key = api_key
        self.signing_key = signing_key or secrets.token_urlsafe(24)
        self.requests: list[Sent] = []
        self.app = Starlette(routes=[Route("/v1/messages/send", self._send, methods=["POST"])])

    def accepted(self, to: str | None = None) -> list[Sent]:
        """The sends it accepted (to `to`)."""
        with self.lock:
            return [r for r in self.requests if r.status == 200 and to in (None, r.json["to"])]

    async def _send(self, request: Request) -> JSONResponse:
        body = await request.json()
        sent = Sent(body, request.headers.get("x-api-key") == self.api_key)
        with self.lock:
            self.requests.append(sent)
        if not sent.authorized:
            sent.status = 401
            return JSONResponse({"message": "Unauthorized", "status": "error"}, status_code=401)
        if self.status is not None:
            sent.status = self.status
            return JSONResponse({"message": "error", "status": "error"}, status_code=self.status)
        sent.status, sent.id = 200, str(uuid.uuid4())
        data = {
            "id": sent.id,
            "request_id": body.get("request_id"),
            "owner": body["from"],
            "contact": body["to"],
            "content": body["content"],
            "type": "mobile-terminated",
            "status": "pending",
            "sim": "DEFAULT",
        }
        return JSONResponse(
            {"data": data, "message": "message added to queue", "status": "success"}
        )

    def webhook(
        self,
        event_type: str,
        url: str,
        data: dict[str, Any] | None = None,
        *,
        issued_at: int | None = None,
        key: str | None = None,
        new_ids: bool = True,
    ) -> tuple[bytes, dict[str, str]]:
        """(body, headers) httpSMS posts to `url` for `event_type`; `data` replaces fields.

        Each call is a new event about a new message (new ids) unless `new_ids` is False.
        """
        event = copy.deepcopy(documented(event_type))
        if new_ids:
            event["id"] = str(uuid.uuid4())
            if "message_id" in event["data"]:
                event["data"]["message_id"] = str(uuid.uuid4())
        event["data"].update(data or {})
        body = json.dumps(event).encode()
        stamp = int(time.time()) if issued_at is None else issued_at
        token = make_token(key or self.signing_key, url, stamp)
        headers = {
            "Content-Type": "application/json",
            "X-Event-Type": event_type,
            "Authorization": f"Bearer {token}",
        }
        return body, headers
