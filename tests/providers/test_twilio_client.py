"""The SMS senders, with the real twilio client against the local stand-in of Twilio's API."""

from __future__ import annotations

import asyncio
import logging
import socket
import time
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest
from twilio.request_validator import RequestValidator

from app.kit.config import Settings
from app.providers.twilio_client import (
    RebasedHttpClient,
    TwilioSmsSender,
    _rebase,
)
from tests.fakes.twilio_api import AUTH_TOKEN, Callback, Reply, TwilioFake, twilio_fake

PUBLIC_URL = "https://kengele.test"
STATUS_URL = PUBLIC_URL + "/webhooks/twilio/status"
TO = "+243810000101"
SERVICE_SID = "MG" + "ab" * 16


@pytest.fixture
def fake() -> Iterator[TwilioFake]:
    with twilio_fake() as running:
        yield running


@pytest.fixture
async def sender(fake: TwilioFake) -> AsyncIterator[TwilioSmsSender]:
    s = TwilioSmsSender(fake.settings(public_url=PUBLIC_URL))
    yield s
    await s.aclose()


async def test_send_is_recorded_and_returns_the_sid(
    fake: TwilioFake, sender: TwilioSmsSender
) -> None:
    result = await sender.send_sms(to=TO, body="Alerte 12: Kiwanja", status_callback=STATUS_URL)

    assert result.ok and not result.retryable and result.error is None
    assert result.provider_status == "queued"
    (request,) = fake.requests
    assert result.provider_id == request.sid
    assert result.provider_id is not None and result.provider_id.startswith("SM")
    assert len(result.provider_id) == 34
    assert request.authorized
    assert request.to == TO
    assert request.body == "Alerte 12: Kiwanja"
    assert request.from_ == "+243800000000"
    assert request.messaging_service_sid is None
    assert request.status_callback == STATUS_URL
    assert fake.messages[result.provider_id]["num_segments"] == "1"


async def test_no_status_callback_field_when_none(
    fake: TwilioFake, sender: TwilioSmsSender
) -> None:
    result = await sender.send_sms(to=TO, body="x", status_callback=None)

    assert result.ok
    assert "StatusCallback" not in fake.requests[0].form
    assert fake.pending_callbacks == []


async def test_messaging_service_sid_replaces_from(fake: TwilioFake) -> None:
    sender = TwilioSmsSender(fake.settings(twilio_messaging_service_sid=SERVICE_SID))

    result = await sender.send_sms(to=TO, body="hello", status_callback=None)

    assert result.ok and result.provider_status == "accepted"
    (request,) = fake.requests
    assert request.messaging_service_sid == SERVICE_SID
    assert request.from_ is None


async def test_scripted_500_500_429_then_201(fake: TwilioFake, sender: TwilioSmsSender) -> None:
    later = format_datetime(datetime.now(UTC) + timedelta(seconds=30), usegmt=True)
    fake.script(500, Reply(503, retry_after=later), Reply(429, retry_after="3"), 201)

    results = [await sender.send_sms(to=TO, body="x", status_callback=None) for _ in range(4)]

    first, second, third, fourth = results
    assert not first.ok and first.retryable and first.http_status == 500
    assert first.retry_after is None
    assert not second.ok and second.retryable and second.http_status == 503
    assert second.retry_after is not None and 25 <= second.retry_after <= 31
    assert not third.ok and third.retryable
    assert (third.http_status, third.error_code, third.retry_after) == (429, 20429, 3.0)
    assert fourth.ok and fourth.provider_id == fake.requests[3].sid
    assert [r.response_status for r in fake.requests] == [500, 503, 429, 201]


async def test_twilio_code_20429_is_retryable_whatever_the_status(
    fake: TwilioFake, sender: TwilioSmsSender
) -> None:
    fake.fail_with(code=20429, status=400, retry_after=2)

    result = await sender.send_sms(to=TO, body="x", status_callback=None)

    assert result.retryable and result.error_code == 20429 and result.retry_after == 2.0


