"""What the senders of HTTP APIs share: one connection pool, errors classified and cleaned."""

from __future__ import annotations

import logging
from typing import Any

import httpx

from app.kit.http import parse_retry_after
from app.kit.phones import mask
from app.providers.types import SendResult

log = logging.getLogger(__name__)

TIMEOUT = 15.0


class HttpApiSender:
    """Base of a sender that calls a provider's HTTP API with httpx."""

    provider = "the provider"

    def __init__(self, secret: str, *hidden: str) -> None:
        self._secret = secret
        # What a provider's answer may quote back and no error may keep: the secret sent
        # with each request, and any other (`hidden`) that travels in it.
        self._hidden = sorted({s for s in (secret, *hidden) if s}, key=len, reverse=True)
        self._http = httpx.AsyncClient(timeout=TIMEOUT)

    async def _request(
        self, to: str, method: str, url: str, **kwargs: Any
    ) -> httpx.Response | SendResult:
        """The provider's 2xx answer, or the failed SendResult of an error (network, status)."""
        try:
            response = await self._http.request(method, url, **kwargs)
        except httpx.TimeoutException as exc:
            return self._failed(f"timeout: {type(exc).__name__}", to, True)
        except httpx.HTTPError as exc:
            return self._failed(f"network error: {type(exc).__name__}", to, True)
        status = response.status_code
        if status >= 300:
            retryable = status == 429 or status >= 500
            after = parse_retry_after(response.headers.get("retry-after")) if retryable else None
            # More than is kept: a secret quoted across the cut is removed whole, not cut.
            error = f"HTTP {status}: {response.text[:2000]}"
            return self._failed(error, to, retryable, status, after)
        return response

    def _failed(
        self,
        error: str,
        to: str,
        retryable: bool,
        status: int | None = None,
        after: float | None = None,
    ) -> SendResult:
        """A failed send, its text free of the secrets and of the full number."""
        clean = error
        for secret in self._hidden:
            clean = clean.replace(secret, "[redacted]")
        clean = clean.replace(to, mask(to) or "")[:500]
        log.warning("SMS to %s not handed to %s: %s", mask(to), self.provider, clean)
        return SendResult(
            ok=False, retryable=retryable, retry_after=after, error=clean, http_status=status
        )

    async def aclose(self) -> None:
        """Close the HTTP connections."""
        await self._http.aclose()
