"""Which place an alert is about (TRIAGE.md "Place"): the names found, scored by what they are
to the event (`roles`) and which areas hold them (`areas`), or the reporter's home."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from app.triage.areas import (
    AREA_MARKS,
    WEAK_FROM,
    WEAK_PREPS,
    areas_after_places,
    articled_areas,
    in_area_name,
    in_named_provinces,
    in_named_territories,
    outside_named,
    places_of,
    prep_before,
    shared_area_marks,
)
from app.triage.lexicon import Hit, groups_in
from app.triage.modality import background_spans, in_background
from app.triage.normalize import Token
from app.triage.roles import (
    dateline,
    distance_from,
    fled_to,
    fleeing_to,
    in_cue_sentence,
    listed_prep,
    right_after_cue,
    road_span,
    said_where,
    sheltered,
    shelters,
    source_place,
    taken_to,
)
from app.triage.types import GazPlace, LocationSource, Mention, PlaceMatcher, Sender

# Direction words that say the armed men went in: for an event other than a movement, the
# place it happened; not after a word of spreading ("as fighting spreads into Kalehe").
_ENTERING = frozenset(("into", "envahir"))


_SPREADING = frozenset(
    ("spreads", "spread", "spreading", "spilled", "spills", "extends", "extended")
)


def _entering(prep: Hit, tokens: Sequence[Token]) -> bool:
    return prep.cue in _ENTERING and not (
        prep.start > 0 and tokens[prep.start - 1].norm in _SPREADING
    )


_MOVING = frozenset(("ARMED_PRESENCE", "THREAT"))


_CONFIDENCE = {"name": 0.95, "alt": 0.9}


_PLACE_MARKS = ("DIRECTION", "FROM", "LOCATIVE", "BETWEEN", "ROAD", "NEAR", "FLEE_TO")


@dataclass(frozen=True, slots=True)
class Location:
    """The chosen place and how it was found."""

    place: GazPlace | None
    source: LocationSource
    confidence: float
    reasons: tuple[str, ...]


def _has_hint(
    m: Mention, tokens: Sequence[Token], preps: Sequence[Hit], all_caps: bool, text: str
) -> bool:
    """A common word is a place only when written like a name (a capital inside a sentence, or
    "Kilo:" heading the message) or after a place preposition other than "na"/"kwa"."""
    tok = tokens[m.start]
    before = text[tokens[m.start - 1].end : tok.start] if m.start else "."
    after = text[tokens[m.end - 1].end : tokens[m.end].start] if m.end < len(tokens) else ""
    sentence_start = m.start == 0 or any(c in before for c in ".!?\n")
    name_like = not sentence_start or ":" in after or m.end == len(tokens)
    if tok.raw[:1].isupper() and not all_caps and name_like:
        return True
    since = tok.norm in _TIMES_OF_DAY  # "uta tongo ya lelo": since this morning
    return any(
        h.end == m.start and h.cue not in WEAK_PREPS and not (since and h.cue in _SINCE)
        for h in preps
    )


# "from" that also means "since", and the times of day it may come before ("uta tongo ya lelo",
# since this morning): no place ("depuis kilo", from Kilo, is one).
_SINCE = frozenset(("uta", "depuis", "since", "tangu", "tokea"))


_TIMES_OF_DAY = frozenset(
    (
        *("tongo", "ntongo", "butu", "pokwa", "moyi", "matin", "soir", "nuit", "midi"),
        *("asubuhi", "jioni", "usiku", "mchana", "morning", "evening", "night", "noon"),
    )
)


def _fuzzy_refusal(
    m: Mention,
    tokens: Sequence[Token],
    hits: Sequence[Hit],
    all_caps: bool,
    text: str,
    has_home: bool,
) -> str | None:
    """Why a typo match is not a place (TRIAGE.md Place rule 5), or None when it is one: it
    needs a place preposition or a capital, and never follows a title or a group's name; a
    two-letter typo needs both before it moves an alert away from the reporter's home."""
    if any(h.end == m.start and h.group in ("TITLE", "ACTOR") for h in hits):
        return "a person's or group's name"
    prep = any(h.end == m.start and h.group in _PLACE_MARKS + AREA_MARKS for h in hits)
    capital = _has_hint(m, tokens, [], all_caps, text)
    if not (prep or capital):
        return "no capital and no place word before it"
    if has_home and m.distance > 1 and not (prep and capital):
        return "a weak match does not move the alert from the reporter's home"
    return None


