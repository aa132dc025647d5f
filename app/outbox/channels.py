"""The SMS sender of the worker: hands a delivery to the provider of its channel."""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Mapping
from typing import Any, Protocol

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.channels import service as channel_service
from app.channels.models import TWILIO, Channel
from app.channels.service import down_for_failures, inbound_path
from app.kit.config import Settings
from app.kit.phones import mask
from app.outbox import health, voice
from app.outbox.models import Delivery
from app.providers.africastalking_client import AfricasTalkingSender
from app.providers.http_channel_client import HttpChannelSender
from app.providers.httpsms_client import HttpSmsSender
from app.providers.smsgate_client import SmsGateSender
from app.providers.types import SendResult

log = logging.getLogger(__name__)

STATUS_CALLBACK_PATH = "/webhooks/twilio/status"


def message_id(delivery: Delivery) -> str:
    """Our id of one send of an SMS, given to the providers that take one (SMS Gateway for
    Android's message id, which its status events name; httpSMS's `request_id`; an
    aggregator's `{id}`): `kengele-<delivery id>-<attempt>`, the attempt being the claim's
    (`attempts`, counted up by each claim and never reset). A page sent again (by the same
    handset after a failover and back, or after a lease ran out) is another message: a late
    report of an earlier send names that send, not this one. Digits, letters and dashes, at
    most 29 characters (two 32-bit integers): the app's server takes ids of up to 36."""
    return f"kengele-{delivery.id}-{delivery.attempts}"


class LegacySender(Protocol):
    """The provider of the settings (Twilio or the console)."""

    async def send_sms(self, *, to: str, body: str, status_callback: str | None) -> SendResult:
        """Hand one SMS to the provider."""
        ...


class HandsetSender(Protocol):
    """A provider client of a channel (SMS Gateway for Android, httpSMS, an aggregator)."""

    async def send_sms(self, *, to: str, body: str, message_id: str) -> SendResult:
        """Hand one SMS to the provider under our `message_id`."""
        ...

    async def aclose(self) -> None:
        """Close its connections."""
        ...


