"""JSON logs with request ids, redaction of phone numbers and secrets, unbuffered streams."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.kit.config import Settings
from app.kit.observability import Redactor, configure_logging
from tests.harness.server import live_server
from tests.support import PUBLIC_URL, TWILIO_TOKEN, make_key, sign, sms_form

SMS = "/webhooks/twilio/sms"
FOCAL = "+243810000101"  # a demo focal point (Mavivi)


@pytest.fixture
def log_stream(settings: Settings) -> Iterator[io.StringIO]:
    """What the process's log handler writes (JSON lines), as the CLI configures it."""
    root = logging.getLogger()
    level = root.level
    uvicorn_state = {
        name: (logging.getLogger(name).propagate, logging.getLogger(name).disabled)
        for name in ("uvicorn", "uvicorn.error", "uvicorn.access")
    }
    stream = io.StringIO()
    handler = configure_logging(settings, "INFO", stream=stream)
    try:
        yield stream
    finally:
        root.removeHandler(handler)
        root.setLevel(level)
        for name, (propagate, disabled) in uvicorn_state.items():
            logging.getLogger(name).propagate = propagate
            logging.getLogger(name).disabled = disabled


def lines(stream: io.StringIO) -> list[dict[str, Any]]:
    """Every line written so far, each parsed as JSON (fails on a line that is not)."""
    return [json.loads(line) for line in stream.getvalue().splitlines()]


async def test_json_lines_carry_the_request_id_and_never_a_full_number_or_a_key(
    client: httpx.AsyncClient,
    demo: None,
    sessionmaker: async_sessionmaker[AsyncSession],
    log_stream: io.StringIO,
) -> None:
    key = await make_key(sessionmaker, "viewer")
    body = "Attaque a Mavivi, rappelez mon frere au +243 990 123 456 ou 0997654321"
    form = sms_form(FOCAL, body)
    headers = {"X-Twilio-Signature": sign(SMS, form), "X-Request-ID": "sms-req-1"}
    response = await client.post(SMS, data=form, headers=headers)
    assert response.status_code == 200
    assert response.headers["X-Request-ID"] == "sms-req-1"
    listed = await client.get(
        "/api/v1/alerts?limit=5",
        headers={"Authorization": f"Bearer {key}", "X-Request-ID": "list-req-2"},
    )
    assert listed.status_code == 200
    # Code that carelessly logs what it handles: the handler still masks and redacts.
    logging.getLogger("app.careless").warning(
        "from %s (%s) headers=%s token=%s",
        FOCAL,
        body,
        {"authorization": f"Bearer {key}"},
        TWILIO_TOKEN,
    )

    written = lines(log_stream)
    for line in written:
        assert {"time", "level", "logger", "message", "request_id"} <= line.keys()
    access = {line["request_id"]: line for line in written if line["logger"] == "kengele.access"}
    sms_line = access["sms-req-1"]
    assert (sms_line["method"], sms_line["path"], sms_line["status"]) == ("POST", SMS, 200)
    assert sms_line["route"] == SMS and sms_line["duration_ms"] >= 0
    list_line = access["list-req-2"]
    assert list_line["path"] == "/api/v1/alerts"  # the query string stays out
    careless = next(line for line in written if line["logger"] == "app.careless")
    assert "+243••••••101" in careless["message"] and "[redacted]" in careless["message"]

    text = log_stream.getvalue()
    for secret in (
        "810000101",
        "990123456",
        "990 123 456",
        "997654321",
        key,
        key[3:],
        TWILIO_TOKEN,
    ):
        assert secret not in text, secret


async def test_log_lines_written_during_a_request_carry_its_id(
    client: httpx.AsyncClient, log_stream: io.StringIO
) -> None:
    # A forged webhook: the gateway logs a warning while handling the request.
    response = await client.post(
        SMS, data=sms_form(FOCAL, "x"), headers={"X-Twilio-Signature": "forged"}
    )
    assert response.status_code == 403
    request_id = response.headers["X-Request-ID"]
    assert re.fullmatch(r"[0-9a-f]{16}", request_id)
    mine = [line for line in lines(log_stream) if line["request_id"] == request_id]
    assert [line["logger"] for line in mine] == ["app.api.inbound", "kengele.access"]
    assert mine[0]["level"] == "WARNING" and mine[1]["status"] == 403
    assert all(line["request_id"] is None for line in lines(log_stream) if line not in mine)


