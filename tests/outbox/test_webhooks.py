"""Outbound webhooks: a receiver verifying with the `standardwebhooks` library, the outcome
classification of WebhookSender, and the SSRF check of targets. No test reaches the network:
the receiver is an in-process ASGI app, and names other than localhost are faked."""

from __future__ import annotations

import asyncio
import base64
import json
import socket
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from email.utils import format_datetime
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, Request, Response
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from app.outbox.webhooks import (
    USER_AGENT,
    UnresolvableTarget,
    WebhookSender,
    WebhookTargetError,
    check_target,
    event_body,
    new_message_id,
    new_secret,
    parse_retry_after,
    sign,
)
from app.providers.types import SendResult

URL = "http://127.0.0.1:9/hooks/kengele"


@dataclass
class Receiver:
    """An ASGI webhook receiver: verifies every delivery, answers from a script of replies."""

    secret: str
    replies: list[tuple[int, dict[str, str]]] = field(default_factory=list)
    delay: float = 0.0
    deliveries: list[tuple[bytes, dict[str, str]]] = field(default_factory=list)
    verified: list[Any] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)

    def app(self) -> FastAPI:
        app = FastAPI()

        @app.post("/hooks/kengele")
        async def hook(request: Request) -> Response:
            body = await request.body()
            headers = dict(request.headers)
            self.deliveries.append((body, headers))
            try:
                self.verified.append(Webhook(self.secret).verify(body, headers))
            except WebhookVerificationError as exc:
                self.failures.append(str(exc))
                return Response(status_code=401)
            if self.delay:
                await asyncio.sleep(self.delay)
            status, extra = self.replies.pop(0) if self.replies else (204, {})
            return Response(status_code=status, headers=extra, content=b"")

        return app


@pytest.fixture
def secret() -> str:
    return new_secret()


@pytest.fixture
def receiver(secret: str) -> Receiver:
    return Receiver(secret=secret)


@pytest.fixture
async def sender(receiver: Receiver) -> AsyncIterator[WebhookSender]:
    sender = WebhookSender(transport=httpx.ASGITransport(app=receiver.app()))
    yield sender
    await sender.aclose()


def body_of(**data: Any) -> bytes:
    return event_body("alert.created", data, datetime.now(UTC))


async def deliver(
    sender: WebhookSender, secret: str, body: bytes, msg_id: str | None = None
) -> SendResult:
    return await sender.send(
        url=URL,
        secret=secret,
        msg_id=msg_id or new_message_id(),
        timestamp=int(time.time()),
        body=body,
        allow_private=True,
    )


# --- Signing ---------------------------------------------------------------------------------


async def test_signature_verifies_with_standardwebhooks(
    sender: WebhookSender, receiver: Receiver, secret: str
) -> None:
    body = body_of(ref="K-2F7Q", text="Moto soko la Virunga", count=3)
    result = await deliver(sender, secret, body, msg_id="msg_abc")

    assert result.ok and result.http_status == 204 and not result.retryable
    assert receiver.failures == []
    payload = receiver.verified[0]
    assert payload["type"] == "alert.created"
    assert payload["data"] == {"ref": "K-2F7Q", "text": "Moto soko la Virunga", "count": 3}
    sent_body, headers = receiver.deliveries[0]
    assert sent_body == body
    assert headers["webhook-id"] == "msg_abc"
    assert headers["webhook-timestamp"].isdigit()
    assert headers["webhook-signature"].startswith("v1,")
    assert headers["content-type"] == "application/json"
    assert headers["user-agent"] == USER_AGENT


