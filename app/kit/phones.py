"""Phone numbers: E.164 normalisation and masking (phone numbers are personal data)."""

from __future__ import annotations

import re
from functools import lru_cache

import phonenumbers


class InvalidPhone(ValueError):
    """A text that is not a valid phone number."""


@lru_cache(maxsize=4096)
def to_e164(raw: str, region: str = "CD") -> str:
    """Normalise a phone number to E.164, reading local numbers in `region`. Remembered per
    process (a few thousand numbers: the roster's and the regular senders'), as parsing one
    cost a webhook about 0.1 ms each time its sender was read; an invalid one is not kept."""
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


# A sender that phonenumbers does not take for a number, yet written as one (a range newer
# than its metadata, a foreign number without its "+"): answered as it is written. Shorter,
# it is a short code or a typo; with letters, spaces only or nothing, it is no number.
_DIALLABLE = re.compile(r"\+?\d{6,15}")


def reply_number(raw: str, region: str = "CD") -> str | None:
    """The number a reply to the sender `raw` goes to: its E.164 form, or `raw` as written
    when it is digits a number could be; None when it is no number (empty, spaces, a name,
    a short code), which nothing can be sent to."""
    found = try_e164(raw, region)
    if found is not None:
        return found
    text = (raw or "").strip()
    return text if _DIALLABLE.fullmatch(text) else None


# What a masked number keeps: its last digits (and "+" with the country code when it has one):
# enough to tell two numbers apart in a list, too few to call anyone.
KEPT_DIGITS = 3


def mask(phone: str | None) -> str | None:
    """Mask all but the last digits of a number: +243810000101 → +243••••••101."""
    if not phone:
        return phone
    if len(phone) <= 8:
        return "•" * max(len(phone) - 2, 0) + phone[-2:]
    head = 4 if phone.startswith("+") else 0
    return phone[:head] + "•" * (len(phone) - head - KEPT_DIGITS) + phone[-KEPT_DIGITS:]


# A text is read by phonenumbers' matcher at the VALID leniency: a number written with any
# separators ("081.000.01.09", "+243/810 000 109", "(081) 000-0109") is found, while dates,
# times, amounts ("1 500 000 FC") and references (K-2F7Q) are not valid numbers and stay.
# POSSIBLE would take dates and amounts for numbers; STRICT_GROUPING misses dotted numbers.
_LENIENCY = phonenumbers.Leniency.VALID
# The matcher reads a copy of the same length where URL encoding is undone: "%2B" is a "+",
# "%20" and a "+" after a letter or digit (a form-encoded space: "Body=appel+081+000+0109")
# are spaces.
_ENCODED = re.compile(r"%2[Bb]|%20|(?<=\w)\+")
# "0.123456789" is a valid number for the matcher, and a decimal for a reader.
_DECIMAL = re.compile(r"-?\d{1,2}[.,]\d+")
# Beyond the matcher: a run of 9 to 15 digits, maybe after + (or %2B), maybe grouped by
# spaces or dashes, is masked even when it is no valid number (a mistyped or foreign one);
# not a part of a word, a decimal or a date-time ("0.123456789", "2024-05-01 12:00").
_DIGIT_RUN = re.compile(r"(?<![\w.•:])(?:\+|%2[Bb])?\d(?:[ \-]?\d){8,14}(?![\w•:]|\.\d)")
_MIN_DIGITS = 9


def _decoded(match: re.Match[str]) -> str:
    return "  +" if match.group().upper() == "%2B" else " " * len(match.group())


def _mask_run(match: re.Match[str]) -> str:
    text = match.group()
    plus = "+" if text.startswith(("+", "%2B", "%2b")) else ""
    digits = re.sub(r"\D", "", text.removeprefix("%2B").removeprefix("%2b"))
    return mask(plus + digits) or ""


@lru_cache(maxsize=4096)  # lists show the same bodies again and again; matching is slow
def mask_in_text(text: str, region: str = "CD") -> str:
    """`text` with every phone number in it masked, however it is written or grouped.

    The one masking of free text (SMS bodies, notes, errors, logs): a number is replaced by
    its masked E.164 form, which keeps no more than its last three digits.
    """
    if sum(c.isdigit() for c in text) < _MIN_DIGITS:
        return text
    readable = _ENCODED.sub(_decoded, text)
    pieces: list[str] = []
    end = 0
    for found in phonenumbers.PhoneNumberMatcher(readable, region, leniency=_LENIENCY):
        if _DECIMAL.fullmatch(found.raw_string):
            continue
        start = found.start
        if readable[start] == "+" and text[start] != "+":  # "%2B" decoded: mask it too
            start -= 2
        e164 = phonenumbers.format_number(found.number, phonenumbers.PhoneNumberFormat.E164)
        pieces += [text[end:start], mask(e164) or ""]
        end = found.end
    pieces.append(text[end:])
    return _DIGIT_RUN.sub(_mask_run, "".join(pieces))
