"""Language of a message: fr, sw, ln or en, from frequent words and cue words."""

from __future__ import annotations

from collections.abc import Sequence

from app.triage.lexicon import LANGS, Hit, Lexicon
from app.triage.normalize import Token

DEFAULT_LANGUAGE = "fr"
_ORDER = {"fr": 0, "sw": 1, "en": 2, "ln": 3}


def detect_language(
    tokens: Sequence[Token], hits: Sequence[Hit], lexicon: Lexicon, fallback: str | None = None
) -> str:
    """Most likely language; ``fallback`` (the sender's language) or French when unsure."""
    scores = dict.fromkeys(LANGS, 0.0)
    for tok in tokens:
        owners = [lang for lang in LANGS if tok.norm in lexicon.words_by_lang[lang]]
        for lang in owners:
            scores[lang] += 1.0 / len(owners)
    for h in hits:
        if h.lang in scores and h.group not in ("STOP", "FUNC") and h.end - h.start >= 1:
            scores[h.lang] += 0.5 * (h.end - h.start)
    best = max(scores.values())
    default = fallback if fallback in scores else DEFAULT_LANGUAGE
    if best <= 0:
        return default
    tied = [lang for lang, s in scores.items() if s >= best - 1e-9]
    if default in tied:
        return default
    return min(tied, key=lambda lang: _ORDER[lang])