async def test_tampered_body_or_wrong_secret_fails_verification(
    sender: WebhookSender, receiver: Receiver, secret: str
) -> None:
    await deliver(sender, secret, body_of(level="red"))
    body, headers = receiver.deliveries[0]
    tampered = body.replace(b'"red"', b'"green"')
    assert tampered != body
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(tampered, headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(new_secret()).verify(body, headers)
    Webhook(secret).verify(body, headers)


def test_sign_matches_the_reference_implementation(secret: str) -> None:
    body = event_body("alert.updated", {"note": "Reçu ✓"}, datetime(2026, 3, 1, 12, 0, tzinfo=UTC))
    moment = datetime.fromtimestamp(1_772_366_400, tz=UTC)
    expected = Webhook(secret).sign("msg_1", moment, body.decode())
    assert sign(secret, "msg_1", 1_772_366_400, body) == expected


def test_secret_and_message_id_formats() -> None:
    secret = new_secret()
    assert secret.startswith("whsec_")
    assert 24 <= len(base64.b64decode(secret.removeprefix("whsec_"))) <= 32
    assert new_secret() != secret
    msg_id = new_message_id()
    assert msg_id.startswith("msg_") and len(msg_id) > 16
    assert all(ch.isalnum() or ch in "-_" for ch in msg_id.removeprefix("msg_"))
    assert new_message_id() != msg_id


def test_event_body_is_compact_json_with_utc_timestamp() -> None:
    at = datetime(2026, 3, 1, 14, 30, tzinfo=UTC)
    local = at.astimezone(timezone(timedelta(hours=1)))
    body = event_body("alert.created", {"note": "Reçu", "at": local}, local)
    assert b" " not in body.replace(b"Re\\u00e7u", b"")
    assert json.loads(body) == {
        "type": "alert.created",
        "timestamp": "2026-03-01T14:30:00Z",
        "data": {"note": "Reçu", "at": "2026-03-01T14:30:00Z"},
    }
    naive = event_body("x", {}, datetime(2026, 3, 1, 14, 30))
    assert json.loads(naive)["timestamp"] == "2026-03-01T14:30:00Z"


def test_bad_secret_is_refused() -> None:
    with pytest.raises(ValueError):
        sign("whsec_", "msg_1", 1, b"{}")
    with pytest.raises(ValueError):
        sign("whsec_not base64!", "msg_1", 1, b"{}")


# --- Outcomes --------------------------------------------------------------------------------


async def test_same_message_id_on_every_retry(
    sender: WebhookSender, receiver: Receiver, secret: str
) -> None:
    receiver.replies = [(503, {}), (500, {}), (200, {})]
    msg_id = new_message_id()
    body = body_of(ref="K-1")
    outcomes = [await deliver(sender, secret, body, msg_id=msg_id) for _ in range(3)]

    assert [(r.ok, r.retryable) for r in outcomes] == [(False, True), (False, True), (True, False)]
    assert [h["webhook-id"] for _, h in receiver.deliveries] == [msg_id] * 3
    assert receiver.failures == [] and len(receiver.verified) == 3


async def test_503_is_retryable(sender: WebhookSender, receiver: Receiver, secret: str) -> None:
    receiver.replies = [(503, {})]
    result = await deliver(sender, secret, body_of())
    assert not result.ok and result.retryable
    assert result.http_status == 503 and result.retry_after is None
    assert result.error is not None and "503" in result.error


async def test_429_honours_retry_after_seconds(
    sender: WebhookSender, receiver: Receiver, secret: str
) -> None:
    receiver.replies = [(429, {"Retry-After": "7"})]
    result = await deliver(sender, secret, body_of())
    assert not result.ok and result.retryable
    assert result.retry_after == 7
    assert result.http_status == 429


async def test_408_is_retryable_and_retry_after_is_capped(
    sender: WebhookSender, receiver: Receiver, secret: str
) -> None:
    receiver.replies = [(408, {"Retry-After": "86400"})]
    result = await deliver(sender, secret, body_of())
    assert result.retryable and result.retry_after == 3600


def test_receivers_retry_after_is_capped_at_an_hour() -> None:
    later = datetime.now(UTC) + timedelta(days=2)
    assert parse_retry_after(format_datetime(later, usegmt=True)) == 3600


async def test_410_is_permanent_with_error_code(
    sender: WebhookSender, receiver: Receiver, secret: str
) -> None:
    receiver.replies = [(410, {})]
    result = await deliver(sender, secret, body_of())
    assert not result.ok and not result.retryable
    assert result.error_code == 410 and result.http_status == 410


async def test_400_is_permanent(sender: WebhookSender, receiver: Receiver, secret: str) -> None:
    receiver.replies = [(400, {})]
    result = await deliver(sender, secret, body_of())
    assert not result.ok and not result.retryable
    assert result.error_code is None and result.http_status == 400


async def test_redirect_is_permanent_and_not_followed(
    sender: WebhookSender, receiver: Receiver, secret: str
) -> None:
    receiver.replies = [(302, {"Location": "http://169.254.169.254/latest/meta-data/"})]
    result = await deliver(sender, secret, body_of())
    assert not result.ok and not result.retryable
    assert result.http_status == 302
    assert result.error is not None
    assert "redirect" in result.error and "169.254.169.254" in result.error
    assert len(receiver.deliveries) == 1


async def test_slow_receiver_times_out_as_retryable(receiver: Receiver, secret: str) -> None:
    receiver.delay = 5.0
    sender = WebhookSender(transport=httpx.ASGITransport(app=receiver.app()), deadline=0.2)
    try:
        result = await deliver(sender, secret, body_of())
    finally:
        await sender.aclose()
    assert not result.ok and result.retryable
    assert result.error is not None and "timed out" in result.error


def failing_transport(exc: Callable[[httpx.Request], Exception]) -> httpx.MockTransport:
    def handler(request: httpx.Request) -> httpx.Response:
        raise exc(request)

    return httpx.MockTransport(handler)


@pytest.mark.parametrize(
    "error",
    [
        lambda r: httpx.ReadTimeout("read timed out", request=r),
        lambda r: httpx.ConnectTimeout("connect timed out", request=r),
        lambda r: httpx.ConnectError("connection refused", request=r),
        lambda r: httpx.RemoteProtocolError("peer closed", request=r),
    ],
)
async def test_timeouts_and_connection_errors_are_retryable(
    secret: str, error: Callable[[httpx.Request], Exception]
) -> None:
    sender = WebhookSender(transport=failing_transport(error))
    try:
        result = await deliver(sender, secret, body_of())
    finally:
        await sender.aclose()
    assert not result.ok and result.retryable and result.error


async def test_send_rechecks_the_target(
    sender: WebhookSender, receiver: Receiver, secret: str
) -> None:
    result = await sender.send(
        url="http://127.0.0.1/hooks/kengele",
        secret=secret,
        msg_id=new_message_id(),
        timestamp=int(time.time()),
        body=body_of(),
        allow_private=False,
    )
    assert not result.ok and not result.retryable
    assert result.error is not None and "loopback" in result.error
    assert receiver.deliveries == []


# --- Target check ----------------------------------------------------------------------------

PRIVATE_TARGETS = [
    ("http://127.0.0.1/hook", "loopback"),
    ("http://localhost/hook", "loopback"),
    ("http://localhost:8000/hook", "loopback"),
    ("http://10.1.2.3/hook", "private"),
    ("http://192.168.0.1/hook", "private"),
    ("http://172.16.5.4/hook", "private"),
    ("http://169.254.169.254/latest/meta-data/", "link-local"),
    ("http://[::1]/hook", "loopback"),
    ("http://[::ffff:127.0.0.1]/hook", "loopback"),
    ("http://[::ffff:10.0.0.1]/hook", "private"),
    ("http://[fe80::1]/hook", "link-local"),
    ("http://[fd00::1]/hook", "private"),
    ("http://100.64.0.1/hook", "carrier-grade NAT"),
    ("http://0.0.0.0/hook", "unspecified"),
    ("http://[::]/hook", "unspecified"),
    ("http://224.0.0.1/hook", "multicast"),
    ("http://[ff02::1]/hook", "multicast"),
    ("http://240.0.0.1/hook", "reserved"),
    ("http://[64:ff9b::a9fe:a9fe]/hook", "link-local"),
    ("http://[2002:7f00:1::]/hook", "loopback"),
]


@pytest.mark.parametrize(("url", "kind"), PRIVATE_TARGETS)
async def test_private_targets_are_refused(url: str, kind: str) -> None:
    with pytest.raises(WebhookTargetError) as caught:
        await check_target(url, allow_private=False)
    assert kind in caught.value.detail
    assert caught.value.status_code in (400, 422)


@pytest.mark.parametrize(("url", "kind"), PRIVATE_TARGETS)
async def test_private_targets_are_accepted_when_allowed(url: str, kind: str) -> None:
    await check_target(url, allow_private=True)


async def test_localhost_message_names_the_address() -> None:
    with pytest.raises(WebhookTargetError, match=r"resolves to a loopback address (127\.|::1)"):
        await check_target("http://localhost/hook", allow_private=False)


@pytest.mark.parametrize("host", ["2130706433", "0x7f.1", "127.1", "0177.0.0.1"])
async def test_numeric_forms_of_loopback_are_refused(host: str) -> None:
    # The resolver reads these as 127.0.0.1; if it refused them they would not resolve at all.
    with pytest.raises(WebhookTargetError, match="loopback"):
        await check_target(f"http://{host}/hook", allow_private=False)


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("ftp://example.org/hook", "http and https"),
        ("file:///etc/passwd", "http and https"),
        ("gopher://127.0.0.1:6379/", "http and https"),
        ("example.org/hook", "http and https"),
        ("http://user:pw@example.org/hook", "user name or password"),
        ("http://user@example.org/hook", "user name or password"),
        ("http:///hook", "no host"),
        ("http://example.org:99999/hook", "not a valid URL"),
    ],
)
@pytest.mark.parametrize("allow_private", [False, True])
async def test_scheme_and_credentials_are_refused_even_when_private_allowed(
    url: str, problem: str, allow_private: bool
) -> None:
    with pytest.raises(WebhookTargetError, match=problem):
        await check_target(url, allow_private=allow_private)


