"""Which categories describe the same event (pure data and functions)."""

from __future__ import annotations

# Category rank of TRIAGE.md (lower wins); FLASH sits just above OTHER.
CATEGORY_RANK = {
    "ATTACK": 1,
    "ABDUCTION": 2,
    "SEXUAL_VIOLENCE": 3,
    "CLASH": 4,
    "ARSON": 5,
    "LOOTING": 6,
    "ARMED_PRESENCE": 7,
    "DISPLACEMENT": 8,
    "THREAT": 9,
    "FLASH": 10,
    "OTHER": 11,
}

_VIOLENCE = ("ATTACK", "ABDUCTION", "SEXUAL_VIOLENCE", "CLASH", "ARSON", "LOOTING")

# Pairs of categories that two people may use for one event seen from two places:
# shots heard (CLASH) and killings (ATTACK), armed men passing and a raid, people fleeing a fight.
_RELATED_PAIRS = {
    *{(a, b) for a in _VIOLENCE for b in _VIOLENCE if a != b and "SEXUAL_VIOLENCE" not in (a, b)},
    *{("SEXUAL_VIOLENCE", b) for b in ("ATTACK", "ABDUCTION")},
    *{("ARMED_PRESENCE", b) for b in (*_VIOLENCE, "THREAT", "DISPLACEMENT")},
    *{("DISPLACEMENT", b) for b in ("ATTACK", "CLASH", "ARSON", "ABDUCTION")},
    *{("FLASH", b) for b in (*_VIOLENCE, "ARMED_PRESENCE", "DISPLACEMENT", "THREAT")},
}
RELATED: dict[str, frozenset[str]] = {
    category: frozenset(
        {category}
        | {b for a, b in _RELATED_PAIRS if a == category}
        | {a for a, b in _RELATED_PAIRS if b == category}
    )
    for category in CATEGORY_RANK
    if category != "OTHER"
}


def joins_incidents(category: str) -> bool:
    """Whether alerts of this category belong to incidents (greetings and tests do not)."""
    return category in RELATED


def related(category: str) -> frozenset[str]:
    """Categories an alert of `category` may corroborate (itself included)."""
    return RELATED.get(category, frozenset())


def leading_category(a: str, b: str) -> str:
    """The category an incident shows: the higher-ranked of the two."""
    return a if CATEGORY_RANK.get(a, 99) <= CATEGORY_RANK.get(b, 99) else b
