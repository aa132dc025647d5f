"""Sending through a generic HTTP channel: the request its options describe, with httpx."""

from __future__ import annotations

import logging
from typing import Any

import httpx

from app.kit.phones import mask
from app.providers.http_api import HttpApiSender
from app.providers.http_channel import HttpConfig, at_path, fill, sends_our_id
from app.providers.types import SendResult

log = logging.getLogger(__name__)


class HttpChannelSender(HttpApiSender):
    """Hands SMS to an aggregator as its channel's options say."""

    provider = "the aggregator"

    def __init__(
        self, options: dict[str, Any], secrets: dict[str, str], sender: str, dlr_url: str
    ) -> None:
        # The channel's own secret travels too: in the {dlr_url} it gives the aggregator.
        self._token2 = secrets.get("token2", "")
        super().__init__(secrets.get("token", ""), secrets.get("secret", ""), self._token2)
        self.config = HttpConfig.of(options)
        self.sender = sender
        self.dlr_url = dlr_url
        self._sends_our_id = sends_our_id(self.config)

    async def send_sms(self, *, to: str, body: str, message_id: str) -> SendResult:
        """Send `body` to `to`; never raises for provider or network failures."""
        config = self.config
        if not config.out_url:
            return SendResult(ok=False, error="the channel has no out_url: it cannot send")
        values = {
            "to": to,
            "text": body,
            "from": self.sender,
            "id": message_id,
            "dlr_url": self.dlr_url,
            "token": self._secret,
            "token2": self._token2,
        }
        fields = {name: fill(template, values) for name, template in config.out_fields}
        headers = {name: fill(template, values) for name, template in config.out_headers}
        as_json = config.out_format == "json"
        payload: dict[str, Any] = {"json": fields} if as_json else {"data": fields}
        response = await self._request(
            to, config.out_method, config.out_url, headers=headers, **payload
        )
        if not isinstance(response, httpx.Response):
            return response
        try:
            answer: Any = response.json()
        except ValueError:
            answer = None
        if config.out_ok is not None:
            path, wanted = config.out_ok
            got = at_path(answer, path)
            if str(got).lower() != wanted.lower():
                return self._failed(f"refused: {path} is {got!r}", to, False, response.status_code)
        provider_id = at_path(answer, config.out_id_path) if config.out_id_path else None
        if provider_id is None and self._sends_our_id:
            # The aggregator was given our id ({id}): its delivery reports name the message
            # by it, so it is the id they are matched by.
            provider_id = message_id
        log.info("SMS to %s handed to the aggregator: %s", mask(to), provider_id)
        return SendResult(
            ok=True,
            provider_id=str(provider_id) if provider_id is not None else None,
            provider_status="accepted",
        )
