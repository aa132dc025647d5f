"""The console provider, the default one (`KENGELE_SMS_PROVIDER=console`): each SMS is written
to the log, its number masked, instead of being sent. For demos and first tries."""

from __future__ import annotations

import logging
import uuid

from app.kit.phones import mask
from app.providers.types import SendResult

log = logging.getLogger(__name__)


class ConsoleSmsSender:
    """The demo provider: writes each SMS to the log instead of sending it."""

    name = "console"

    async def send_sms(self, *, to: str, body: str, status_callback: str | None) -> SendResult:
        """Log the SMS and report it accepted."""
        log.info("SMS to %s: %s", mask(to), body)
        return SendResult(ok=True, provider_id=f"console-{uuid.uuid4()}", provider_status="sent")

    def close(self) -> None:
        """Nothing to release."""
