"""Short alert references (K-2F7Q): easy to read out and to type on a basic phone."""

from __future__ import annotations

import secrets

# No 0/O, 1/I/L: they are misread on small screens and over a bad phone line.
ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
PREFIX = "K-"
REF_LENGTH = 4  # 31**4 = 923,521 references


def new_ref() -> str:
    """A random reference such as K-2F7Q."""
    return PREFIX + "".join(secrets.choice(ALPHABET) for _ in range(REF_LENGTH))


def normalise_ref(text: str) -> str | None:
    """Read a reference as typed by a person ('2f7q', 'k2f7q', 'K-2F7Q'), or None."""
    cleaned = "".join(ch for ch in text.upper() if ch.isalnum())
    if cleaned.startswith("K") and len(cleaned) == REF_LENGTH + 1:
        cleaned = cleaned[1:]
    if len(cleaned) != REF_LENGTH or any(ch not in ALPHABET for ch in cleaned):
        return None
    return PREFIX + cleaned
