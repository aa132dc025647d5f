"""A local stand-in of Twilio's Messages REST API, for tests that drive the real `twilio` library.

The fake is a small Starlette app served as every stand-in is (tests/harness/standin.py): by
uvicorn in a background thread on 127.0.0.1, on a free port (`fake.base_url`). Point the
gateway at it with `twilio_api_base=fake.base_url` (`fake.settings(...)` builds such
Settings); `RebasedHttpClient` rewrites the library's `https://api.twilio.com` to it.

    with twilio_fake() as fake:
        sender = TwilioSmsSender(fake.settings(public_url=PUBLIC_URL))
        fake.script(500, 429, 201, retry_after=3)       # then back to normal acceptance
        fake.fail_number("+243810000404", code=21211)    # every send to that number is refused
        fake.set_final_status("+243810000505", "undelivered", error_code=30003)
        fake.chaos(0.3)   # 30% of POSTs: 500, 429, a hang past the client's timeout, a reset
        result = await sender.send_sms(to=..., body=..., status_callback=PUBLIC_URL + path)
        assert fake.requests[-1].body == ...

or as a local fixture: `@pytest.fixture def fake(): with twilio_fake() as f: yield f`.

It implements `POST /2010-04-01/Accounts/{AccountSid}/Messages.json` (HTTP Basic auth checked
against the account SID and auth token it was given, 401 / code 20003 otherwise; form fields
To, From or MessagingServiceSid, Body, StatusCallback; 201 with Twilio's JSON resource) and
`GET .../Messages/{Sid}.json`, and `POST .../Calls.json` (To, From, Twiml or Url,
StatusCallback; 201 with a call resource; recorded in `fake.calls`; its status callbacks are
"ringing" then "completed", or the final status set per number with `set_call_status`, as
CallSid / CallStatus forms, signed and delivered like the messages'). Errors have Twilio's
legacy JSON shape `{code, message, more_info, status}`, which the library turns into
`TwilioRestException`. Every POST of a message is recorded (`fake.requests`), authorised or
not.

Status callbacks. When an accepted message had a StatusCallback URL, the fake prepares the
callbacks Twilio would send: "sent" then "delivered" by default, or "sent" then the final
status set per number (`undelivered` / `failed` with an ErrorCode). Each one is the form
Twilio posts (MessageSid, SmsSid, MessageStatus, SmsStatus, AccountSid, From, To, ApiVersion,
ErrorCode, MessagingServiceSid) with an `X-Twilio-Signature` computed by
`twilio.request_validator.RequestValidator` over the callback URL and the form.

How they are delivered is chosen by the test, because the fake's server has its own event
loop in its own thread, while a gateway tested in-process (httpx.AsyncClient over
ASGITransport, its database engine) lives in the test's loop and must only be awaited there:

- `callbacks="manual"` (default): the fake only queues them (`fake.pending_callbacks`), and the
  test delivers them in its own loop with `await fake.flush_callbacks(sink)`, where `sink` is
  any `async (url, form, headers) -> object`; `asgi_sink(client)` posts them through the
  test's client, `http_sink` over real HTTP. `flush_callbacks(..., reverse=True,
  duplicate=True)` delivers them out of order and/or twice (tests of "never backwards").
- `callbacks="auto"`: the fake delivers them itself, from its own loop, `callback_delay`
  seconds after accepting the message, with `callback_sink` (default: real HTTP). For a
  gateway running as a real server (out of process or in another thread); an in-process ASGI
  client must not be used as sink here. `reverse_callbacks` / `duplicate_callbacks` apply.
  `await fake.wait_for_deliveries(n)` waits until n callbacks were handed to the sink.

Every callback handed to a sink is recorded in `fake.deliveries` with what the sink returned
(an `httpx.Response` for the provided sinks) or the exception it raised.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import logging
import random
import secrets
import threading
import time
import uuid
from collections import deque
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import TYPE_CHECKING, Any, Literal

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from twilio.request_validator import RequestValidator

from tests.harness.standin import StandIn

if TYPE_CHECKING:
    from app.kit.config import Settings

log = logging.getLogger(__name__)

ACCOUNT_SID = "AC" + "0123456789abcdef" * 2
AUTH_TOKEN = "fake-twilio-auth-token-5f2c9e1d7a"
API_VERSION = "2010-04-01"

Sink = Callable[[str, dict[str, str], dict[str, str]], Awaitable[object]]

_DEFAULT_ERRORS: dict[int, tuple[int, str]] = {
    400: (21211, "The 'To' number is not a valid phone number."),
    401: (20003, "Authenticate"),
    404: (20404, "The requested resource was not found"),
    429: (20429, "Too Many Requests"),
    500: (20500, "An internal server error has occurred"),
    502: (20500, "Bad Gateway"),
    503: (20503, "Service Unavailable"),
}
_CODE_MESSAGES: dict[int, str] = {
    20429: "Too Many Requests",
    21211: "The 'To' number {to} is not a valid phone number.",
    21602: "Message body is required.",
    21603: "A 'From' or 'MessagingServiceSid' parameter is required to send a message.",
    21604: "A 'To' phone number is required.",
    21610: "Attempt to send to unsubscribed recipient",
    21614: "'To' number is not a valid mobile number",
    30003: "Unreachable destination handset",
}
# The GSM 03.38 basic set: a body of these only is 7-bit (160 characters a segment).
_GSM7 = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    "ÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà^{}\\[~]|€"
)


def num_segments(body: str) -> int:
    """How many SMS segments Twilio would bill for `body` (GSM-7 or UCS-2)."""
    if all(ch in _GSM7 for ch in body):
        length = len(body) + sum(1 for ch in body if ch in "^{}\\[~]|€")
        single, multi = 160, 153
    else:
        length = len(body.encode("utf-16-le")) // 2
        single, multi = 70, 67
    if length <= single:
        return 1
    return -(-length // multi)


def _rfc2822(when: datetime) -> str:
    return format_datetime(when, usegmt=True)


@dataclass(frozen=True)
class Reply:
    """One scripted answer to the next authorised POST of a message.

    A 2xx status accepts the message normally (with that status code); any other status
    answers with a Twilio error (`code` and `message` default by status).
    `retry_after` is sent as the Retry-After header (seconds or an HTTP date).
    """

    status: int = 201
    code: int | None = None
    message: str | None = None
    retry_after: str | None = None
    latency: float | None = None


@dataclass
class RecordedRequest:
    """A POST of a message as the fake received it."""

    account_sid: str
    form: dict[str, str]
    authorized: bool
    received_at: datetime
    monotonic: float
    response_status: int = 0
    sid: str | None = None
    error_code: int | None = None
    fault: str | None = None  # the fault chaos() answered with

    @property
    def to(self) -> str | None:
        """The To field."""
        return self.form.get("To")

    @property
    def from_(self) -> str | None:
        """The From field."""
        return self.form.get("From")

    @property
    def body(self) -> str | None:
        """The Body field."""
        return self.form.get("Body")

    @property
    def messaging_service_sid(self) -> str | None:
        """The MessagingServiceSid field."""
        return self.form.get("MessagingServiceSid")

    @property
    def status_callback(self) -> str | None:
        """The StatusCallback field."""
        return self.form.get("StatusCallback")


@dataclass(frozen=True)
class Callback:
    """A status callback Twilio would POST: absolute URL, form, headers (signed)."""

    url: str
    form: dict[str, str]
    headers: dict[str, str]
    seq: int  # position in the message's status sequence (0 = first)

    @property
    def sid(self) -> str:
        """The MessageSid (or CallSid) it is about."""
        return self.form.get("MessageSid") or self.form["CallSid"]

    @property
    def status(self) -> str:
        """The MessageStatus (or CallStatus) it reports."""
        return self.form.get("MessageStatus") or self.form["CallStatus"]


@dataclass
class Delivery:
    """A callback handed to a sink, with what the sink returned or raised."""

    callback: Callback
    result: object = None
    error: BaseException | None = None
    at: float = field(default_factory=time.monotonic)


async def http_sink(url: str, form: dict[str, str], headers: dict[str, str]) -> httpx.Response:
    """Deliver a callback over real HTTP."""
    async with httpx.AsyncClient(timeout=10.0) as client:
        return await client.post(url, data=form, headers=headers)


def asgi_sink(client: httpx.AsyncClient) -> Sink:
    """A sink posting callbacks through the test's client (e.g. over ASGITransport)."""

    async def sink(url: str, form: dict[str, str], headers: dict[str, str]) -> httpx.Response:
        return await client.post(url, data=form, headers=headers)

    return sink