@pytest.mark.parametrize(
    ("sent", "kept"),
    [
        ("3f1c-42:retry.1", True),
        ("req_ABC", True),
        ("has spaces in it", False),
        ('quote"inside', False),
        ("x" * 200, False),
        ("", False),
    ],
)
async def test_a_request_id_is_kept_only_when_it_is_a_plain_token(
    client: httpx.AsyncClient, sent: str, kept: bool
) -> None:
    response = await client.get("/healthz", headers={"X-Request-ID": sent})
    echoed = response.headers["X-Request-ID"]
    if kept:
        assert echoed == sent
    else:
        assert re.fullmatch(r"[0-9a-f]{16}", echoed)


async def test_text_format_names_the_request_id(settings: Settings, app: FastAPI) -> None:
    stream = io.StringIO()
    root = logging.getLogger()
    level = root.level
    handler = configure_logging(settings.model_copy(update={"log_format": "text"}), stream=stream)
    try:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url=PUBLIC_URL) as client:
            await client.get("/no/such/page", headers={"X-Request-ID": "text-req-9"})
    finally:
        root.removeHandler(handler)
        root.setLevel(level)
    [line] = [x for x in stream.getvalue().splitlines() if "text-req-9" in x]
    assert "INFO kengele.access [text-req-9] GET /no/such/page 404" in line


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("from +243810000101", "from +243••••••101"),
        ("from +243 810 000 101.", "from +243••••••101."),
        ("call 0810000101 now", "call +243••••••101 now"),
        ("reporter 12 wrote at 2024-05-01 12:00:00", "reporter 12 wrote at 2024-05-01 12:00:00"),
        ("took 0.123456789 s", "took 0.123456789 s"),
        ("sid SM0123456789abcdef0123456789abcdef", "sid SM0123456789abcdef0123456789abcdef"),
        ("Authorization: Bearer kg_abcDEF123_-xyz", "Authorization: [redacted]"),
        ("key kg_abcDEF123_-xyz used", "key kg_[redacted] used"),
        ("{'x-twilio-signature': 'abc+/='}", "{'x-twilio-signature': '[redacted]'}"),
        ("token 0123456789abcdef0123456789abcdef", "token [redacted]"),
        ("bearer abc.def", "bearer [redacted]"),
        ("my-configured-secret!", "[redacted]"),
        ("alert K-7QXM, 3 killed", "alert K-7QXM, 3 killed"),
        # SQLAlchemy's text of an error of an engine that does not hide its parameters.
        (
            "[SQL: INSERT INTO t (body) VALUES (?)]\n[parameters: ('Mavivi: 12 morts',)]\n(Back",
            "[SQL: INSERT INTO t (body) VALUES (?)]\n[parameters: [redacted]]\n(Back",
        ),
    ],
)
def test_redactor(raw: str, clean: str) -> None:
    assert Redactor(["my-configured-secret!", "short"])(raw) == clean