@pytest.mark.parametrize(
    "url", ["https://8.8.8.8/hook", "http://1.1.1.1:8080/x", "https://[2606:4700:4700::1111]/"]
)
async def test_public_literals_are_accepted(url: str) -> None:
    await check_target(url, allow_private=False)


def fake_resolver(monkeypatch: pytest.MonkeyPatch, answers: dict[str, list[str]]) -> list[str]:
    """Make the running loop resolve `answers` (name → addresses); other names fail."""
    asked: list[str] = []

    async def getaddrinfo(host: str, port: int, **_: Any) -> list[Any]:
        asked.append(host)
        if host not in answers:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return [
            (
                socket.AF_INET6 if ":" in ip else socket.AF_INET,
                socket.SOCK_STREAM,
                6,
                "",
                (ip, port, 0, 0) if ":" in ip else (ip, port),
            )
            for ip in answers[host]
        ]

    monkeypatch.setattr(asyncio.get_running_loop(), "getaddrinfo", getaddrinfo)
    return asked


async def test_names_are_judged_by_every_address(monkeypatch: pytest.MonkeyPatch) -> None:
    asked = fake_resolver(
        monkeypatch,
        {
            "hooks.example.org": ["93.184.216.34", "2606:2800:220:1::1"],
            "rebind.example.org": ["93.184.216.34", "10.0.0.7"],
            "mapped.example.org": ["::ffff:192.168.1.1"],
        },
    )
    await check_target("https://hooks.example.org/kengele", allow_private=False)
    with pytest.raises(WebhookTargetError, match=r"resolves to a private address 10\.0\.0\.7"):
        await check_target("https://rebind.example.org/kengele", allow_private=False)
    with pytest.raises(WebhookTargetError, match="IPv4-mapped private"):
        await check_target("https://mapped.example.org/kengele", allow_private=False)
    with pytest.raises(UnresolvableTarget, match="does not resolve"):
        await check_target("https://nowhere.example.org/kengele", allow_private=False)
    assert asked == [
        "hooks.example.org",
        "rebind.example.org",
        "mapped.example.org",
        "nowhere.example.org",
    ]
    # With private targets allowed, names are not resolved at check time.
    await check_target("https://nowhere.example.org/kengele", allow_private=True)
    assert len(asked) == 4


