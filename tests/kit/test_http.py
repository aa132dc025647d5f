"""Retry-After as the SMS and webhook senders read it."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from app.kit.http import parse_retry_after

NOW = datetime(2025, 1, 1, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("header", "seconds"),
    [
        ("5", 5.0),
        ("1.5", 1.5),
        ("-3", 0.0),
        ("Wed, 01 Jan 2025 12:00:10 GMT", 10.0),
        ("Wed, 01 Jan 2025 11:00:00 GMT", 0.0),
        ("²", None),  # passes str.isdigit() but is no number
        ("nan", None),
        ("soon", None),
        ("", None),
        (None, None),
    ],
)
def test_parse_retry_after(header: str | None, seconds: float | None) -> None:
    assert parse_retry_after(header, now=NOW) == seconds


def test_cap() -> None:
    assert parse_retry_after("86400", cap=3600) == 3600