class TwilioFake(StandIn):
    """The stand-in of Twilio's Messages API; start it with `with TwilioFake() as fake:`."""

    name = "twilio-fake"

    def __init__(
        self,
        account_sid: str = ACCOUNT_SID,
        auth_token: str = AUTH_TOKEN,
        *,
        latency: float = 0.0,
        callbacks: Literal["manual", "auto"] = "manual",
        callback_sink: Sink | None = None,
        callback_delay: float = 0.0,
        host: str = "127.0.0.1",
    ) -> None:
        super().__init__()
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.latency = latency
        self.callbacks = callbacks
        self.callback_sink = callback_sink
        self.callback_delay = callback_delay
        self.reverse_callbacks = False
        self.duplicate_callbacks = False
        self.host = host
        self._lock = threading.Lock()
        self._script: deque[Reply] = deque()
        self._number_errors: dict[str, Reply] = {}
        self._final_status: dict[str, tuple[str, int | None]] = {}
        self._chaos: tuple[float, tuple[str, ...], float] = (0.0, (), 0.0)
        self._fault_credit = 0.0
        self._faults_made = 0
        self._requests: list[RecordedRequest] = []
        self._calls: list[RecordedRequest] = []
        self._call_status: dict[str, str] = {}
        self._messages: dict[str, dict[str, Any]] = {}
        self._delivered_seq: dict[str, int] = {}
        self._pending: list[Callback] = []
        self._deliveries: list[Delivery] = []
        self._tasks: set[asyncio.Task[None]] = set()
        self.app = Starlette(
            routes=[
                Route(
                    "/2010-04-01/Accounts/{account_sid}/Messages.json",
                    self._create_message,
                    methods=["POST"],
                ),
                Route(
                    "/2010-04-01/Accounts/{account_sid}/Messages/{sid}.json",
                    self._fetch_message,
                    methods=["GET"],
                ),
                Route(
                    "/2010-04-01/Accounts/{account_sid}/Calls.json",
                    self._create_call,
                    methods=["POST"],
                ),
            ]
        )

    def settings(self, **overrides: Any) -> Settings:
        """Settings of a gateway sending through this fake (sms_provider twilio)."""
        from app.kit.config import Settings

        values: dict[str, Any] = {
            "sms_provider": "twilio",
            "twilio_api_base": self.base_url,
            "twilio_account_sid": self.account_sid,
            "twilio_auth_token": self.auth_token,
            "twilio_from": "+243800000000",
        }
        values.update(overrides)
        return Settings(**values)

    # -- programming -----------------------------------------------------------------------

    def script(self, *replies: int | Reply, retry_after: float | str | None = None) -> None:
        """Queue answers for the next authorised POSTs (ints are HTTP statuses).

        `retry_after` adds a Retry-After header to the scripted errors that have none.
        """
        header = None if retry_after is None else str(retry_after)
        with self._lock:
            for reply in replies:
                item = reply if isinstance(reply, Reply) else Reply(status=reply)
                if header is not None and item.status >= 300 and item.retry_after is None:
                    item = Reply(item.status, item.code, item.message, header, item.latency)
                self._script.append(item)

    def fail_with(
        self,
        *,
        code: int,
        status: int = 400,
        message: str | None = None,
        retry_after: float | str | None = None,
        times: int = 1,
    ) -> None:
        """Queue `times` Twilio errors `code` with HTTP `status`."""
        header = None if retry_after is None else str(retry_after)
        self.script(*[Reply(status, code, message, header) for _ in range(times)])

    def fail_number(
        self, to: str, *, code: int = 21211, status: int = 400, message: str | None = None
    ) -> None:
        """Refuse every message to `to` with this error (e.g. 21610 after a STOP)."""
        with self._lock:
            self._number_errors[to] = Reply(status, code, message)

    def set_final_status(self, to: str, status: str, error_code: int | None = None) -> None:
        """The last status reported for messages to `to`: delivered, undelivered or failed."""
        if status in ("undelivered", "failed") and error_code is None:
            error_code = 30003
        with self._lock:
            self._final_status[to] = (status, error_code)

    def set_call_status(self, to: str, status: str) -> None:
        """The last status reported for calls to `to`: completed, busy, no-answer, failed."""
        with self._lock:
            self._call_status[to] = status

    def chaos(
        self,
        rate: float,
        faults: tuple[str, ...] = ("500", "429", "timeout", "reset"),
        *,
        hang: float = 2.0,
        seed: int = 9,
    ) -> None:
        """Answer a share `rate` of the POSTs with a fault drawn from `faults` (0 turns it off):
        "500" or "429" (a Twilio error, nothing sent), "timeout" (the message is taken but
        answered only after `hang` seconds: longer than the client waits, so it cannot know),
        "reset" (the connection drops before any answer, nothing sent). Each such request
        records its fault in `RecordedRequest.fault`. The faults come at an even pace (every
        1/rate-th request, the first placed by `seed`), their kinds in turn."""
        with self._lock:
            self._chaos = (rate, faults, hang)
            self._fault_credit = 1 - self._random_start(seed)
            self._faults_made = 0

    @staticmethod
    def _random_start(seed: int) -> float:
        """Where in the first 1/rate requests the first fault falls (0 to 1), from `seed`."""
        return random.Random(seed).random()

    def reset(self) -> None:
        """Forget scripts, per-number behaviour, records, messages and callbacks."""
        with self._lock:
            self._script.clear()
            self._number_errors.clear()
            self._final_status.clear()
            self._requests.clear()
            self._messages.clear()
            self._delivered_seq.clear()
            self._pending.clear()
            self._deliveries.clear()

    # -- observing -------------------------------------------------------------------------

    @property
    def requests(self) -> list[RecordedRequest]:
        """Every POST of a message received so far, in order."""
        with self._lock:
            return list(self._requests)

    @property
    def calls(self) -> list[RecordedRequest]:
        """Every POST of a call received so far, in order (the TwiML in `form["Twiml"]`)."""
        with self._lock:
            return list(self._calls)

    @property
    def messages(self) -> dict[str, dict[str, Any]]:
        """The accepted messages by SID, as Twilio's JSON resources (status kept current)."""
        with self._lock:
            return {sid: dict(msg) for sid, msg in self._messages.items()}

    @property
    def pending_callbacks(self) -> list[Callback]:
        """Callbacks prepared but not yet delivered (manual mode)."""
        with self._lock:
            return list(self._pending)

    @property
    def deliveries(self) -> list[Delivery]:
        """Callbacks handed to a sink so far, in order."""
        with self._lock:
            return list(self._deliveries)

    async def flush_callbacks(
        self, sink: Sink | None = None, *, reverse: bool = False, duplicate: bool = False
    ) -> list[Delivery]:
        """Deliver the pending callbacks in the caller's loop; a sink's exception propagates
        (the callbacks after it stay pending).

        `reverse`: last status first; `duplicate`: each callback twice in a row.
        """
        with self._lock:
            batch, self._pending = self._pending, []
        arranged = self._arrange(batch, reverse=reverse, duplicate=duplicate)
        deliveries = []
        for index, callback in enumerate(arranged):
            try:
                deliveries.append(await self._deliver(callback, sink or http_sink, reraise=True))
            except BaseException:
                # The failed one is in `deliveries`; the rest stay pending for another flush.
                with self._lock:
                    self._pending[:0] = arranged[index + 1 :]
                raise
        return deliveries

    async def wait_for_deliveries(self, count: int, within: float = 5.0) -> list[Delivery]:
        """Wait until `count` callbacks were delivered in all (auto mode)."""
        deadline = time.monotonic() + within
        while True:
            done = self.deliveries
            if len(done) >= count:
                return done
            if time.monotonic() > deadline:
                raise TimeoutError(f"{len(done)} of {count} callbacks delivered")
            await asyncio.sleep(0.01)

    # -- internals -------------------------------------------------------------------------

    @staticmethod
    def _arrange(batch: list[Callback], *, reverse: bool, duplicate: bool) -> list[Callback]:
        ordered = list(reversed(batch)) if reverse else list(batch)
        if duplicate:
            ordered = [cb for cb in ordered for _ in range(2)]
        return ordered

    async def _deliver(self, callback: Callback, sink: Sink, *, reraise: bool) -> Delivery:
        delivery = Delivery(callback)
        try:
            delivery.result = await sink(callback.url, dict(callback.form), dict(callback.headers))
        except Exception as exc:
            delivery.error = exc
            if reraise:
                raise
            log.warning("status callback to %s failed: %r", callback.url, exc)
        finally:
            with self._lock:
                self._deliveries.append(delivery)
                if delivery.error is None and callback.seq >= self._delivered_seq.get(
                    callback.sid, -1
                ):
                    self._delivered_seq[callback.sid] = callback.seq
                    message = self._messages.get(callback.sid)
                    if message is not None:
                        message["status"] = callback.status
                        message["date_updated"] = _rfc2822(datetime.now(UTC))
                        if "ErrorCode" in callback.form:
                            message["error_code"] = int(callback.form["ErrorCode"])
        return delivery

    async def _auto_deliver(self, callbacks: list[Callback]) -> None:
        if self.callback_delay:
            await asyncio.sleep(self.callback_delay)
        arranged = self._arrange(
            callbacks, reverse=self.reverse_callbacks, duplicate=self.duplicate_callbacks
        )
        for callback in arranged:
            await self._deliver(callback, self.callback_sink or http_sink, reraise=False)

    def _authorized(self, request: Request, account_sid: str) -> bool:
        header = request.headers.get("authorization", "")
        scheme, _, encoded = header.partition(" ")
        if scheme.lower() != "basic":
            return False
        try:
            user, _, password = base64.b64decode(encoded).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return False
        return (
            secrets.compare_digest(user, self.account_sid)
            and secrets.compare_digest(password, self.auth_token)
            and account_sid == self.account_sid
        )

    @staticmethod
    def _error(
        status: int,
        code: int | None = None,
        message: str | None = None,
        *,
        to: str | None = None,
        retry_after: str | None = None,
    ) -> JSONResponse:
        default_code, default_message = _DEFAULT_ERRORS.get(status, (status, "Error"))
        code = code if code is not None else default_code
        if message is None:
            message = _CODE_MESSAGES.get(code, default_message).format(to=to or "")
        headers = {"Retry-After": retry_after} if retry_after is not None else None
        body = {
            "code": code,
            "message": message,
            "more_info": f"https://www.twilio.com/docs/errors/{code}",
            "status": status,
        }
        return JSONResponse(body, status_code=status, headers=headers)

    async def _recorded(self, request: Request) -> RecordedRequest:
        """A request to the REST API as recorded (not yet stored)."""
        account_sid = request.path_params["account_sid"]
        form = {key: str(value) for key, value in (await request.form()).items()}
        now = datetime.now(UTC)
        record = RecordedRequest(
            account_sid=account_sid,
            form=form,
            authorized=self._authorized(request, account_sid),
            received_at=now,
            monotonic=time.monotonic(),
        )
        return record

    async def _create_message(self, request: Request) -> Response:
        record = await self._recorded(request)
        form, now = record.form, record.received_at
        with self._lock:
            self._requests.append(record)
            reply = self._script.popleft() if record.authorized and self._script else None
            number_error = self._number_errors.get(form.get("To", ""))
            rate, faults, hang = self._chaos
            if record.authorized and reply is None and rate > 0:
                # Exactly `rate` of the requests, spread out, each fault kind in turn: a run
                # meets every kind whatever the order the requests came in.
                self._fault_credit += rate
                if self._fault_credit >= 1:
                    self._fault_credit -= 1
                    record.fault = faults[self._faults_made % len(faults)]
                    self._faults_made += 1
        if record.fault == "reset":
            return _DroppedConnection()
        if record.fault in ("500", "429"):
            reply = Reply(int(record.fault))
        latency = reply.latency if reply is not None and reply.latency is not None else None
        latency = self.latency if latency is None else latency
        if record.fault == "timeout":
            latency = hang
        if latency > 0:
            await asyncio.sleep(latency)
        response = self._answer(record, reply, number_error, now)
        record.response_status = response.status_code
        return response

    def _answer(
        self,
        record: RecordedRequest,
        reply: Reply | None,
        number_error: Reply | None,
        now: datetime,
    ) -> JSONResponse:
        form = record.form
        to = form.get("To")
        if not record.authorized:
            record.error_code = 20003
            return self._error(401)
        if reply is not None and not 200 <= reply.status < 300:
            error = self._error(
                reply.status, reply.code, reply.message, to=to, retry_after=reply.retry_after
            )
            record.error_code = reply.code or _DEFAULT_ERRORS.get(reply.status, (None, ""))[0]
            return error
        for missing, code in (
            (not to, 21604),
            (not (form.get("From") or form.get("MessagingServiceSid")), 21603),
            (not form.get("Body"), 21602),
        ):
            if missing:
                record.error_code = code
                return self._error(400, code)
        if number_error is not None:
            record.error_code = number_error.code
            return self._error(number_error.status, number_error.code, number_error.message, to=to)
        return self._accept(record, reply.status if reply is not None else 201, now)

    def _accept(self, record: RecordedRequest, status_code: int, now: datetime) -> JSONResponse:
        form = record.form
        sid = "SM" + uuid.uuid4().hex
        service_sid = form.get("MessagingServiceSid")
        path = f"/{API_VERSION}/Accounts/{self.account_sid}/Messages/{sid}"
        resource: dict[str, Any] = {
            "account_sid": self.account_sid,
            "api_version": API_VERSION,
            "body": form["Body"],
            "date_created": _rfc2822(now),
            "date_sent": None,
            "date_updated": _rfc2822(now),
            "direction": "outbound-api",
            "error_code": None,
            "error_message": None,
            "from": form.get("From"),
            "messaging_service_sid": service_sid,
            "num_media": "0",
            "num_segments": str(num_segments(form["Body"])),
            "price": None,
            "price_unit": "USD",
            "sid": sid,
            # A Messaging Service first accepts, then picks a sender and queues.
            "status": "accepted" if service_sid and not form.get("From") else "queued",
            "subresource_uris": {"media": f"{path}/Media.json"},
            "to": form["To"],
            "uri": f"{path}.json",
        }
        record.sid = sid
        callbacks = self._callbacks_for(resource, form.get("StatusCallback"))
        with self._lock:
            self._messages[sid] = resource
            if self.callbacks == "manual":
                self._pending.extend(callbacks)
        if callbacks and self.callbacks == "auto":
            task = asyncio.get_running_loop().create_task(self._auto_deliver(callbacks))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        return JSONResponse(resource, status_code=status_code)

    def _callbacks_for(self, resource: dict[str, Any], url: str | None) -> list[Callback]:
        if not url:
            return []
        with self._lock:
            final, error_code = self._final_status.get(resource["to"], ("delivered", None))
        statuses = [final] if final == "failed" else ["sent", final]
        validator = RequestValidator(self.auth_token)
        callbacks = []
        for seq, status in enumerate(statuses):
            form = {
                "AccountSid": self.account_sid,
                "ApiVersion": API_VERSION,
                "From": resource["from"] or "+243800000000",
                "MessageSid": resource["sid"],
                "MessageStatus": status,
                "SmsSid": resource["sid"],
                "SmsStatus": status,
                "To": resource["to"],
            }
            if resource["messaging_service_sid"]:
                form["MessagingServiceSid"] = resource["messaging_service_sid"]
            if status in ("undelivered", "failed") and error_code is not None:
                form["ErrorCode"] = str(error_code)
            headers = {
                "Content-Type": "application/x-www-form-urlencoded",
                "I-Twilio-Idempotency-Token": str(uuid.uuid4()),
                "User-Agent": "TwilioProxy/1.1",
                "X-Twilio-Signature": str(validator.compute_signature(url, form)),
            }
            callbacks.append(Callback(url=url, form=form, headers=headers, seq=seq))
        return callbacks

    async def _create_call(self, request: Request) -> Response:
        record = await self._recorded(request)
        now = record.received_at
        with self._lock:
            self._calls.append(record)
            reply = self._script.popleft() if record.authorized and self._script else None
        response = self._answer_call(record, reply, now)
        record.response_status = response.status_code
        return response

    def _answer_call(
        self, record: RecordedRequest, reply: Reply | None, now: datetime
    ) -> JSONResponse:
        form = record.form
        if not record.authorized:
            return self._error(401)
        if reply is not None and not 200 <= reply.status < 300:
            return self._error(reply.status, reply.code, reply.message)
        for missing, code, text in (
            (not form.get("To"), 21201, "No 'To' number is specified"),
            (not form.get("From"), 21213, "No 'From' number is specified"),
            (not (form.get("Twiml") or form.get("Url")), 21205, "Url or Twiml is required"),
        ):
            if missing:
                record.error_code = code
                return self._error(400, code, text)
        sid = "CA" + uuid.uuid4().hex
        record.sid = sid
        resource = {
            "account_sid": self.account_sid,
            "api_version": API_VERSION,
            "date_created": _rfc2822(now),
            "date_updated": _rfc2822(now),
            "direction": "outbound-api",
            "from": form["From"],
            "sid": sid,
            "status": "queued",
            "to": form["To"],
            "uri": f"/{API_VERSION}/Accounts/{self.account_sid}/Calls/{sid}.json",
        }
        url = form.get("StatusCallback")
        if url:
            with self._lock:
                final = self._call_status.get(form["To"], "completed")
            validator = RequestValidator(self.auth_token)
            callbacks = []
            for seq, status in enumerate(("ringing", final)):
                callback_form = {
                    "AccountSid": self.account_sid,
                    "ApiVersion": API_VERSION,
                    "CallSid": sid,
                    "CallStatus": status,
                    "Direction": "outbound-api",
                    "From": form["From"],
                    "To": form["To"],
                }
                headers = {
                    "Content-Type": "application/x-www-form-urlencoded",
                    "X-Twilio-Signature": str(validator.compute_signature(url, callback_form)),
                }
                callbacks.append(Callback(url=url, form=callback_form, headers=headers, seq=seq))
            with self._lock:
                if self.callbacks == "manual":
                    self._pending.extend(callbacks)
            if self.callbacks == "auto":
                task = asyncio.get_running_loop().create_task(self._auto_deliver(callbacks))
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)
        return JSONResponse(resource, status_code=201)

    async def _fetch_message(self, request: Request) -> Response:
        account_sid = request.path_params["account_sid"]
        if not self._authorized(request, account_sid):
            return self._error(401)
        with self._lock:
            resource = self._messages.get(request.path_params["sid"])
            resource = dict(resource) if resource is not None else None
        if resource is None:
            return self._error(404)
        return JSONResponse(resource)


class _DroppedConnection(Response):
    """Starts an answer, then fails: the server drops the connection with no status read."""

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        await send(
            {"type": "http.response.start", "status": 201, "headers": [(b"content-length", b"100")]}
        )
        raise ConnectionResetError("connection dropped by the fake (chaos)")


@contextlib.contextmanager
def twilio_fake(
    account_sid: str = ACCOUNT_SID, auth_token: str = AUTH_TOKEN, **options: Any
) -> Iterator[TwilioFake]:
    """A running fake for the duration of the `with` block (options as for `TwilioFake`)."""
    fake = TwilioFake(account_sid, auth_token, **options)
    with fake:
        yield fake
