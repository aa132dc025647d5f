"""Sending through httpSMS's API: `POST {api_url}/v1/messages/send` with `x-api-key`.

httpSMS has no official Python client; its send API is one JSON request, so httpx (ours
already) does it. The phone that sends is the one registered with the `from` number: the
channel's first number.
"""

from __future__ import annotations

import logging
from typing import Any

import httpx

from app.kit.phones import mask
from app.providers.http_api import HttpApiSender
from app.providers.types import SendResult

log = logging.getLogger(__name__)

DEFAULT_API_URL = "https://api.httpsms.com"


class HttpSmsSender(HttpApiSender):
    """Hands SMS to httpSMS, which pushes them to the channel's phone."""

    provider = "httpSMS"

    def __init__(self, options: dict[str, Any], secrets: dict[str, str], sender: str) -> None:
        super().__init__(secrets.get("api_key", ""))
        self.api_url = str(options.get("api_url") or DEFAULT_API_URL).rstrip("/")
        self.sender = sender

    async def send_sms(self, *, to: str, body: str, message_id: str) -> SendResult:
        """Queue `body` for `to`; never raises for provider or network failures."""
        if not self.sender or not self._secret:
            return SendResult(ok=False, error="the channel needs a number and an api_key")
        answer = await self._request(
            to,
            "POST",
            f"{self.api_url}/v1/messages/send",
            headers={"x-api-key": self._secret},
            json={"from": self.sender, "to": to, "content": body, "request_id": message_id},
        )
        if not isinstance(answer, httpx.Response):
            return answer
        try:
            provider_id = str(answer.json()["data"]["id"])
        except (ValueError, KeyError, TypeError):
            # Accepted, but we cannot tell which message it is: its statuses will not match.
            return SendResult(ok=True, provider_id=None, provider_status="accepted")
        log.info("SMS to %s queued on httpSMS: %s", mask(to), provider_id)
        return SendResult(ok=True, provider_id=provider_id, provider_status="accepted")
