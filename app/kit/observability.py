"""JSON logs with a request id, access logs, HTTP latency metrics, and log redaction.

The middleware is plain ASGI (not BaseHTTPMiddleware): it passes every message through as
it comes, so streamed responses (the live stream, CSV exports) are never buffered.
Phone numbers are personal data and keys are secrets: a filter on the log handler masks
the one and removes the other from every record before it is written.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import time
import traceback
import uuid
from collections.abc import Iterable
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import IO, Any

from fastapi import FastAPI
from pydantic import SecretStr
from starlette.datastructures import MutableHeaders
from starlette.routing import Mount
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.kit import metrics
from app.kit.config import Settings
from app.kit.phones import mask_in_text

REQUEST_ID_HEADER = "X-Request-ID"
REQUEST_ID: ContextVar[str | None] = ContextVar("kengele_request_id", default=None)

access_log = logging.getLogger("kengele.access")

# A client's own request id is kept when it is a plain token (it is echoed in a header and
# written to logs: no spaces, quotes or control characters, and not too long).
_SANE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:\-]{0,127}")
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
# Probes and scrapes come every few seconds: their access lines are debug noise.
_QUIET_PATHS = frozenset({"/metrics", "/healthz", "/readyz"})

# E.164 (with or without spaces or dashes between digits) or any run of 9+ digits that is
# not part of a longer word, id or decimal number.
_BEARER = re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=\-]+")
_AUTH_HEADER = re.compile(
    r"(?i)\b(authorization|x-twilio-signature)(['\"]?\s*[:=]\s*['\"]?)[^'\",}\n]+"
)
_API_KEY = re.compile(r"(?<![A-Za-z0-9])kg_[A-Za-z0-9_\-]{6,}")
# SQLAlchemy writes a failed statement's values on one line after the statement (engines of
# ours hide them; another engine, Alembic's for one, may not).
_SQL_PARAMETERS = re.compile(r"\[parameters: [^\n]*")
# A Twilio auth token is 32 hex digits; SIDs (AC…, SM…) are prefixed and stay readable.
_HEX_TOKEN = re.compile(r"(?<![A-Za-z0-9])[0-9a-fA-F]{32}(?![A-Za-z0-9])")
REDACTED = "[redacted]"

# A channel's callback URL ends with its secret (/webhooks/{kind}/{name}/{secret}): what comes
# after the channel's name is never written to a log, whether a route took the request or not
# (a mistyped callback URL carries the secret too: a slash too many, another case).
_CALLBACK_SECRET = re.compile(r"^(/+webhooks/[^/]*/[^/]*/).+", re.DOTALL | re.IGNORECASE)
SECRET_SEGMENT = "***"

# HTTP clients that write each URL they call (httpx at INFO) or each exchange with its headers
# (httpcore at DEBUG): a webhook's URL may carry its receiver's token in its query, a
# channel's URL a password or a key. Their warnings still come through; our own lines say
# what was sent to whom.
_CHATTY_CLIENTS = ("httpx", "httpcore")

# Attributes that logging itself sets on every record; anything else came via `extra=`.
_ACCESS_FIELDS = ("method", "path", "route", "status", "duration_ms")


def current_request_id() -> str | None:
    """The id of the request being handled (None outside a request)."""
    return REQUEST_ID.get()


class Redactor:
    """Masks phone numbers and removes credentials from a text."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        # Only secrets long enough not to blank out ordinary words.
        self.secrets = sorted({s for s in secrets if len(s) >= 8}, key=len, reverse=True)

    def __call__(self, text: str) -> str:
        """`text` with no full phone number, key, token or Authorization value left."""
        for secret in self.secrets:
            text = text.replace(secret, REDACTED)
        text = _AUTH_HEADER.sub(lambda m: m.group(1) + m.group(2) + REDACTED, text)
        text = _BEARER.sub(lambda m: m.group(1) + " " + REDACTED, text)
        text = _API_KEY.sub("kg_" + REDACTED, text)
        text = _HEX_TOKEN.sub(REDACTED, text)
        text = _SQL_PARAMETERS.sub(f"[parameters: {REDACTED}]", text)
        return mask_in_text(text)