def _score(
    m: Mention,
    idx: int,
    mentions: Sequence[Mention],
    category: str,
    preps: Sequence[Hit],
    text: str,
    tokens: Sequence[Token],
    marks: Sequence[Hit],
    all_caps: bool,
    cues: Sequence[Hit] = (),
    said: frozenset[int] = frozenset(),
    background: Sequence[range] = (),
    namesakes: frozenset[int] = frozenset(),
) -> float:
    prep = listed_prep(m, idx, mentions, preps, text, tokens)
    group = prep.group if prep else ""
    weak_from = group == "FROM" and prep is not None and prep.cue in WEAK_FROM
    if prep is not None and fleeing_to(prep, marks):
        group = "FLEEING_TO"  # "residents flee to Goma": where people go, not armed men
    elif prep is not None and sheltered(prep, marks):
        group = "LOCATIVE"  # "displaced people who had taken refuge in Oicha were attacked"
    # A plain name beats a typo or a common word ("sake", "boga"), unless that word is written
    # as a name after a place word ("a Sake", "huko Boga"): then it is a name too.
    as_name = (
        prep is not None and prep.cue not in WEAK_PREPS and _has_hint(m, tokens, [], all_caps, text)
    )
    score = -1.5 * m.distance - (2.0 if m.common and not as_name else 0.0)
    # An area counts when nothing more precise is named (TRIAGE.md Place rule 6), and so does
    # a place given as a distance or direction from ("a 25 km de Butembo", "near Bule").
    if all(p.area_level for p in places_of(m, marks)):
        score -= 3.0
    elif dateline(m, mentions, said, tokens, text):
        # where the report comes from: the places named after it rank above it, but for where
        # people fled to, the wounded were taken, someone came from or was heading
        score -= _DATELINE
    if any(h.group == "NEAR" and h.end in (m.start, m.start - 1) for h in marks) or distance_from(
        m, tokens
    ):
        score -= 3.0
    # Where the wounded are taken to is not where the event is: below it, an area or a
    # "near X" ("les ADF ont attaque Oicha, les blesses transferes a Beni").
    # A place an event is compared with is not where this one is ("une lettre annonce des
    # tueries comme celles de Beni", "mauaji kama yale ya Beni"): below an area or a "near X".
    if any(h.group == "LIKE" and h.end == m.start for h in marks):
        score -= 5.0  # below a dateline too ("Beni: attaque ce matin, comme a Mavivi hier")
    if taken_to(m, idx, mentions, marks, tokens, text):
        score -= 4.0
        group = ""  # "evacues a Beni": no place the event is said to be in
    elif any(m.start in b for b in background):
        # "En fevrier deja, 62 civils avaient peri a Bule": where an earlier event was
        score -= 4.0
        group = ""
    elif idx in namesakes:
        # a namesake in another territoire than the one the text names: below that area
        score -= 4.0
    elif source_place(m, marks, tokens, text):
        # where the teller is: "the Red Cross secretary in Mutwanga confirmed" (below an area)
        score -= 4.0
        group = ""
    # Where people flee to is never where the event is (Place rule 2): below an area or a
    # "near X" too ("Territoire de Mambasa: ... les gens fuient vers Biakato").
    if group == "FLEEING_TO":
        score -= 4.0
    elif category == "DISPLACEMENT":
        if group == "FROM":
            # where people flee from, an area too ("arrived in Minova from Masisi territory")
            score += 1.0 if weak_from else 3.5
        elif group == "DIRECTION":
            score -= 4.0
    elif category in _MOVING:
        if group == "DIRECTION":
            score += 3.0
        elif group == "LOCATIVE" and category == "THREAT":
            score += 1.0  # "Rutshuru: a Nyamilima, la milice percoit une taxe": Nyamilima
        elif group == "FROM" and not weak_from:
            # where armed men come from is never where they are: below an area or a "near X"
            score -= 4.0
    else:
        if group == "LOCATIVE":
            score += 1.0
            if right_after_cue(m, cues, tokens, text):
                score += 1.0  # "displaced from X arrived in Y after fighting in X": X
        elif group == "DIRECTION" and prep is not None and _entering(prep, tokens):
            score += 1.0  # "M23 pushed into Kirolirwe, six killed": the event is there
        elif group == "DIRECTION":
            # where someone was heading is not where the event is: below an area or a "near X"
            # ("watu 17 wameuawa katika eneo la Djugu, abiria wakielekea Mongbwalu")
            score -= 4.0
        elif group == "FROM" and not weak_from:
            # where they came from is not where the event is: below an area or a "near X"
            # ("gunmen attacked the convoy near Butembo as it came back from Lubero")
            score -= 4.0
    if cues and text and in_cue_sentence(m, cues, tokens, text):
        score += 0.5  # of two places said alike, the one in the event's sentence
    # A road "X-Y", "between X and Y" or "la route de X a Y": the first named.
    if idx + 1 < len(mentions):
        nxt = mentions[idx + 1]
        sep = text[tokens[m.end - 1].end : tokens[nxt.start].start]
        joined_by_dash = nxt.start == m.end and any(c in sep for c in "-/–")
        between = group == "BETWEEN" and nxt.start <= m.end + 1
        if joined_by_dash or between or road_span(m, nxt, marks, tokens, text):
            score += 4.0
    if idx > 0:
        prev = mentions[idx - 1]
        sep = text[tokens[prev.end - 1].end : tokens[m.start].start]
        prev_prep = prep_before(preps, prev.start)
        if (
            (m.start == prev.end and any(c in sep for c in "-/–"))
            or (prev_prep is not None and prev_prep.group == "BETWEEN" and m.start <= prev.end + 1)
            or road_span(prev, m, marks, tokens, text)
        ):
            score -= 4.0
    return score


