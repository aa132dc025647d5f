"""Text clean-up and tokenisation for SMS triage.

Tokens keep their raw form (for case hints) and offsets (to look at the separator between two
tokens, e.g. the hyphen of a road "Uvira-Sange"); ``norm`` is lowercase without accents.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache

MAX_TEXT = 2000  # longer texts are cut: an SMS is 160 chars, a concatenated one rarely > 1600

_SPECIAL = str.maketrans(
    {"œ": "oe", "Œ": "Oe", "æ": "ae", "Æ": "Ae", "ß": "ss", "ø": "o", "Ø": "O", "ł": "l", "Ł": "L"}
)
# Runs that look like UTF-8 read as cp1252/latin-1: "tuÃ©" -> "tué".
_MOJIBAKE = re.compile(
    "[\u00c2-\u00f4][\u0080-\u00bf\u0152\u0153\u0160\u0161\u0178\u017d\u017e\u0192"
    "\u02c6\u02dc\u2013\u2014\u2018-\u201e\u2020-\u2022\u2026\u2030\u2039\u203a\u20ac\u2122]{1,3}"
)
_APOS = re.compile(r"(?i)(ng)['’`´]")  # Swahili ng'ombe -> ngombe
_WORD = re.compile(r"[^\W_]+")
_DIGITS_LETTERS = re.compile(r"^(\d+)([^\W\d_]+)$")


@dataclass(frozen=True, slots=True)
class Token:
    """One word of the message."""

    norm: str
    raw: str
    start: int
    end: int


def _fix_run(match: re.Match[str]) -> str:
    run = match.group(0)
    for enc in ("cp1252", "latin-1"):
        try:
            return run.encode(enc).decode("utf-8")
        except (UnicodeEncodeError, UnicodeDecodeError):
            continue
    return run


def fix_mojibake(text: str) -> str:
    """Repair the usual UTF-8-read-as-Latin-1 accents where it is cheap and safe."""
    if "Ã" not in text and "Â" not in text and "â" not in text:
        return text
    # "à" is C3 A0: the A0 (no-break space) is often turned into a plain space on the way.
    return _MOJIBAKE.sub(_fix_run, text).replace("Ã ", "à ")


def clean(text: str) -> str:
    """Cut, repair mojibake, replace control/format characters by spaces."""
    text = fix_mojibake(text[:MAX_TEXT])
    out = []
    for ch in text:
        cat = unicodedata.category(ch)
        out.append(" " if cat in ("Cc", "Cf", "Zl", "Zp") else ch)
    return _APOS.sub(r"\1", "".join(out))


def _fold(word: str) -> str:
    """Lowercase, strip accents (é -> e, ï -> i), expand ligatures."""
    word = word.translate(_SPECIAL)
    decomposed = unicodedata.normalize("NFKD", word)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).lower()


fold = lru_cache(maxsize=65536)(_fold)


def fold_text(text: str, *, cached: bool = True) -> str:
    """Fold a whole string and keep only letters/digits separated by single spaces.

    ``cached=False`` for names read in bulk (a gazetteer's 144,000): they would fill the cache
    of the words of messages with words no message repeats, some 14 MB of it."""
    fold_word = fold if cached else _fold
    return " ".join(fold_word(w) for w in _WORD.findall(clean(text)))


def tokenize(text: str, abbreviations: Mapping[str, str] | None = None) -> list[Token]:
    """Split ``text`` (already cleaned) into tokens; expand SMS abbreviations (bcp -> beaucoup)."""
    tokens: list[Token] = []
    for m in _WORD.finditer(text):
        raw, start = m.group(0), m.start()
        split = _DIGITS_LETTERS.match(raw)
        parts = (
            [(split.group(1), start), (split.group(2), start + len(split.group(1)))]
            if split
            else [(raw, start)]
        )
        for part, pstart in parts:
            norm = fold(part)
            if not norm:
                continue
            expansion = abbreviations.get(norm) if abbreviations else None
            if expansion:
                for word in expansion.split():
                    tokens.append(Token(word, part, pstart, pstart + len(part)))
            else:
                tokens.append(Token(norm, part, pstart, pstart + len(part)))
    return tokens


def is_all_caps(text: str) -> bool:
    """True when the message is written in capitals (case then tells nothing about names)."""
    letters = [c for c in text if c.isalpha()]
    return len(letters) >= 4 and sum(c.isupper() for c in letters) >= 0.8 * len(letters)
