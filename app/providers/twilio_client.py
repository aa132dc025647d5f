"""Sending SMS through the official `twilio` client (the console provider is console.py).

Sends go through the library's asynchronous API (`create_async`) over aiohttp, a dependency
of the `twilio` package: no thread per send. Measured with bench/outbox_worker.py, the
blocking client (`requests`) in a thread pool cost the worker more CPU per SMS, and its threads
held the GIL away from the event loop, whose every socket write then waited for them. Every
outcome is folded into a `SendResult`; the worker decides what to do with it (retry later,
fail, fall back).
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import logging
import re
import threading
from typing import Any

import aiohttp
import requests
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.http.async_http_client import AsyncTwilioHttpClient
from twilio.http.http_client import TwilioHttpClient
from twilio.http.response import Response
from twilio.rest import Client

from app.kit.config import Settings
from app.kit.http import parse_retry_after
from app.kit.phones import mask, mask_in_text
from app.providers.types import SendResult

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT = 10.0
# Twilio's hosts (api.twilio.com, and api.<edge>.<region>.twilio.com when an edge is set).
_TWILIO_HOST = re.compile(r"^https://(?:[a-z0-9-]+\.)*twilio\.com(?=[/?#]|$)", re.IGNORECASE)
# Twilio error codes that mean "slow down", whatever the HTTP status.
RETRYABLE_CODES = frozenset({20429})
# Codes that never succeed on a retry: bad To, the recipient sent STOP, not a mobile number.
PERMANENT_CODES = frozenset({21211, 21610, 21614})
ACCEPTED_STATUSES = frozenset({"queued", "accepted", "sending", "sent", "scheduled"})


def _rebase(url: str, base: str) -> str:
    """`url` with its Twilio host replaced by `base` (scheme, host and optional path prefix)."""
    return _TWILIO_HOST.sub(lambda _: base.rstrip("/"), url, count=1)


class RebasedHttpClient(TwilioHttpClient):  # type: ignore[misc]
    """The twilio library's HTTP client, pointed at another base URL and remembering headers.

    With `api_base` set, `https://api.twilio.com/...` (or any `https://*.twilio.com/...`)
    becomes `api_base + /...`, which lets tests run the real library against a stand-in.
    The headers of the last response are kept per thread: the client is shared by the
    threads of a pool, and the twilio exceptions do not carry them (`Retry-After`).
    """

    def __init__(self, api_base: str = "", *, timeout: float = DEFAULT_TIMEOUT) -> None:
        super().__init__(timeout=timeout)
        self.api_base = api_base.rstrip("/")
        self._local = threading.local()

    def request(
        self,
        method: str,
        url: str,
        params: dict[str, object] | None = None,
        data: dict[str, object] | None = None,
        headers: dict[str, str] | None = None,
        auth: tuple[str, str] | None = None,
        timeout: float | None = None,
        allow_redirects: bool = False,
    ) -> Any:
        """Send the request to the rebased URL and remember the response headers (per thread)."""
        if self.api_base:
            url = _rebase(url, self.api_base)
        self._local.headers = {}
        response = super().request(
            method,
            url,
            params=params,
            data=data,
            headers=headers,
            auth=auth,
            timeout=timeout,
            allow_redirects=allow_redirects,
        )
        self._local.headers = {k.lower(): v for k, v in (response.headers or {}).items()}
        return response

    def last_response_headers(self) -> dict[str, str]:
        """Headers (lower-cased names) of the calling thread's last response (empty if none)."""
        headers: dict[str, str] = getattr(self._local, "headers", {})
        return headers

    def close(self) -> None:
        """Close the pooled connections."""
        if self.session is not None:
            self.session.close()


# Headers of the last response seen by the current task (each send runs in a task of its own).
_LAST_HEADERS: contextvars.ContextVar[dict[str, str] | None] = contextvars.ContextVar(
    "twilio_last_headers", default=None
)
# Connection pools closing after a synchronous close(), kept until they are.
_CLOSING: set[asyncio.Task[None]] = set()


