"""Where words stand to each other in a message (gaps, clauses, counts) and the small word sets
the category rules share."""

from __future__ import annotations

from collections.abc import Sequence

from app.triage.lexicon import Hit
from app.triage.normalize import Token


def overlaps(a: Hit, b: Hit) -> bool:
    return a.start < b.end and b.start < a.end


def is_count(norm: str, number_words: frozenset[str]) -> bool:
    return norm.isdigit() or norm in number_words


def gap_between(a: Hit, b: Hit) -> int:
    return max(a.start - b.end, b.start - a.end, 0)


CLAUSE_MARKS = frozenset(",;:.")

# Marks that end a sentence: a full stop, "!", "?", ";" or a new line.
SENTENCE_MARKS = frozenset(".!?;\n")


def same_sentence(a: Hit, b: Hit, tokens: Sequence[Token], text: str) -> bool:
    """No sentence mark between two hits."""
    first, second = (a, b) if a.start <= b.start else (b, a)
    if first.end > second.start:
        return True
    between = text[tokens[first.end - 1].end : tokens[second.start].start]
    return not any(c in SENTENCE_MARKS for c in between)


def across_clause(a: Hit, b: Hit, tokens: Sequence[Token], text: str) -> bool:
    """A comma, semicolon, colon or full stop between two hits: they are in different
    clauses ("chevres pillees, 2 blesses")."""
    first, second = (a, b) if a.start < b.start else (b, a)
    if not text or first.end > second.start or first.end == 0:
        return False
    between = text[tokens[first.end - 1].end : tokens[second.start].start]
    return any(c in CLAUSE_MARKS for c in between)


# Words joining the items of a list ("une moto et deux personnes", "pikipiki na watu wawili").
JOIN = frozenset(("et", "and", "na", "mpe", "with", "avec"))


# Others than the ones named ("wengine", "d autres").
OTHERS = frozenset(("wengine", "others", "autres", "d autres"))


# "karibu (na)", "near": armed men near a place ("ADF wako karibu na Mamove"), or only where
# something is ("barabara ... karibu na Kiliba").
NEARNESS = frozenset(("karibu", "near"))


# Words that take people or goods away: after a release, still a looting of the goods.
TAKINGS = frozenset(("TAKE", "ABDUCTION"))


# Words that tell what came before ("apres", "baada", "after"): the event after them is over.
AFTER = frozenset(("apres", "baada", "after", "suite", "depuis", "sima", "nsima"))
