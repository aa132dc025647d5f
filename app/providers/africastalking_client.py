"""Sending through Africa's Talking with its official SDK, `africastalking`.

The SDK's SMS service is built per channel (not its module-level singleton, which one set of
credentials would own), and its blocking `requests` call runs in a thread. `api_url` points
it elsewhere (a stand-in in the tests; the sandbox is `https://api.sandbox.africastalking.com`).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import requests
from africastalking.Service import AfricasTalkingException
from africastalking.SMS import SMSService

from app.kit.phones import mask
from app.providers.africastalking import ACCEPTED_CODES, PERMANENT_CODES
from app.providers.types import SendResult

log = logging.getLogger(__name__)

TIMEOUT = 15


class AfricasTalkingSender:
    """Hands SMS to Africa's Talking for one channel (username, api_key, sender id)."""

    def __init__(self, options: dict[str, Any], secrets: dict[str, str], sender: str) -> None:
        self._api_key = secrets.get("api_key", "")
        self.username = str(options.get("username") or "")
        self.sender = sender or None
        self.service = SMSService(self.username, self._api_key)
        if options.get("api_url"):
            self.service._baseUrl = str(options["api_url"]).rstrip("/") + "/version1"

    async def send_sms(self, *, to: str, body: str, message_id: str) -> SendResult:
        """Send `body` to `to`; never raises for provider or network failures."""
        if not self.username or not self._api_key:
            return SendResult(ok=False, error="the channel needs a username and an api_key")
        return await asyncio.get_running_loop().run_in_executor(None, self._send, to, body)

    def _send(self, to: str, body: str) -> SendResult:
        try:
            answer = self.service.send(body, [to], sender_id=self.sender, timeout=TIMEOUT)
        except (AfricasTalkingException, requests.RequestException, ValueError) as exc:
            # The SDK keeps no HTTP status: unknown, so transient (the attempt limit ends it).
            return self._failed(f"{type(exc).__name__}: {exc}", to, True)
        try:
            recipient = answer["SMSMessageData"]["Recipients"][0]
            code = int(recipient["statusCode"])
        except (KeyError, IndexError, TypeError, ValueError):
            return self._failed(f"unexpected answer: {str(answer)[:200]}", to, True)
        if code not in ACCEPTED_CODES:
            status = str(recipient.get("status", ""))
            return self._failed(f"refused: {code} {status}", to, code not in PERMANENT_CODES)
        provider_id = str(recipient.get("messageId") or "") or None
        log.info("SMS to %s accepted by Africa's Talking: %s", mask(to), provider_id)
        return SendResult(ok=True, provider_id=provider_id, provider_status="accepted")

    def _failed(self, error: str, to: str, retryable: bool) -> SendResult:
        clean = error.replace(self._api_key, "[redacted]") if self._api_key else error
        clean = clean.replace(to, mask(to) or "")[:500]
        log.warning("SMS to %s not handed to Africa's Talking: %s", mask(to), clean)
        return SendResult(ok=False, retryable=retryable, error=clean)

    async def aclose(self) -> None:
        """Nothing kept open (the SDK opens a connection per request)."""