def locate(
    text: str,
    tokens: Sequence[Token],
    hits: Sequence[Hit],
    gazetteer: PlaceMatcher,
    sender: Sender,
    category: str,
    stopwords: frozenset[str],
    all_caps: bool,
    cues: Sequence[Hit] = (),
) -> Location:
    """Place named in the text (rules 1-3), else the reporter's home (rule 4), else none.
    ``cues``: the words that decided the category; a place said right after one of them is
    where it happened."""
    preps = groups_in(hits, "DIRECTION", "FROM", "LOCATIVE", "BETWEEN", "FLEE_TO")
    marks = groups_in(
        hits,
        *("NEAR", "DISPLACEMENT", "TRANSFER", "ROAD", "LIKE", "SOURCE", "SAID", "SPOKE_AT"),
        *AREA_MARKS,
    )
    marks += shared_area_marks(marks, tokens)
    if category != "DISPLACEMENT":
        marks += shelters(hits, tokens, text)
    # Words the lexicon recognised (verbs matched by a pattern, too) are not fuzzy place names.
    recognised = {tokens[i].norm for h in hits for i in range(h.start, h.end)}
    # Typos are looked up only where one could be taken: a capital, or after a place word.
    fuzzy_at = {h.end for h in hits if h.group in _PLACE_MARKS + AREA_MARKS}
    if not all_caps:
        fuzzy_at.update(i for i, t in enumerate(tokens) if t.raw[:1].isupper())
    found = gazetteer.find_mentions(tokens, stopwords=stopwords | recognised, fuzzy_at=fuzzy_at)
    reasons: list[str] = []
    refused: list[str] = []
    mentions: list[Mention] = []
    for m in found:
        if any(h.end == m.start and h.group == "TITLE" for h in hits):
            refused.append(f"'{m.text}' read as a person's name, not a place")
            continue
        if m.common and not _has_hint(m, tokens, preps, all_caps, text):
            refused.append(f"'{m.text}' read as a common word, not a place")
            continue
        if m.kind == "fuzzy":
            refusal = _fuzzy_refusal(m, tokens, hits, all_caps, text, sender.home is not None)
            if refusal:
                refused.append(f"'{m.text}' ≈ {m.matched} not taken: {refusal}")
                continue
        if any(h.start == m.end and h.cue in _GROUP_NAMED for h in hits):
            refused.append(f"'{m.text}' names an armed group, not a place")
            continue
        if in_area_name(m, found, hits, tokens, text):
            refused.append(f"'{m.text}' is part of an area's name")
            continue
        mentions.append(m)
    mentions, elsewhere = in_named_provinces(mentions, preps)
    marks += areas_after_places(mentions, tokens, text) + articled_areas(mentions, tokens)
    refused.extend(elsewhere)
    mentions, outside = in_named_territories(mentions, marks)
    refused.extend(outside)
    # At most two of these notes, so that the reasons stay readable.
    reasons.extend(refused[:2])
    if len(refused) > 2:
        reasons.append(f"and {len(refused) - 2} more words not read as places")
    if mentions:
        said = frozenset(
            i
            for i, o in enumerate(mentions)
            if said_where(o, i, mentions, preps, marks, hits, cues, tokens, text)
        )
        # the pluperfect's places, when the event decided is told outside it
        spans = background_spans(hits, tokens, text)
        background = spans if any(not in_background(c, spans) for c in cues) else []
        namesakes = frozenset(
            i for i, o in enumerate(mentions) if outside_named(o, mentions, marks)
        )
        ranked = sorted(
            range(len(mentions)),
            key=lambda i: (
                -_score(
                    mentions[i],
                    i,
                    mentions,
                    category,
                    preps,
                    text,
                    tokens,
                    marks,
                    all_caps,
                    cues,
                    said,
                    background,
                    namesakes,
                ),
                i,
            ),
        )
        chosen = mentions[ranked[0]]
        if category != "DISPLACEMENT" and fled_to(
            chosen, ranked[0], mentions, preps, marks, text, tokens
        ):
            # Place rule 2: where people flee to is not where the event is, even when the place
            # of the event is not in the gazetteer ("survivors are fleeing towards Kalemie")
            reasons.append(f"'{chosen.text}' is where people flee to, not where it happened")
            mentions = []
    if mentions:
        candidates = places_of(chosen, marks)
        place, how = gazetteer.resolve(candidates, sender.home)
        confidence = _CONFIDENCE.get(chosen.kind, 0.8 - 0.1 * chosen.distance)
        if chosen.kind == "fuzzy":
            reasons.append(
                f"'{chosen.text}' ≈ {chosen.matched} ({chosen.distance} letter"
                f"{'s' if chosen.distance > 1 else ''} off) → place {place.id} (text)"
            )
        else:
            reasons.append(f"'{chosen.text}' → place {place.id} (text)")
        if place.area_level:
            reasons.append(f"{place.id} is a {place.area_level}: its centroid")
        if len(candidates) > 1:
            ids = ", ".join(p.id for p in candidates)
            reasons.append(f"'{chosen.text}' is ambiguous ({ids}) → {place.id}, {how}")
            confidence *= 0.85 if sender.home is not None else 0.7
        distinct = {places_of(mm, marks)[0].id for mm in mentions}
        if len(distinct) > 1:
            others = ", ".join(m.text for m in mentions if m is not chosen)
            reasons.append(f"also named: {others}; '{chosen.text}' chosen for a {category} alert")
            confidence *= 0.9
        return Location(place, "text", round(confidence, 3), tuple(reasons))
    if sender.home is not None:
        reasons.append("no place named → reporter home")
        return Location(sender.home, "reporter_home", 0.5, tuple(reasons))
    reasons.append("no place named, unknown sender → no place")
    return Location(None, "none", 0.0, tuple(reasons))


# "the Baraka armed group": the name before these words is the group's.
_GROUP_NAMED = frozenset(("armed group", "armed groups"))


# A dateline ranks below an area and a "near X" (-3.0), above where the wounded were taken,
# where people fled to and where someone came from or was heading (-4.0).
_DATELINE = 3.5
