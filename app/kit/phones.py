"""Phone numbers: E.164 normalisation and masking (phone numbers are personal data)."""

from __future__ import annotations

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
