"""A local stand-in of Africa's Talking's SMS API, for the official `africastalking` SDK.

It serves `POST /version1/messaging` (form `username, to, message, from?, bulkSMSMode`;
header `apiKey` checked, 401 otherwise) and answers as tests/data/africastalking/
send_response.json does, with a new `messageId` per recipient; `refuse_with(code, status)`
answers that per-recipient status (e.g. 403 InvalidPhoneNumber) instead; `fail_with(500)`
answers an HTTP error.
"""

from __future__ import annotations

import copy
import json
import uuid
from dataclasses import dataclass
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from tests.harness.standin import SimpleStandIn
from tests.support import data_file


def documented(name: str) -> dict[str, Any]:
    """A documented payload of tests/data/africastalking/ (incoming_message, ...)."""
    data: dict[str, Any] = json.loads(data_file(f"africastalking/{name}.json").read_text())
    return data


@dataclass
class Sent:
    """One send as the stand-in received it."""

    form: dict[str, str]
    authorized: bool
    id: str = ""


class AfricasTalkingFake(SimpleStandIn):
    """The stand-in; `with AfricasTalkingFake(username, api_key) as fake:`."""

    name = "africastalking-fake"

    def __init__(self, username: str = "kengele", api_key: str = "atsk_fake_0c9e4b") -> None:
        super().__init__()
        self.username = username
        self.api_key = api_key
        self.requests: list[Sent] = []
        self.refusal: tuple[int, str] | None = None
        self.app = Starlette(routes=[Route("/version1/messaging", self._send, methods=["POST"])])

    def refuse_with(self, code: int, status: str) -> None:
        """Answer every recipient with this status code (not accepted)."""
        self.refusal = (code, status)

    def accepted(self) -> list[Sent]:
        """The sends it accepted."""
        with self.lock:
            return [r for r in self.requests if r.id]

    async def _send(self, request: Request) -> Response:
        form = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
        sent = Sent(form, request.headers.get("apikey") == self.api_key)
        with self.lock:
            self.requests.append(sent)
        if not sent.authorized or form.get("username") != self.username:
            return PlainTextResponse("The supplied authentication is invalid", status_code=401)
        if self.status is not None:
            return PlainTextResponse("Internal error", status_code=self.status)
        answer = copy.deepcopy(documented("send_response"))
        recipient = answer["SMSMessageData"]["Recipients"][0]
        recipient["number"] = form["to"]
        if self.refusal is not None:
            code, status = self.refusal
            recipient.update({"statusCode": code, "status": status, "messageId": "None"})
        else:
            sent.id = f"ATXid_{uuid.uuid4().hex}"
            recipient["messageId"] = sent.id
        return JSONResponse(answer, status_code=201)