async def test_send_refuses_a_name_that_now_resolves_privately(
    monkeypatch: pytest.MonkeyPatch, receiver: Receiver, secret: str
) -> None:
    answers = {"hooks.example.org": ["93.184.216.34"]}
    fake_resolver(monkeypatch, answers)
    url = "https://hooks.example.org/hooks/kengele"
    await check_target(url, allow_private=False)  # when the subscription was made
    answers["hooks.example.org"] = ["169.254.169.254"]  # DNS changed since
    sender = WebhookSender(transport=httpx.ASGITransport(app=receiver.app()))
    try:
        refused = await sender.send(
            url=url,
            secret=secret,
            msg_id=new_message_id(),
            timestamp=int(time.time()),
            body=body_of(),
            allow_private=False,
        )
        del answers["hooks.example.org"]  # and now it does not resolve at all
        unresolved = await sender.send(
            url=url,
            secret=secret,
            msg_id=new_message_id(),
            timestamp=int(time.time()),
            body=body_of(),
            allow_private=False,
        )
    finally:
        await sender.aclose()
    assert not refused.ok and not refused.retryable
    assert refused.error is not None and "link-local address 169.254.169.254" in refused.error
    assert not unresolved.ok and unresolved.retryable
    assert receiver.deliveries == []


async def test_send_connects_to_the_address_it_checked(
    monkeypatch: pytest.MonkeyPatch, secret: str
) -> None:
    """No DNS rebinding between the check and the connection: the vetted IP is dialled."""
    fake_resolver(monkeypatch, {"hooks.example.org": ["93.184.216.34"]})
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(204)

    sender = WebhookSender(transport=httpx.MockTransport(handler))
    try:
        result = await sender.send(
            url="https://hooks.example.org:8443/hooks/kengele?x=1",
            secret=secret,
            msg_id=new_message_id(),
            timestamp=int(time.time()),
            body=body_of(),
            allow_private=False,
        )
    finally:
        await sender.aclose()
    assert result.ok
    [request] = seen
    assert str(request.url) == "https://93.184.216.34:8443/hooks/kengele?x=1"
    assert request.headers["host"] == "hooks.example.org:8443"
    assert request.extensions["sni_hostname"] == "hooks.example.org"