class ChannelSender:
    """Sends each SMS by its delivery's channel; a channel known down sends nothing, except
    one down for its failed sends: tried when no other channel of the route is up (the last
    way out), and once per `channel_probe_seconds` as a probe (half-open) otherwise; the
    success of either brings it back up (app.outbox.health.came_back)."""

    def __init__(
        self,
        settings: Settings,
        sessionmaker: async_sessionmaker[AsyncSession],
        legacy: LegacySender,
    ) -> None:
        self.settings = settings
        self.sessionmaker = sessionmaker
        self.legacy = legacy
        # One client per channel, rebuilt when its options change.
        self._clients: dict[str, tuple[Any, HandsetSender]] = {}
        # When this process last let a probe through each channel down for its failures
        # (time.monotonic): the SMS sent at once by other tasks do not all probe.
        self._probed: dict[str, float] = {}

    async def send(
        self, delivery: Delivery, channels: Mapping[str, Channel] | None = None
    ) -> SendResult:
        """Send one SMS delivery by `delivery.via` (None: the configured provider).

        `channels`: every channel by name, as read when the delivery was claimed (the worker
        reads them once per claim); None: read them now.
        """
        if delivery.via is None:
            return await self._legacy(delivery)
        if channels is None:
            async with self.sessionmaker() as session:
                channels = {c.name: c for c in await channel_service.list_all(session)}
        channel = channels.get(delivery.via)
        if channel is None:
            # Removed since the SMS was routed: as one down, while its route has another
            # channel (the next, or wrapping round to an earlier one, else it waits for one);
            # dead when none of its route is left (a page then goes to the next liaison).
            left = [c for n in delivery.route if (c := channels.get(n)) is not None]
            return SendResult(
                ok=False,
                retryable=bool(left),
                error=f"channel {delivery.via} is removed",
                channel_down=bool(left),
                every_channel_down=bool(left) and not any(c.active and not c.down for c in left),
            )
        others_up = False
        probe = False
        if channel.down or not channel.active:
            for name in delivery.route:
                other = channels.get(name)
                others_up |= bool(other and other.active and not other.down)
            if others_up and channel.active and down_for_failures(channel):
                async with self.sessionmaker() as session:
                    probe = await health.probe_due(session, self.settings, channel)
        if probe:
            last = self._probed.get(channel.name)
            probe = last is None or time.monotonic() - last >= self.settings.channel_probe_seconds
            if probe:
                self._probed[channel.name] = time.monotonic()
                log.info("probing channel %s (down for its failed sends)", channel.name)
        # Turned off while its handset is fixed, a channel is as one down: the SMS goes by the
        # next channel of its route, or waits for this one (a receipt goes back by the handset
        # it came through).
        off = not channel.active
        if off or (channel.down and not (down_for_failures(channel) and (probe or not others_up))):
            return SendResult(
                ok=False,
                retryable=True,
                error=f"channel {channel.name} is {'turned off' if off else 'down'}",
                channel_down=True,
                every_channel_down=not others_up,
            )
        return await self._by_kind(channel, delivery)

    async def call(self, delivery: Delivery) -> SendResult:
        """Place a call reading `delivery.body` in French, by Twilio (the `twilio` channel's
        credentials, the settings'), its status reported to CALL_STATUS_PATH."""
        async with self.sessionmaker() as session:
            channel = await voice.voice_channel(session)
        place_call = getattr(self.legacy, "place_call", None)
        if channel is None or place_call is None:
            return SendResult(ok=False, error="no Twilio channel with voice on")
        caller = str(channel.options.get("voice_from") or "") or None
        result: SendResult = await place_call(
            to=delivery.recipient,
            twiml=voice.twiml(delivery.body),
            caller=caller,
            status_callback=self.settings.public_url + voice.CALL_STATUS_PATH,
        )
        return result

    async def _by_kind(self, channel: Channel, delivery: Delivery) -> SendResult:
        if channel.kind == "twilio" and channel.name == TWILIO:
            return await self._legacy(delivery)
        if channel.kind in ("smsgate", "httpsms", "http", "africastalking"):
            return await self._client(channel).send_sms(
                to=delivery.recipient, body=delivery.body, message_id=message_id(delivery)
            )
        if channel.kind == "console":
            log.info("SMS to %s by %s: %s", mask(delivery.recipient), channel.name, delivery.body)
            return SendResult(
                ok=True, provider_id=f"console-{uuid.uuid4()}", provider_status="sent"
            )
        return SendResult(ok=False, error=f"channel kind {channel.kind} cannot send yet")

    async def _legacy(self, delivery: Delivery) -> SendResult:
        callback = self.settings.public_url + STATUS_CALLBACK_PATH
        return await self.legacy.send_sms(
            to=delivery.recipient, body=delivery.body, status_callback=callback
        )

    def _client(self, channel: Channel) -> HandsetSender:
        config = (channel.kind, dict(channel.options), dict(channel.secrets), channel.numbers)
        cached = self._clients.get(channel.name)
        if cached is None or cached[0] != config:
            # The old client's connections close with it; an in-flight send keeps its own.
            client: HandsetSender
            first = channel.numbers[0] if channel.numbers else ""
            if channel.kind == "smsgate":
                client = SmsGateSender(channel.options, channel.secrets)
            elif channel.kind == "httpsms":
                client = HttpSmsSender(channel.options, channel.secrets, first)
            elif channel.kind == "africastalking":
                client = AfricasTalkingSender(channel.options, channel.secrets, first)
            else:
                secret = channel.secrets.get("secret", "")
                dlr_url = self.settings.public_url + inbound_path("http", channel.name, secret)
                client = HttpChannelSender(channel.options, channel.secrets, first, dlr_url)
            cached = (config, client)
            self._clients[channel.name] = cached
        return cached[1]

    async def aclose(self) -> None:
        """Close every provider's connections."""
        for _, client in self._clients.values():
            await client.aclose()
        self._clients.clear()
        aclose = getattr(self.legacy, "aclose", None)
        close = getattr(self.legacy, "close", None)
        if aclose is not None:
            await aclose()
        elif close is not None:
            close()
