"""GSM 03.38 (GSM-7): what fits in one SMS segment on a basic phone."""

from __future__ import annotations

from app.kit.text import ascii_fold

BASIC = (
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
EXTENSION = "^{}\\[~]|€\f"
_BASIC = frozenset(BASIC)
_EXTENSION = frozenset(EXTENSION)
SINGLE_SEGMENT = 160


def is_gsm7(text: str) -> bool:
    """Whether every character of `text` is in the GSM-7 alphabet (basic or extension)."""
    return all(ch in _BASIC or ch in _EXTENSION for ch in text)


def septets(text: str) -> int:
    """Length in 7-bit units: extension characters take two."""
    return sum(2 if ch in _EXTENSION else 1 for ch in text)


def fits_one_segment(text: str) -> bool:
    """Whether `text` goes out as one GSM-7 SMS segment."""
    return is_gsm7(text) and septets(text) <= SINGLE_SEGMENT


def to_gsm7(text: str) -> str:
    """Fold `text` into plain GSM-7: accents dropped, other characters replaced by '?'."""
    out = []
    for ch in text:
        if ch in _BASIC and (ch.isascii() or ch in "\n\r"):
            out.append(ch)
            continue
        folded = ascii_fold(ch)
        if ch in "’‘":
            folded = "'"
        elif ch in "“”":
            folded = '"'
        elif ch in "–—":
            folded = "-"
        out.append(folded if folded and all(c in _BASIC for c in folded) else "?")
    return "".join(out)


def truncate(text: str, limit: int = SINGLE_SEGMENT) -> str:
    """Cut GSM-7 `text` to `limit` septets."""
    total = 0
    for index, ch in enumerate(text):
        total += 2 if ch in _EXTENSION else 1
        if total > limit:
            return text[:index]
    return text
