"""Public entry points of triage: an SMS or a missed call becomes a :class:`TriageResult`."""

from __future__ import annotations

from datetime import datetime

from app.triage.categorize import categorize
from app.triage.language import DEFAULT_LANGUAGE, detect_language
from app.triage.lexicon import groups_in, load_lexicon
from app.triage.normalize import clean, is_all_caps, tokenize
from app.triage.numbers import extract_numbers
from app.triage.places import locate
from app.triage.scoring import (
    cap_certainty,
    cap_severity,
    cap_urgency,
    score_for,
    severity_for,
)
from app.triage.timing import detect_time, local_day
from app.triage.types import Category, Numbers, PlaceMatcher, Sender, Severity, TriageResult

__all__ = ["cap_certainty", "prepare", "triage_flash", "triage_message", "triage_unread"]

# One report per language of the word lists, triaged by `prepare`.
_WARM_UP = (
    "Attaque des hommes armés au village ce matin, 3 morts et 2 blessés",
    "Watu wenye silaha wameshambulia kijiji usiku, watu 4 wameuawa",
    "Bato ya mindoki babomi bato 2 na mboka lelo",
    "Armed men attacked the market yesterday, 5 killed, 3 abducted",
)


def prepare(gazetteer: PlaceMatcher) -> None:
    """Read the word lists and triage one report per language, so that the first message a
    process handles does not pay for them (TOML, the lexicon's patterns, lazy imports:
    about 100-150 ms, once). A serving process calls this before it says it is ready."""
    for text in _WARM_UP:
        triage_message(text, gazetteer=gazetteer, sender=Sender())


_HARM_GROUPS = ("ATTACK", "ABDUCTION", "SEXUAL_VIOLENCE", "CLASH", "GUNFIRE", "WEAPON", "ASSAULT")


def triage_message(
    text: str,
    *,
    gazetteer: PlaceMatcher,
    sender: Sender,
    corroborated: bool = False,
    received_at: datetime | None = None,
) -> TriageResult:
    """Category, severity, place, numbers, language and the reasons for one SMS; named days and
    dates are read against ``received_at`` (today when unknown)."""
    lexicon = load_lexicon()
    cleaned = clean(text or "")
    tokens = tokenize(cleaned, lexicon.abbreviations)
    hits = lexicon.find(tokens)
    decision = categorize(tokens, hits, lexicon.number_words, cleaned)
    # The event a now-word may say goes on: the category's words, and any of harm or fighting.
    events = [*decision.cues, *groups_in(hits, *_HARM_GROUPS)]
    timing = detect_time(tokens, hits, lexicon, local_day(received_at), events, cleaned)
    numbers = extract_numbers(cleaned, tokens, hits, lexicon)
    language = detect_language(tokens, hits, lexicon, sender.language)
    location = locate(
        cleaned,
        tokens,
        hits,
        gazetteer,
        sender,
        decision.category,
        lexicon.place_stopwords,
        is_all_caps(cleaned),
        decision.cues,
    )
    category = decision.category
    severity = severity_for(category, is_past=timing.is_past, is_ongoing=timing.is_ongoing)
    score = score_for(
        category, severity, is_past=timing.is_past, is_ongoing=timing.is_ongoing, numbers=numbers
    )
    reasons = [*decision.reasons]
    if category != "OTHER":
        reasons.extend(timing.reasons)
    reasons.append(f"{category} → {severity}")
    reasons.extend(location.reasons)
    return TriageResult(
        category=category,
        severity=severity,
        score=score,
        cap_urgency=cap_urgency(category, is_past=timing.is_past, is_ongoing=timing.is_ongoing),
        cap_severity=cap_severity(severity),
        cap_certainty=cap_certainty(verified=sender.verified, corroborated=corroborated),
        language=language,
        is_past=timing.is_past,
        is_ongoing=timing.is_ongoing,
        numbers=numbers,
        place=location.place,
        location_source=location.source,
        location_confidence=location.confidence,
        reasons=tuple(reasons),
    )


def triage_flash(*, sender: Sender) -> TriageResult:
    """A missed call ("flash", "bip"): call me back, something is happening."""
    return _from_sender(sender, "FLASH", "missed call → FLASH", urgency="Immediate", ongoing=True)


def triage_unread(*, sender: Sender) -> TriageResult:
    """An SMS triage could not read (it raised): filed for a human to read and call back, as a
    flash is. A retry would fail the same way: triage is pure."""
    return _from_sender(
        sender, "OTHER", "triage failed → OTHER, for a human to read", urgency="Unknown"
    )


def _from_sender(
    sender: Sender, category: Category, why: str, *, urgency: str, ongoing: bool = False
) -> TriageResult:
    """What is known without reading a text: severity high from a registered focal point,
    medium from an unknown number; the reporter's home place, if any."""
    severity: Severity = "high" if sender.known else "medium"
    reasons = (
        why,
        f"{'registered focal point' if sender.known else 'unknown number'} → {severity}",
        "place: reporter home" if sender.home is not None else "unknown sender → no place",
    )
    return TriageResult(
        category=category,
        severity=severity,
        score=score_for(category, severity, is_past=False, is_ongoing=ongoing, numbers=Numbers()),
        cap_urgency=urgency,
        cap_severity=cap_severity(severity),
        cap_certainty=cap_certainty(verified=sender.verified, corroborated=False),
        language=sender.language or DEFAULT_LANGUAGE,
        is_past=False,
        is_ongoing=ongoing,
        numbers=Numbers(),
        place=sender.home,
        location_source="reporter_home" if sender.home is not None else "none",
        location_confidence=0.5 if sender.home is not None else 0.0,
        reasons=reasons,
    )