@pytest.mark.parametrize("code", [21610, 21211, 21614])
async def test_recipient_errors_are_permanent(
    fake: TwilioFake, sender: TwilioSmsSender, code: int
) -> None:
    fake.fail_number(TO, code=code)

    result = await sender.send_sms(to=TO, body="x", status_callback=None)

    assert not result.ok and not result.retryable
    assert (result.error_code, result.http_status) == (code, 400)
    assert result.error is not None and TO not in result.error


async def test_other_4xx_is_permanent(fake: TwilioFake, sender: TwilioSmsSender) -> None:
    fake.fail_with(code=21408, status=403, message="Permission to send an SMS has not been enabled")

    result = await sender.send_sms(to=TO, body="x", status_callback=None)

    assert not result.ok and not result.retryable and result.http_status == 403


async def test_retry_after_only_on_retryable(fake: TwilioFake, sender: TwilioSmsSender) -> None:
    fake.fail_with(code=21610, status=400, retry_after=60)

    result = await sender.send_sms(to=TO, body="x", status_callback=None)

    assert not result.retryable and result.retry_after is None


async def test_timeout_is_retryable(fake: TwilioFake) -> None:
    fake.latency = 3.0
    sender = TwilioSmsSender(fake.settings(), timeout=0.2)
    started = time.monotonic()

    try:
        result = await sender.send_sms(to=TO, body="x", status_callback=None)
    finally:
        await sender.aclose()

    # Given up long before Twilio's answer, with room for a loaded machine.
    assert time.monotonic() - started < 2.5
    assert not result.ok and result.retryable
    assert result.error is not None and "timeout" in result.error


async def test_connection_refused_is_retryable() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    token = "secret-token-that-must-not-leak"
    settings = Settings(
        twilio_api_base=f"http://127.0.0.1:{port}",
        twilio_auth_token=token,  # type: ignore[arg-type]
        twilio_from="+243800000000",
    )
    sender = TwilioSmsSender(settings, timeout=2.0)

    result = await sender.send_sms(to=TO, body="x", status_callback=None)

    assert not result.ok and result.retryable
    assert result.error is not None and token not in result.error


async def test_the_event_loop_keeps_running_during_a_slow_send(
    fake: TwilioFake, sender: TwilioSmsSender
) -> None:
    fake.latency = 0.5
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.02)
            ticks += 1

    task = asyncio.create_task(ticker())
    try:
        result = await sender.send_sms(to=TO, body="x", status_callback=None)
    finally:
        task.cancel()

    assert result.ok
    assert ticks >= 3  # a blocked loop would tick once at most


async def test_concurrent_sends_each_see_their_own_retry_after(
    fake: TwilioFake, sender: TwilioSmsSender
) -> None:
    # The response headers are kept per thread: each result must carry its own Retry-After.
    expected = {429: 1.0, 500: 2.0, 502: 3.0, 503: 4.0}
    fake.script(
        *[
            Reply(status, retry_after=str(int(wait)), latency=0.2)
            for status, wait in expected.items()
        ]
    )

    results = await asyncio.gather(
        *[sender.send_sms(to=TO, body=str(i), status_callback=None) for i in range(4)]
    )

    assert sorted(r.http_status or 0 for r in results) == sorted(expected)
    for result in results:
        assert result.retryable and result.retry_after == expected[result.http_status or 0]


async def test_the_auth_token_never_appears_in_errors(
    fake: TwilioFake, sender: TwilioSmsSender
) -> None:
    fake.fail_with(code=20003, status=400, message=f"token {AUTH_TOKEN} refused for {TO}")
    fake.fail_with(code=20500, status=500, message=f"oops {AUTH_TOKEN}")

    results = [await sender.send_sms(to=TO, body="x", status_callback=None) for _ in range(2)]

    for result in results:
        assert result.error is not None
        assert AUTH_TOKEN not in result.error and TO not in result.error


