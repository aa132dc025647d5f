"""Local stand-ins of two Congolese SMS aggregators, as the generic HTTP channel's presets
describe them (tests/data/http_presets.json).

- `POST /dmark/sms/send`: a form `sender, receiver, text, dlr_url` with
  `Authorization: Token <token>` (401 otherwise); answers `{"msg_id": ..., "detail": "queued"}`.
- `POST /keccel/sms/send`: JSON `{token, to, from, message}` (token checked in the body);
  answers `{"status": "SUCCESS", "messageID": ...}`, or `{"status": "FAILED", ...}` when
  `fake.refuse = True` (HTTP 200 all the same, as such APIs do).

`fail_with(status)` answers every send with that HTTP status.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from tests.harness.standin import SimpleStandIn


@dataclass
class Sent:
    """One send as the stand-in received it."""

    preset: str
    fields: dict[str, Any]
    headers: dict[str, str]
    status: int = 0
    id: str = ""


class AggregatorFake(SimpleStandIn):
    """Both aggregators; `with AggregatorFake(tokens) as fake:`."""

    name = "aggregator-fake"

    def __init__(self, tokens: dict[str, str]) -> None:
        super().__init__()
        self.tokens = tokens
        self.refuse = False
        self.requests: list[Sent] = []
        self.app = Starlette(
            routes=[
                Route("/dmark/sms/send", self._dmark, methods=["POST"]),
                Route("/keccel/sms/send", self._keccel, methods=["POST"]),
            ]
        )

    def accepted(self, preset: str) -> list[Sent]:
        """The sends of `preset` it accepted."""
        with self.lock:
            return [r for r in self.requests if r.preset == preset and r.id]

    def _record(self, sent: Sent) -> Sent:
        with self.lock:
            self.requests.append(sent)
        return sent

    async def _dmark(self, request: Request) -> JSONResponse:
        form = dict((await request.form()).items())
        sent = self._record(Sent("dmark", form, dict(request.headers)))
        if request.headers.get("authorization") != f"Token {self.tokens['dmark']}":
            sent.status = 401
            return JSONResponse({"detail": "Invalid token."}, status_code=401)
        if self.status is not None:
            sent.status = self.status
            return JSONResponse({"detail": "error"}, status_code=self.status)
        sent.status, sent.id = 201, str(uuid.uuid4())
        return JSONResponse({"msg_id": sent.id, "detail": "queued"}, status_code=201)

    async def _keccel(self, request: Request) -> JSONResponse:
        body = await request.json()
        sent = self._record(Sent("keccel", body, dict(request.headers)))
        if body.get("token") != self.tokens["keccel"]:
            sent.status = 200
            return JSONResponse({"status": "FAILED", "description": "invalid token"})
        if self.status is not None:
            sent.status = self.status
            return JSONResponse({"status": "ERROR"}, status_code=self.status)
        if self.refuse:
            sent.status = 200
            return JSONResponse({"status": "FAILED", "description": "insufficient credit"})
        sent.status, sent.id = 200, uuid.uuid4().hex
        return JSONResponse({"status": "SUCCESS", "messageID": sent.id})
