"""What a sender reports back about one attempt."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class SendResult:
    """Outcome of one send attempt.

    ok: the provider accepted it. Otherwise `retryable` tells a transient failure (retry with
    backoff, at the earliest after `retry_after` seconds) from a permanent one (fail at once).
    """

    ok: bool
    provider_id: str | None = None
    provider_status: str | None = None
    retryable: bool = False
    retry_after: float | None = None
    error: str | None = None
    error_code: int | None = None
    http_status: int | None = None
    # The channel was known down, so nothing was sent; `every_channel_down`: nor is any other
    # channel of the delivery's route up (the SMS waits for one to come back).
    channel_down: bool = False
    every_channel_down: bool = False
