"""Short alert references (K-2F7Q): easy to read out and to type on a basic phone."""

from __future__ import annotations

import secrets

# No 0/O, 1/I/L: they are misread on small screens and over a bad phone line.
ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
PREFIX = "K-"
REF_LENGTH = 4  # 31**4 = 923,521 references


# What liaisons write after their OK besides a reference ("OK merci", "OK bien recu",
# "Sawa sana", "OK asante"), folded to ASCII lower case: an OK followed by these is about the
# last page (app.escalation.commands.parse). No reference is ever one of them ("sawa",
# "sana" and "recu" have a reference's shape): "OK sawa" is never K-SAWA.
COURTESIES = frozenset(
    {
        # French
        "merci", "beaucoup", "bien", "recu", "bon", "daccord", "d'accord", "compris", "entendu",
        "oui", "ok", "okay", "5/5",
        # Swahili
        "sawa", "sana", "asante", "nimepokea", "nimeelewa", "ndiyo", "ndio", "poa", "kabisa",
        # Lingala
        "malamu", "eyo", "natondi", "matondo", "nayoki",
        # English
        "thanks", "thank", "you", "received", "fine", "yes", "roger",
    }
)  # fmt: skip
_NOT_REFS = frozenset(word.upper() for word in COURTESIES)


def new_ref() -> str:
    """A random reference such as K-2F7Q (never a word of COURTESIES)."""
    while True:
        code = "".join(secrets.choice(ALPHABET) for _ in range(REF_LENGTH))
        if code not in _NOT_REFS:
            return PREFIX + code


def normalise_ref(text: str) -> str | None:
    """Read a reference as typed by a person ('2f7q', 'k2f7q', 'K-2F7Q'), or None."""
    cleaned = "".join(ch for ch in text.upper() if ch.isalnum())
    if cleaned.startswith("K") and len(cleaned) == REF_LENGTH + 1:
        cleaned = cleaned[1:]
    if len(cleaned) != REF_LENGTH or any(ch not in ALPHABET for ch in cleaned):
        return None
    return PREFIX + cleaned
