"""Past vs ongoing (TRIAGE.md "Severity"): explicit time words only."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from app.triage.lexicon import Hit, groups_in
from app.triage.normalize import Token

_AGO_UNITS = frozenset(
    [
        "jour",
        "jours",
        "semaine",
        "semaines",
        "mois",
        "an",
        "ans",
        "annee",
        "annees",
        "siku",
        "wiki",
        "miezi",
        "mwezi",
        "mikolo",
        "poso",
        "sanza",
        "days",
        "weeks",
        "months",
        "years",
    ]
)
_FEW = frozenset(
    ["quelques", "plusieurs", "deux", "trois", "quatre", "cinq", "six", "sept", "huit", "dix"]
)


@dataclass(frozen=True, slots=True)
class Timing:
    """What the text says about when the event happened."""

    is_past: bool
    is_ongoing: bool
    reasons: tuple[str, ...]


def _il_y_a(tokens: Sequence[Token]) -> str | None:
    """French "il y a 3 jours" (3 days ago), but not "il y a des hommes armés" (there are)."""
    norms = [t.norm for t in tokens]
    for i in range(len(norms) - 3):
        if norms[i : i + 3] == ["il", "y", "a"]:
            nxt = norms[i + 3 : i + 6]
            if len(nxt) >= 2 and (nxt[0].isdigit() or nxt[0] in _FEW) and nxt[1] in _AGO_UNITS:
                return " ".join(norms[i : i + 5])
    return None


def detect_time(tokens: Sequence[Token], hits: Sequence[Hit]) -> Timing:
    """Past when a past time word is written; ongoing when a now-word is; a now-word wins."""
    past = groups_in(hits, "PAST")
    ongoing = groups_in(hits, "ONGOING")
    reasons: list[str] = []
    past_cue = past[0].cue if past else _il_y_a(tokens)
    if ongoing:
        reasons.append(f"'{ongoing[0].cue}' → ongoing")
    if past_cue:
        if ongoing:
            reasons.append(f"'{past_cue}' → started earlier, still ongoing")
        else:
            reasons.append(f"'{past_cue}' → past")
    return Timing(bool(past_cue) and not ongoing, bool(ongoing), tuple(reasons))