async def test_event_stream_flows_through_the_middleware_unbuffered(
    app: FastAPI, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    app.state.settings = app.state.settings.model_copy(update={"stream_heartbeat_seconds": 0.2})
    key = await make_key(sessionmaker, "viewer")
    async with (
        live_server(app) as base,
        httpx.AsyncClient(base_url=base, timeout=10) as client,
        client.stream(
            "GET",
            "/api/v1/stream",
            headers={"Authorization": f"Bearer {key}", "X-Request-ID": "stream-1"},
        ) as response,
    ):
        assert response.headers["X-Request-ID"] == "stream-1"
        chunks = response.aiter_lines()
        # Each comment arrives while the response is still open: nothing waits for its end.
        assert await asyncio.wait_for(anext(chunks), 5) == ": connected"
        comments = []
        while len(comments) < 2:
            line = await asyncio.wait_for(anext(chunks), 5)
            if line:
                comments.append(line)
        assert comments == [": heartbeat", ": heartbeat"]
        # Its latency was measured when its headers went out, not at its (far) end.
        metrics = (await httpx.AsyncClient(base_url=base).get("/metrics")).text
        assert re.search(
            r'kengele_http_request_duration_seconds_count\{method="GET",'
            r'route="/api/v1/stream",status="2xx"\} [1-9]',
            metrics,
        )


async def test_the_server_logs_join_ours_and_its_access_lines_give_way(
    app: FastAPI, log_stream: io.StringIO
) -> None:
    # uvicorn sets up its own loggers after the CLI set up ours; the app's startup undoes that.
    async with live_server(app):
        assert logging.getLogger("uvicorn.error").propagate
        assert logging.getLogger("uvicorn.access").disabled
        logging.getLogger("uvicorn.error").warning("server says hello")
    assert any(line["message"] == "server says hello" for line in lines(log_stream))


async def test_a_database_error_logs_no_statement_parameters(
    log_stream: io.StringIO, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    from sqlalchemy.exc import IntegrityError

    from app.inbound.models import InboundMessage
    from app.kit.db import unit_of_work

    body = "Attaque a Mavivi, rappelez le 081.000.01.09"

    def message() -> InboundMessage:
        raw = {"Body": body, "From": "+243810000101"}
        return InboundMessage(
            provider="twilio", provider_sid="SM-dup", from_phone=FOCAL, body=body, raw=raw
        )

    async with unit_of_work(sessionmaker) as s:
        s.add(message())
    try:
        async with unit_of_work(sessionmaker) as s:
            s.add(message())  # the same provider id again: a unique violation
    except IntegrityError as exc:
        error = str(exc)
        logging.getLogger("app.careless").exception("could not store the message")
    assert "[SQL:" in error, "a real database error, with its statement"
    assert "Mavivi" not in error, "the engine hides statement parameters"

    text = log_stream.getvalue()
    assert "could not store the message" in text and "IntegrityError" in text
    assert "[parameters" not in text and "Mavivi" not in text
    for digits in ("081.000.01.09", "0810000109", "810000101"):
        assert digits not in text, digits


@pytest.mark.parametrize("level", ["INFO", "DEBUG"])
async def test_the_urls_the_gateway_calls_are_not_logged_with_their_credentials(
    settings: Settings, level: str
) -> None:
    from app.outbox.webhooks import WebhookSender, new_secret
    from app.providers.http_channel_client import HttpChannelSender

    stream = io.StringIO()
    root = logging.getLogger()
    before = root.level
    handler = configure_logging(settings, level, stream=stream)
    ok = httpx.MockTransport(lambda request: httpx.Response(200, json={"id": "m1"}))
    try:
        # A webhook receiver that takes its token in the query (the subscription's URL).
        webhooks = WebhookSender(transport=ok)
        sent = await webhooks.send(
            url="https://hooks.example.org/in?token=hook-token-5Qx9",
            secret=new_secret(),
            msg_id="msg_1",
            timestamp=1,
            body=b"{}",
            allow_private=True,
        )
        await webhooks.aclose()
        # An aggregator whose URL carries a user and password, and a key in its query.
        options = {"out_url": "https://kengele:agg-pass-7Hd2@sms.example.org/send?key=agg-key-3Mv8"}
        aggregator = HttpChannelSender(options, {"token": "t"}, "+243990000001", "")
        aggregator._http = httpx.AsyncClient(transport=ok)
        handed = await aggregator.send_sms(to=FOCAL, body="Attaque", message_id="d1")
        await aggregator.aclose()
    finally:
        root.removeHandler(handler)
        root.setLevel(before)
    assert sent.ok and handed.ok
    text = stream.getvalue()
    for secret in ("hook-token-5Qx9", "agg-pass-7Hd2", "agg-key-3Mv8"):
        assert secret not in text, secret
