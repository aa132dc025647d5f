"""Text folding shared by commands, keywords, ids and SMS encoding."""

from __future__ import annotations

import unicodedata


def ascii_fold(text: str) -> str:
    """`text` in plain ASCII: accents dropped (é → e), other non-ASCII characters removed."""
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")


# Text the API stores or looks up: no control characters (PostgreSQL refuses NUL in text).
NO_CONTROL = r"^[^\x00-\x1f\x7f]*$"
# Free text of several lines (notes): line breaks and tabs, but no other control character.
MULTILINE = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]*$"
