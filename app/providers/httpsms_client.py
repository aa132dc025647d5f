"""Sending through httpSMS's API: `POST {api_url}/v1/messages/send` with `x-api-key`.

httpSMS has no official Python client; its send API is one JSON request, so httpx (ours
already) does it. The phone that sends is the one registered with the `from` number: the
channel's first number.
"""

from __future__ import annotations

import logging
from typing import Any

import httpx

from app.kit.http import parse_retry_after
from app.kit.phones import mask
from app.outbox.types import SendResult

log = logging.getLogger(__name__)

DEFAULT_API_URL = "https://api.httpsms.com"
TIMEOUT = 15.0


class HttpSmsSender:
    """Hands SMS to httpSMS, which pushes them to the channel's phone."""

    def __init__(self, options: dict[str, Any], secrets: dict[str, str], sender: str) -> None:
        self.api_url = str(options.get("api_url") or DEFAULT_API_URL).rstrip("/")
        self.sender = sender
        self._api_key = secrets.get("api_key", "")
        self._http = httpx.AsyncClient(timeout=TIMEOUT)

    async def send_sms(self, *, to: str, body: str, message_id: str) -> SendResult:
        """Queue `body` for `to`; never raises for provider or network failures."""
        if not self.sender or not self._api_key:
            return SendResult(ok=False, error="the channel needs a number and an api_key")
        try:
            response = await self._http.post(
                f"{self.api_url}/v1/messages/send",
                headers={"x-api-key": self._api_key},
                json={"from": self.sender, "to": to, "content": body, "request_id": message_id},
            )
        except httpx.TimeoutException as exc:
            return self._failed(f"timeout: {type(exc).__name__}", to, True, None, None)
        except httpx.HTTPError as exc:
            return self._failed(f"network error: {type(exc).__name__}", to, True, None, None)
        status = response.status_code
        if status >= 300:
            retryable = status == 429 or status >= 500
            after = parse_retry_after(response.headers.get("retry-after")) if retryable else None
            return self._failed(
                f"HTTP {status}: {response.text[:200]}", to, retryable, status, after
            )
        try:
            provider_id = str(response.json()["data"]["id"])
        except (ValueError, KeyError, TypeError):
            # Accepted, but we cannot tell which message it is: its statuses will not match.
            return SendResult(ok=True, provider_id=None, provider_status="accepted")
        log.info("SMS to %s queued on httpSMS: %s", mask(to), provider_id)
        return SendResult(ok=True, provider_id=provider_id, provider_status="accepted")

    def _failed(
        self, error: str, to: str, retryable: bool, status: int | None, after: float | None
    ) -> SendResult:
        clean = error.replace(self._api_key, "[redacted]") if self._api_key else error
        clean = clean.replace(to, mask(to) or "")[:500]
        log.warning("SMS to %s not handed to httpSMS: %s", mask(to), clean)
        return SendResult(
            ok=False, retryable=retryable, retry_after=after, error=clean, http_status=status
        )

    async def aclose(self) -> None:
        """Close the HTTP connections."""
        await self._http.aclose()
