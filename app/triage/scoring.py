"""Severity (TRIAGE.md "Severity"), a finer 0-100 score, and the CAP 1.2 fields."""

from __future__ import annotations

from app.triage.types import Category, Numbers, Severity

VIOLENT: frozenset[str] = frozenset(("ATTACK", "ABDUCTION", "SEXUAL_VIOLENCE", "CLASH"))

# Score bands keep the score consistent with the four levels: low 0-24, medium 25-49,
# high 50-74, critical 75-100.
_BAND: dict[str, float] = {"low": 0.0, "medium": 25.0, "high": 50.0, "critical": 75.0}
_WEIGHT: dict[str, float] = {
    "ATTACK": 0.45,
    "ABDUCTION": 0.4,
    "SEXUAL_VIOLENCE": 0.35,
    "CLASH": 0.3,
    "ARSON": 0.35,
    "LOOTING": 0.2,
    "ARMED_PRESENCE": 0.25,
    "DISPLACEMENT": 0.3,
    "THREAT": 0.15,
    "FLASH": 0.3,
    "OTHER": 0.1,
}
_CAP_SEVERITY: dict[str, str] = {
    "critical": "Extreme",
    "high": "Severe",
    "medium": "Moderate",
    "low": "Minor",
}


def severity_for(category: Category, *, is_past: bool, is_ongoing: bool) -> Severity:
    """The four-level severity of the rubric."""
    if category in VIOLENT:
        return "high" if is_past else "critical"
    if category in ("ARMED_PRESENCE", "ARSON"):
        return "high"
    if category == "LOOTING":
        return "high" if is_ongoing else "medium"
    if category in ("DISPLACEMENT", "THREAT"):
        return "medium"
    if category == "FLASH":
        return "high"
    return "low"


def score_for(
    category: Category, severity: Severity, *, is_past: bool, is_ongoing: bool, numbers: Numbers
) -> float:
    """0-100 inside the severity band: category weight, now-ness and the number of victims."""
    within = _WEIGHT.get(category, 0.1)
    if is_ongoing:
        within += 0.2
    elif not is_past:
        within += 0.1
    victims = 3 * (numbers.killed or 0) + 2 * (numbers.abducted or 0) + (numbers.wounded or 0)
    within += min(0.3, 0.03 * victims)
    if numbers.attackers:
        within += min(0.05, numbers.attackers / 400)
    return round(_BAND[severity] + 24.9 * min(1.0, within), 1)


def band_floor(severity: Severity) -> float:
    """The lowest score of a severity's band."""
    return _BAND[severity]


def rebanded(score: float, old: Severity, new: Severity) -> float:
    """The same place inside the band of a severity set by hand."""
    return round(_BAND[new] + min(24.9, max(0.0, score - _BAND[old])), 1)


def cap_severity(severity: Severity) -> str:
    """CAP 1.2 <severity> for the four levels."""
    return _CAP_SEVERITY[severity]


def cap_urgency(category: Category, *, is_past: bool, is_ongoing: bool) -> str:
    """CAP 1.2 <urgency>: Past for past events, Expected for announced harm or armed men on
    the move, Immediate for what is happening, Unknown for messages that are not alerts."""
    if category == "OTHER":
        return "Unknown"
    if is_past:
        return "Past"
    if is_ongoing:
        return "Immediate"
    if category in ("THREAT", "ARMED_PRESENCE"):
        return "Expected"
    return "Immediate"


def cap_certainty(*, verified: bool, corroborated: bool) -> str:
    """CAP 1.2 <certainty>: corroborated by other reports -> Observed; from a verified focal
    point -> Likely; a single report from anyone else -> Possible."""
    if corroborated:
        return "Observed"
    if verified:
        return "Likely"
    return "Possible"
