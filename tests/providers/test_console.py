"""The console provider (the default): each SMS written to the log, number masked; and the
choice of the sender by the settings."""

from __future__ import annotations

import logging

import pytest

from app.kit.config import Settings
from app.main import create_app
from app.providers.configured import make_sms_sender
from app.providers.console import ConsoleSmsSender
from app.providers.twilio_client import TwilioSmsSender
from tests.harness.gateway import running

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


@pytest.mark.usefixtures("engine")
async def test_a_deployment_left_on_the_console_is_told_its_sms_are_not_sent(
    settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    """Outside the demo, the console provider means the channel 'twilio' writes its SMS
    to the log: a deployment on handsets alone that kept the default would read pages as
    sent when its handsets are down. The start says so; the demo's does not."""
    for demo, warned in ((False, True), (True, False)):
        caplog.clear()
        app = create_app(settings.model_copy(update={"sms_provider": "console", "demo": demo}))
        with caplog.at_level(logging.WARNING, logger="kengele"):
            async with running(app):
                pass
        assert ("KENGELE_SMS_PROVIDER=console" in caplog.text) is warned