class RebasedAsyncHttpClient(AsyncTwilioHttpClient):  # type: ignore[misc]
    """The library's aiohttp client, rebased like `RebasedHttpClient`; its connection pool is
    opened in the running event loop on first use (and again if the loop changes)."""

    def __init__(self, api_base: str = "", *, timeout: float = DEFAULT_TIMEOUT) -> None:
        super().__init__(pool_connections=False, timeout=timeout)
        self.api_base = api_base.rstrip("/")
        self._session: aiohttp.ClientSession | None = None

    def _pool(self) -> aiohttp.ClientSession:
        loop = asyncio.get_running_loop()
        if self._session is None or self._session.closed or self._session._loop is not loop:
            self._session = aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=self.timeout),
                connector=aiohttp.TCPConnector(limit=0),
            )
        return self._session

    async def request(
        self,
        method: str,
        url: str,
        params: dict[str, object] | None = None,
        data: dict[str, object] | None = None,
        headers: dict[str, str] | None = None,
        auth: tuple[str, str] | None = None,
        timeout: float | None = None,  # noqa: ASYNC109 (the library's signature)
        allow_redirects: bool = False,
    ) -> Response:
        """Send the request to the rebased URL; the response headers are kept for this task."""
        if self.api_base:
            url = _rebase(url, self.api_base)
        _LAST_HEADERS.set({})
        headers = dict(headers or {})
        if auth:
            headers["Authorization"] = aiohttp.encode_basic_auth(auth[0], auth[1])
        options: dict[str, Any] = {}
        if timeout:  # else the pool's own (None would mean no timeout at all)
            options["timeout"] = aiohttp.ClientTimeout(total=timeout)
        # A list value is one field per item, as the blocking client (requests) sends it.
        form = [
            (key, str(item))
            for key, value in (data or {}).items()
            for item in (value if isinstance(value, list) else [value])
        ]
        async with self._pool().request(
            method.upper(),
            url,
            params=params,  # type: ignore[arg-type]
            data=form or None,
            headers=headers,
            allow_redirects=allow_redirects,
            **options,
        ) as response:
            text = await response.text()
            _LAST_HEADERS.set({k.lower(): v for k, v in response.headers.items()})
            return Response(response.status, text, response.headers)

    async def close(self) -> None:
        """Close the pooled connections."""
        if self._session is not None:
            session, self._session = self._session, None
            await session.close()


