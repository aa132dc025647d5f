"""The SMS sender of the settings (`KENGELE_SMS_PROVIDER`): Twilio, or the console."""

from __future__ import annotations

from app.kit.config import Settings
from app.providers.console import ConsoleSmsSender
from app.providers.twilio_client import TwilioSmsSender


def make_sms_sender(settings: Settings) -> TwilioSmsSender | ConsoleSmsSender:
    """The sender of the configured provider."""
    if settings.sms_provider == "twilio":
        return TwilioSmsSender(settings, timeout=settings.sms_timeout_seconds)
    return ConsoleSmsSender()
