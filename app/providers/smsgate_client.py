"""Sending through SMS Gateway for Android with its official client, `android-sms-gateway`.

The package fits: its async client speaks both APIs the app offers with one call (the
device's local server, `http://<phone>:8080`, and the cloud or private server,
`https://<host>/3rdparty/v1`: both take `POST {base}/messages` with Basic auth), takes our
own message id (so the app's status events name our delivery), lets the SIM be chosen, runs
on httpx (already ours), and maps HTTP errors to exceptions that carry the status code.
"""

from __future__ import annotations

import logging
from typing import Any

import httpx
from android_sms_gateway import AsyncAPIClient, Message, TextMessage
from android_sms_gateway.ahttp import HttpxAsyncHttpClient
from android_sms_gateway.enums import ProcessState
from android_sms_gateway.errors import APIError

from app.kit.phones import mask
from app.providers.types import SendResult

log = logging.getLogger(__name__)

TIMEOUT = 15.0
# The app keeps queued messages this long: a page older than an hour is news, not an alert.
TTL_SECONDS = 3600
# Priority ≥ 100 skips the app's own delays and limits: pages must not wait behind them.
PRIORITY = 100


class SmsGateSender:
    """Hands SMS to one handset (or its server) through the official client."""

    def __init__(self, options: dict[str, Any], secrets: dict[str, str]) -> None:
        self.api_url = str(options.get("api_url") or "").rstrip("/")
        self.sim = int(options["sim"]) if options.get("sim") else None
        self.device_id = str(options.get("device_id") or "") or None
        self._password = secrets.get("password", "")
        username = str(options.get("username") or "")
        self._http = httpx.AsyncClient(timeout=TIMEOUT)
        self.client = None
        if self.api_url and username and self._password:
            self.client = AsyncAPIClient(
                username,
                self._password,
                base_url=self.api_url,
                http_client=HttpxAsyncHttpClient(self._http),
            )

    async def send_sms(self, *, to: str, body: str, message_id: str) -> SendResult:
        """Queue `body` for `to` on the handset; never raises for provider or network failures."""
        if self.client is None:
            error = "the channel needs api_url, username and password to send"
            return SendResult(ok=False, retryable=False, error=error)
        message = Message(
            phone_numbers=[to],
            text_message=TextMessage(text=body),
            sim_number=self.sim,
            with_delivery_report=True,
            ttl=TTL_SECONDS,
            id=message_id,
            device_id=self.device_id,
            priority=PRIORITY,
        )
        try:
            state = await self.client.send(message)
        except APIError as exc:
            status = exc.status_code
            retryable = status is None or status == 429 or status >= 500
            # The library's text is httpx's, which quotes the URL with any user:password in
            # it: the handset's own answer says what was wrong.
            answer = exc.response.get("message") if isinstance(exc.response, dict) else None
            error = f"HTTP {status}: {answer}" if answer else f"HTTP {status}"
            return self._failed(error, to, retryable, status)
        except httpx.TimeoutException as exc:
            return self._failed(f"timeout: {type(exc).__name__}", to, True, None)
        except (httpx.HTTPError, ValueError, KeyError) as exc:
            return self._failed(f"network or answer error: {type(exc).__name__}", to, True, None)
        if state.state == ProcessState.Failed:
            reason = next((r.error for r in state.recipients if r.error), None) or "failed"
            return SendResult(
                ok=False, provider_id=state.id, retryable=False, error=f"refused: {reason}"
            )
        log.info("SMS to %s queued on the handset: %s", mask(to), state.id)
        return SendResult(ok=True, provider_id=state.id, provider_status="accepted")

    def _failed(self, error: str, to: str, retryable: bool, status: int | None) -> SendResult:
        clean = error.replace(self._password, "[redacted]") if self._password else error
        clean = clean.replace(to, mask(to) or "")[:500]
        log.warning("SMS to %s not handed to the handset: %s", mask(to), clean)
        return SendResult(ok=False, retryable=retryable, error=clean, http_status=status)

    async def aclose(self) -> None:
        """Close the HTTP connections."""
        await self._http.aclose()