class TwilioSmsSender:
    """Sends SMS (and places calls) with the official twilio client's async API, and classifies
    the outcome."""

    name = "twilio"

    def __init__(
        self,
        settings: Settings,
        *,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> None:
        self._from = settings.twilio_from
        self._service_sid = settings.twilio_messaging_service_sid
        self._token = settings.twilio_auth_token.get_secret_value()
        self.http_client = RebasedHttpClient(settings.twilio_api_base, timeout=timeout)
        self.client = Client(
            username=settings.twilio_account_sid,
            password=self._token,
            account_sid=settings.twilio_account_sid,
            http_client=self.http_client,
        )
        # Sends: the same library, asynchronous (the blocking `client` above stays for reads).
        self.async_http_client = RebasedAsyncHttpClient(settings.twilio_api_base, timeout=timeout)
        self.async_client = Client(
            username=settings.twilio_account_sid,
            password=self._token,
            account_sid=settings.twilio_account_sid,
            http_client=self.async_http_client,
        )
        # The library imports its messages resource on first use (about 40-50 ms): here,
        # when the process starts, rather than in the first page's send.
        _ = self.async_client.messages

    def close(self) -> None:
        """Release the HTTP connections (those of sends once the loop runs again)."""
        self.http_client.close()
        session = self.async_http_client._session
        if session is not None and not session.closed:
            with contextlib.suppress(RuntimeError):  # no loop left: nothing to close
                task = asyncio.get_running_loop().create_task(session.close())
                _CLOSING.add(task)
                task.add_done_callback(_CLOSING.discard)

    async def aclose(self) -> None:
        """Release every HTTP connection."""
        self.http_client.close()
        await self.async_http_client.close()

    async def send_sms(self, *, to: str, body: str, status_callback: str | None) -> SendResult:
        """Ask Twilio to send `body` to `to`; never raises for provider or network failures."""
        kwargs: dict[str, Any] = {"to": to, "body": body}
        if self._service_sid:
            kwargs["messaging_service_sid"] = self._service_sid
        else:
            kwargs["from_"] = self._from
        if status_callback:
            kwargs["status_callback"] = status_callback
        try:
            message = await self.async_client.messages.create_async(**kwargs)
        except Exception as exc:
            result = self._failure(exc, to)
        else:
            status = str(message.status or "queued")
            if status in ("failed", "undelivered", "canceled"):
                result = SendResult(
                    ok=False,
                    provider_id=message.sid,
                    provider_status=status,
                    retryable=False,
                    error=self._clean(f"message {status}: {message.error_message or ''}", to),
                    error_code=message.error_code,
                )
            else:
                result = SendResult(ok=True, provider_id=message.sid, provider_status=status)
        self._log(to, result)
        return result

    def _failure(self, exc: Exception, to: str) -> SendResult:
        """The outcome of a request the library raised on (re-raised if not Twilio's or the
        network's)."""
        if isinstance(exc, TwilioRestException):
            return self._rest_error(exc, to)
        if isinstance(exc, TimeoutError | requests.Timeout):
            return SendResult(
                ok=False, retryable=True, error=self._clean(f"timeout: {type(exc).__name__}", to)
            )
        if isinstance(exc, aiohttp.ClientError | OSError | requests.RequestException):
            return SendResult(
                ok=False,
                retryable=True,
                error=self._clean(f"network error: {type(exc).__name__}: {exc}", to),
            )
        if isinstance(exc, TwilioException):
            # Raised by the library itself (e.g. an RFC 9457 error of another API): status
            # unknown, so treat it as transient and let the worker's attempt limit end it.
            status = getattr(exc, "status", None)
            retryable = not isinstance(status, int) or status == 429 or status >= 500
            return SendResult(
                ok=False,
                retryable=retryable,
                error=self._clean(f"twilio error: {exc}", to),
                error_code=getattr(exc, "code", None),
                http_status=status if isinstance(status, int) else None,
            )
        raise exc

    async def place_call(
        self, *, to: str, twiml: str, caller: str | None, status_callback: str | None
    ) -> SendResult:
        """Ask Twilio to call `to` and play `twiml` (from `caller`, else the SMS number)."""
        kwargs: dict[str, Any] = {"to": to, "from_": caller or self._from, "twiml": twiml}
        if status_callback:
            kwargs["status_callback"] = status_callback
            kwargs["status_callback_event"] = ["initiated", "ringing", "answered", "completed"]
        try:
            call = await self.async_client.calls.create_async(**kwargs)
        except Exception as exc:
            result = self._failure(exc, to)
        else:
            result = SendResult(ok=True, provider_id=call.sid, provider_status="queued")
        if result.ok:
            log.info("call to %s placed: %s", mask(to), result.provider_id)
        else:
            log.warning("call to %s not placed: %s", mask(to), result.error)
        return result

    def _rest_error(self, exc: TwilioRestException, to: str) -> SendResult:
        status = int(exc.status)
        code = exc.code if isinstance(exc.code, int) else None
        retryable = code not in PERMANENT_CODES and (
            status == 429 or status >= 500 or code in RETRYABLE_CODES
        )
        retry_after = None
        if retryable:
            headers = _LAST_HEADERS.get() or {}
            retry_after = parse_retry_after(headers.get("retry-after"))
        return SendResult(
            ok=False,
            retryable=retryable,
            retry_after=retry_after,
            error=self._clean(f"HTTP {status} (code {code}): {exc.msg}", to),
            error_code=code,
            http_status=status,
        )

    def _clean(self, text: str, to: str) -> str:
        """Error text fit to store and log: no auth token, phone numbers masked."""
        if self._token:
            text = text.replace(self._token, "[redacted]")
        if to:
            text = text.replace(to, mask(to) or "")
        # Twilio quotes numbers in its messages ("The 'To' number +243... is not valid").
        return mask_in_text(text)[:500]

    def _log(self, to: str, result: SendResult) -> None:
        if result.ok:
            log.info(
                "SMS to %s accepted: %s (%s)", mask(to), result.provider_id, result.provider_status
            )
        elif result.retryable:
            log.warning("SMS to %s not sent, will retry: %s", mask(to), result.error)
        else:
            log.warning("SMS to %s refused: %s", mask(to), result.error)
