"""The console provider (the default): each SMS written to the log, number masked; and the
choice of the sender by the settings."""

from __future__ import annotations

import logging

import pytest

from app.kit.config import Settings
from app.providers.configured import make_sms_sender
from app.providers.console import ConsoleSmsSender
from app.providers.twilio_client import TwilioSmsSender

TO = "+243810000101"


async def test_console_sender(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="app.providers.console"):
        result = await ConsoleSmsSender().send_sms(to=TO, body="Alerte 7", status_callback=None)

    assert result.ok and result.provider_id is not None
    assert result.provider_id.startswith("console-")
    assert "SMS to +243••••••101: Alerte 7" in caplog.text and TO not in caplog.text


def test_make_sms_sender_follows_the_setting() -> None:
    assert isinstance(make_sms_sender(Settings(sms_provider="console")), ConsoleSmsSender)
    assert isinstance(make_sms_sender(Settings(sms_provider="twilio")), TwilioSmsSender)
