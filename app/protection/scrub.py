"""Finding one number in free text, however it is written, to remove it."""

from __future__ import annotations

import re
from typing import Any

import phonenumbers

ERASED = "[erased]"
# Between the digits of a number as people write them: spaces, dashes, dots, slashes, brackets.
_SEP = r"[\s\-./()]*"


def number_pattern(e164: str) -> re.Pattern[str]:
    """Every writing of `e164`: +243 810 000 101, 00243…, 243810000101, 0810-000-101."""
    parsed = phonenumbers.parse(e164)
    national = phonenumbers.national_significant_number(parsed)
    country = _SEP.join(str(parsed.country_code))
    prefix = rf"(?:(?:\+|%2[Bb]|00)?{_SEP}{country}{_SEP}|0{_SEP})?"
    return re.compile(rf"(?<![\d•]){prefix}{_SEP.join(national)}(?!\d)")


def scrub_text(text: str | None, pattern: re.Pattern[str]) -> str | None:
    """`text` with every copy of the number replaced by [erased]."""
    if not text or sum(c.isdigit() for c in text) < 6:
        return text
    return pattern.sub(ERASED, text)


def scrub_document(document: Any, pattern: re.Pattern[str]) -> Any:
    """A JSON document with the number removed from every string in it."""
    if isinstance(document, str):
        return scrub_text(document, pattern)
    if isinstance(document, list):
        return [scrub_document(item, pattern) for item in document]
    if isinstance(document, dict):
        return {key: scrub_document(value, pattern) for key, value in document.items()}
    return document