async def test_wrong_credentials_are_a_permanent_401(fake: TwilioFake) -> None:
    sender = TwilioSmsSender(fake.settings(twilio_auth_token="not-the-token"))

    result = await sender.send_sms(to=TO, body="x", status_callback=None)

    assert not result.ok and not result.retryable
    assert (result.http_status, result.error_code) == (401, 20003)
    assert result.error is not None and "not-the-token" not in result.error
    assert fake.requests[0].authorized is False
    assert fake.messages == {}


async def test_sender_logs_mask_the_number(
    sender: TwilioSmsSender, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="app.providers.twilio_client"):
        await sender.send_sms(to=TO, body="x", status_callback=None)

    assert "+243••••••101" in caplog.text and TO not in caplog.text


def test_rebased_urls() -> None:
    client = RebasedHttpClient("http://127.0.0.1:9/prefix/")
    base = client.api_base
    assert _rebase("https://api.twilio.com/2010-04-01/A.json", base) == (
        "http://127.0.0.1:9/prefix/2010-04-01/A.json"
    )
    assert _rebase("https://api.dublin.ie1.twilio.com/x", base) == "http://127.0.0.1:9/prefix/x"
    assert _rebase("https://twilio.com.evil.example/x", base) == "https://twilio.com.evil.example/x"


# -- the fake's status callbacks ----------------------------------------------------------------


async def test_callbacks_are_signed_and_go_sent_then_delivered(
    fake: TwilioFake, sender: TwilioSmsSender
) -> None:
    result = await sender.send_sms(to=TO, body="x", status_callback=STATUS_URL)
    received: list[tuple[str, dict[str, str], dict[str, str]]] = []

    async def sink(url: str, form: dict[str, str], headers: dict[str, str]) -> None:
        received.append((url, form, headers))

    await fake.flush_callbacks(sink)

    assert [form["MessageStatus"] for _, form, _ in received] == ["sent", "delivered"]
    validator = RequestValidator(AUTH_TOKEN)
    for url, form, headers in received:
        assert url == STATUS_URL
        assert form["MessageSid"] == result.provider_id and form["To"] == TO
        assert form["AccountSid"] == fake.account_sid
        assert validator.validate(url, form, headers["X-Twilio-Signature"])
    assert fake.pending_callbacks == []
    # The message resource follows the delivered callbacks, as the real client reads it.
    message = sender.client.messages(result.provider_id).fetch()
    assert message.status == "delivered"


async def test_scripted_final_status_and_disorder(
    fake: TwilioFake, sender: TwilioSmsSender
) -> None:
    fake.set_final_status(TO, "undelivered", error_code=30003)
    result = await sender.send_sms(to=TO, body="x", status_callback=STATUS_URL)
    received: list[dict[str, str]] = []

    async def sink(url: str, form: dict[str, str], headers: dict[str, str]) -> None:
        received.append(form)

    deliveries = await fake.flush_callbacks(sink, reverse=True, duplicate=True)

    assert [f["MessageStatus"] for f in received] == ["undelivered"] * 2 + ["sent"] * 2
    assert received[0]["ErrorCode"] == "30003" and "ErrorCode" not in received[-1]
    assert len(deliveries) == 4
    # Out of order delivery does not move the fake's own record backwards.
    assert fake.messages[result.provider_id or ""]["status"] == "undelivered"


async def test_auto_callbacks_are_delivered_by_the_fake() -> None:
    seen: list[Callback] = []

    async def sink(url: str, form: dict[str, str], headers: dict[str, str]) -> None:
        seen.append(Callback(url, form, headers, seq=0))

    with twilio_fake(callbacks="auto", callback_sink=sink, callback_delay=0.05) as fake:
        sender = TwilioSmsSender(fake.settings())
        await sender.send_sms(to=TO, body="x", status_callback=STATUS_URL)
        await fake.wait_for_deliveries(2)

    assert [cb.status for cb in seen] == ["sent", "delivered"]
