"""Phone numbers: E.164 normalisation and masking (phone numbers are personal data)."""

from __future__ import annotations

import re

import phonenumbers


class InvalidPhone(ValueError):
    """A text that is not a valid phone number."""


def to_e164(raw: str, region: str = "CD") -> str:
    """Normalise a phone number to E.164, reading local numbers in `region`."""
    text = (raw or "").strip()
    if not text:
        raise InvalidPhone("empty phone number")
    if text.startswith("00"):
        text = "+" + text[2:]
    try:
        parsed = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException as exc:
        raise InvalidPhone(f"not a phone number: {mask(text)}") from exc
    if not phonenumbers.is_valid_number(parsed):
        raise InvalidPhone(f"not a valid phone number: {mask(text)}")
    return str(phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164))


def try_e164(raw: str, region: str = "CD") -> str | None:
    """E.164 form of `raw`, or None when it is not a phone number."""
    try:
        return to_e164(raw, region)
    except InvalidPhone:
        return None


def mask(phone: str | None) -> str | None:
    """Mask the middle of a number: +243810000101 → +243•••••0101."""
    if not phone:
        return phone
    if len(phone) <= 8:
        return "•" * max(len(phone) - 2, 0) + phone[-2:]
    head = 4 if phone.startswith("+") else 3
    return phone[:head] + "•" * (len(phone) - head - 4) + phone[-4:]


# A number written in a text: 9 to 15 digits, maybe after + (or %2B, URL-encoded), maybe
# grouped by spaces or dashes ("+243 81 000 0101", "0810000101", "081-000-0101"); not a
# part of a decimal, a time or a date-time ("0.123456789", "2024-05-01 12:00").
_IN_TEXT = re.compile(r"(?<![\w.•:])(?:\+|%2[Bb])?\d(?:[ \-]?\d){8,14}(?![\w•:]|\.\d)")


def _mask_match(match: re.Match[str]) -> str:
    text = match.group()
    plus = "+" if text.startswith(("+", "%2B", "%2b")) else ""
    digits = re.sub(r"\D", "", text.removeprefix("%2B").removeprefix("%2b"))
    return mask(plus + digits) or ""


def mask_in_text(text: str) -> str:
    """`text` with every phone number in it masked (reporters write call-back numbers)."""
    return _IN_TEXT.sub(_mask_match, text)