class RedactingFilter(logging.Filter):
    """Masks phone numbers and removes secrets from every record; adds its request id.

    The message is rendered with its args and then cleaned, so a number passed as an
    argument (or inside an exception's text) is masked as well as one in the format.
    """

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        self.redact = Redactor(secrets)

    def filter(self, record: logging.LogRecord) -> bool:
        """Clean the record in place; never drops it."""
        if not getattr(record, "kengele_redacted", False):
            try:
                message = record.getMessage()
            except Exception:  # a broken format string: keep the parts, cleaned
                message = f"{record.msg!r} % {record.args!r}"
            record.msg = self.redact(message)
            record.args = None
            if record.exc_info and not record.exc_text:
                record.exc_text = "".join(traceback.format_exception(*record.exc_info)).rstrip()
            if record.exc_text:
                record.exc_text = self.redact(record.exc_text)
            if record.stack_info:
                record.stack_info = self.redact(record.stack_info)
            path = getattr(record, "path", None)
            if isinstance(path, str):
                setattr(record, "path", self.redact(path))  # noqa: B010
            setattr(record, "kengele_redacted", True)  # noqa: B010
        if not hasattr(record, "request_id"):
            setattr(record, "request_id", REQUEST_ID.get())  # noqa: B010
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time, level, logger, message, request_id (+ access fields)."""

    def format(self, record: logging.LogRecord) -> str:
        """The record as a JSON line."""
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", None) or REQUEST_ID.get(),
        }
        for field in _ACCESS_FIELDS:
            value = getattr(record, field, None)
            if value is not None:
                line[field] = value
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            line["exc"] = record.exc_text
        if record.stack_info:
            line["stack"] = record.stack_info
        return json.dumps(line, ensure_ascii=False, default=str)


class _TextFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        setattr(record, "request_id_text", getattr(record, "request_id", None) or "-")  # noqa: B010
        return super().format(record)


def secrets_of(settings: Settings) -> list[str]:
    """Values of every secret setting (never to appear in a log)."""
    values = [getattr(settings, name) for name in type(settings).model_fields]
    return [v.get_secret_value() for v in values if isinstance(v, SecretStr)]


def configure_logging(
    settings: Settings, level: str | None = None, stream: IO[str] | None = None
) -> logging.Handler:
    """Send every log record of the process through one redacting handler on the root logger.

    JSON lines when `settings.log_format` is "json", plain text when "text"; "auto" is text on a
    terminal and JSON otherwise (a log collector). A handler installed by an earlier call is
    replaced. Returns the handler.
    """
    out = stream or sys.stderr
    handler = logging.StreamHandler(out)
    handler.set_name("kengele")
    handler.addFilter(RedactingFilter(secrets_of(settings)))
    fmt = settings.log_format
    if fmt == "auto":
        fmt = "text" if out.isatty() else "json"
    if fmt == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(
            _TextFormatter("%(asctime)s %(levelname)s %(name)s [%(request_id_text)s] %(message)s")
        )
    root = logging.getLogger()
    for old in [h for h in root.handlers if h.get_name() == "kengele"]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel((level or settings.log_level).upper())
    for name in _CHATTY_CLIENTS:
        logging.getLogger(name).setLevel(logging.WARNING)
    return handler


def adopt_server_loggers() -> None:
    """Route uvicorn's logs through our handler and drop its access lines (ours replace them).

    uvicorn configures its own loggers when it starts, after `configure_logging`; this runs at
    the application's startup, and only when `configure_logging` installed our handler.
    """
    if not any(h.get_name() == "kengele" for h in logging.getLogger().handlers):
        return
    for name in ("uvicorn", "uvicorn.error"):
        server_log = logging.getLogger(name)
        server_log.handlers.clear()
        server_log.propagate = True
    logging.getLogger("uvicorn.access").disabled = True


def route_template(scope: Scope) -> str:
    """The path template of the route that handled the request (never the raw path)."""
    route = scope.get("route")
    template = getattr(route, "path_format", None) or getattr(route, "path", None)
    if not template:
        return "<unmatched>"
    if isinstance(route, Mount):
        return str(template).rstrip("/") + "/{path}"
    return str(template)


def logged_path(path: str) -> str:
    """A request's path as logs write it: a channel's callback secret as ***, the rest as it
    came (the channel's kind and name tell operators whose callback it was)."""
    return _CALLBACK_SECRET.sub(rf"\g<1>{SECRET_SEGMENT}", path)


def _request_id(scope: Scope) -> str:
    for name, value in scope.get("headers", ()):
        if name == b"x-request-id":
            try:
                text = bytes(value).decode("ascii")
            except UnicodeDecodeError:
                break
            if _SANE_ID.fullmatch(text):
                return text
            break
    return uuid.uuid4().hex[:16]


class ObservabilityMiddleware:
    """Request id (contextvar and X-Request-ID header), access log line, latency histogram."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Handle one ASGI connection."""
        if scope["type"] == "lifespan":
            adopt_server_loggers()
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = _request_id(scope)
        token = REQUEST_ID.set(request_id)
        started = time.perf_counter()
        method = scope["method"] if scope["method"] in _METHODS else "OTHER"
        # Until the app answers: an exception that escapes it becomes a 500 further out.
        state: dict[str, Any] = {"status": 500, "observed": False}

        def observe() -> None:
            state["observed"] = True
            metrics.HTTP_SECONDS.labels(
                route_template(scope), method, f"{state['status'] // 100}xx"
            ).observe(time.perf_counter() - started)

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                state["status"] = message["status"]
                headers = MutableHeaders(scope=message)
                headers[REQUEST_ID_HEADER] = request_id
                # An event stream lasts as long as its client likes: its latency is the
                # time to its headers.
                if headers.get("content-type", "").startswith("text/event-stream"):
                    observe()
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            if not state["observed"]:
                observe()
            duration_ms = round((time.perf_counter() - started) * 1000, 1)
            path = logged_path(scope.get("path", ""))
            access_log.log(
                logging.DEBUG if path in _QUIET_PATHS else logging.INFO,
                "%s %s %s %.1fms",
                scope["method"],
                path,
                state["status"],
                duration_ms,
                extra={
                    "method": scope["method"],
                    "path": path,
                    "route": route_template(scope),
                    "status": state["status"],
                    "duration_ms": duration_ms,
                },
            )
            REQUEST_ID.reset(token)


def install_observability(app: FastAPI) -> None:
    """Request ids, access logs and HTTP latency metrics for every request."""
    app.add_middleware(ObservabilityMiddleware)
