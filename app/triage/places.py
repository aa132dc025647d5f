"""Which place an alert is about (TRIAGE.md "Place")."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise

from app.triage.lexicon import EVENT_GROUPS, Hit, groups_in
from app.triage.modality import background_spans, in_background
from app.triage.normalize import Token
from app.triage.types import GazPlace, LocationSource, Mention, PlaceMatcher, Sender

_WEAK_FROM = frozenset(("de", "d", "du", "des"))
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


_WEAK_PREPS = frozenset(("na", "kwa", "ya", "en", "on"))
_MOVING = frozenset(("ARMED_PRESENCE", "THREAT"))
# Words joining two names of one list ("vers Oicha et Beni", "from Kiwanja and Rutshuru").
_AND = frozenset(("et", "and", "na", "mpe", "ou", "or", "&"))
_SHARED_PREPS = frozenset(("DIRECTION", "FROM", "LOCATIVE", "FLEE_TO"))
_CONFIDENCE = {"name": 0.95, "alt": 0.9}
_PLACE_MARKS = ("DIRECTION", "FROM", "LOCATIVE", "BETWEEN", "ROAD", "NEAR", "FLEE_TO")
_AREA_MARKS = ("AREA_TERRITOIRE", "AREA_SECTEUR", "AREA_CHEFFERIE", "AREA_GROUPEMENT")


@dataclass(frozen=True, slots=True)
class Location:
    """The chosen place and how it was found."""

    place: GazPlace | None
    source: LocationSource
    confidence: float
    reasons: tuple[str, ...]


def _prep_before(hits: Sequence[Hit], pos: int) -> Hit | None:
    """The place preposition right before token ``pos`` (one filler word allowed)."""
    best: Hit | None = None
    for h in hits:
        if h.end in (pos, pos - 1) and (best is None or h.end > best.end):
            best = h
    return best


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
        h.end == m.start and h.cue not in _WEAK_PREPS and not (since and h.cue in _SINCE)
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


def _area_level(m: Mention, marks: Sequence[Hit]) -> str | None:
    """The area level written next to a name: "territoire de Beni", "Djugu territory"."""
    for h in marks:
        if h.group in _AREA_MARKS and (h.end == m.start or h.start == m.end):
            return h.group.removeprefix("AREA_").lower()
    return None


# A plural area word names the level of every name of its list ("Rutshuru and Masisi
# territories", "territoires de Rutshuru et Masisi").
_PLURAL_AREAS = frozenset(("territories", "territoires", "territoires de", "maeneo ya"))
_LIST_JOINS = frozenset(("and", "et", "na"))


def _shared_area_marks(marks: Sequence[Hit], tokens: Sequence[Token]) -> list[Hit]:
    """For a plural area word after (before) a list of two one-word names joined by "and / et
    / na", the same word next to the name the list starts (ends) with."""
    extra = []
    for h in marks:
        if h.group not in _AREA_MARKS or h.cue not in _PLURAL_AREAS:
            continue
        if h.start >= 3 and tokens[h.start - 2].norm in _LIST_JOINS:
            extra.append(Hit(h.group, h.lang, h.start - 2, h.start - 2, h.cue))
        if h.end + 2 < len(tokens) and tokens[h.end + 1].norm in _LIST_JOINS:
            extra.append(Hit(h.group, h.lang, h.end + 2, h.end + 2, h.cue))
    return extra


def _areas_after_places(
    mentions: Sequence[Mention], tokens: Sequence[Token], text: str
) -> list[Hit]:
    """A name right after another, in brackets or after a comma, that is also a territoire's
    name says where the first is ("Nyabiondo, Masisi", "Kalembe (Walikale)"): an area word
    beside it, so that it is read as the territoire, not the town of that name."""
    extra = []
    for first, second in pairwise(mentions):
        if second.start != first.end:
            continue
        between = text[tokens[first.end - 1].end : tokens[second.start].start].strip()
        if between not in ("(", ",") or not any(
            p.area_level == "territoire" for p in second.places
        ):
            continue
        extra.append(Hit("AREA_TERRITOIRE", "xx", second.end, second.end, "territoire"))
    return extra


def _named_as_origin(m: Mention, preps: Sequence[Hit]) -> bool:
    prep = _prep_before(preps, m.start)
    return prep is not None and prep.group == "FROM" and prep.cue not in _WEAK_FROM


def _in_named_provinces(
    mentions: list[Mention], preps: Sequence[Hit]
) -> tuple[list[Mention], list[str]]:
    """A typo match in another province than every place named exactly in the text (not as
    where someone came from: "venus de Beni ... a Komnda") is not the place ("Kalembe
    (territoire de Walikale)" is no Kalemie, in Tanganyika): the mentions kept, and a note for
    each dropped."""
    provinces = {
        p.admin1
        for m in mentions
        if m.kind != "fuzzy" and not _named_as_origin(m, preps)
        for p in m.places
        if p.admin1
    }
    if not provinces:
        return mentions, []
    kept: list[Mention] = []
    notes: list[str] = []
    for m in mentions:
        if m.kind == "fuzzy" and not any(p.admin1 in provinces for p in m.places):
            notes.append(
                f"'{m.text}' ≈ {m.matched} not taken: another province than the places named"
            )
        else:
            kept.append(m)
    return kept, notes


def _territoires_named(mentions: Sequence[Mention], marks: Sequence[Hit]) -> set[str]:
    """The territoires the text names as one ("territoire d Uvira", "Djugu territory")."""
    return {
        p.name.casefold()
        for m in mentions
        if m.kind != "fuzzy"
        for p in _candidates(m, marks)
        if p.area_level == "territoire"
    }


# How near a name the territoire said to hold it is written ("Nango, a village of the Mompoyi
# collectivity in Ango territory").
_HELD_REACH = 10


def _outside_named(m: Mention, mentions: Sequence[Mention], marks: Sequence[Hit]) -> bool:
    """A territoire is named as one ("territoire de Walikale", "Ango territory"; not a bare
    "Nyiragongo") within _HELD_REACH words of the name, and every place the
    name may be lies in another known territoire: a namesake ("Nango, a village of the Mompoyi
    collectivity in Ango territory" is no Nango of Dungu)."""
    places = [p for p in m.places if not p.area_level]
    if not places or not all(p.admin2 for p in places):
        return False
    near = {
        p.name.casefold()
        for o in mentions
        if o.kind != "fuzzy"
        and (_area_level(o, marks) == "territoire" or o.end - o.start > 1)
        and abs(o.start - m.start) <= _HELD_REACH
        for p in _candidates(o, marks)
        if p.area_level == "territoire"
    }
    return bool(near) and all((p.admin2 or "").casefold() not in near for p in places)


def _in_named_territories(
    mentions: list[Mention], marks: Sequence[Hit]
) -> tuple[list[Mention], list[str]]:
    """A typo match outside every territoire the text names as one is not the place: "groupement
    de Muhungu, territoire d'Uvira" is no Mulungu (Shabunda), "Malabo groupement, Djugu
    territory" no Marabo (Irumu). The mentions kept, and a note for each dropped."""
    named = _territoires_named(mentions, marks)
    if not named:
        return mentions, []
    kept: list[Mention] = []
    notes: list[str] = []
    for m in mentions:
        if m.kind == "fuzzy" and not any((p.admin2 or "").casefold() in named for p in m.places):
            notes.append(f"'{m.text}' ≈ {m.matched} not taken: outside the territoire named")
        else:
            kept.append(m)
    return kept, notes


# French puts an article before a territoire's name, not a town's: "le Masisi", "du Lubero",
# "au Rutshuru" against "a Beni", "de Masisi-centre".
_ARTICLES = frozenset(("le", "du", "au"))


def _articled_areas(mentions: Sequence[Mention], tokens: Sequence[Token]) -> list[Hit]:
    """A name right after "le / du / au" that is also a territoire's: an area word before it
    ("chasser les FDLR du Lubero"), so that it is read as the territoire."""
    return [
        Hit("AREA_TERRITOIRE", "fr", m.start - 1, m.start, tokens[m.start - 1].norm)
        for m in mentions
        if m.start > 0
        and tokens[m.start - 1].norm in _ARTICLES
        and tokens[m.start - 1].raw.islower()
        and any(p.area_level == "territoire" for p in m.places)
    ]


def _candidates(m: Mention, marks: Sequence[Hit]) -> tuple[GazPlace, ...]:
    """The places a name may stand for: the areas of the level written next to it, else the
    settlements of that name (a bare "Beni" is the town, not the territoire)."""
    level = _area_level(m, marks)
    areas = [p for p in m.places if p.area_level]
    if level is not None and areas:
        return tuple([p for p in areas if p.area_level == level] or areas)
    settlements = [p for p in m.places if not p.area_level]
    return tuple(settlements or m.places)


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
    prep = any(h.end == m.start and h.group in _PLACE_MARKS + _AREA_MARKS for h in hits)
    capital = _has_hint(m, tokens, [], all_caps, text)
    if not (prep or capital):
        return "no capital and no place word before it"
    if has_home and m.distance > 1 and not (prep and capital):
        return "a weak match does not move the alert from the reporter's home"
    return None


def _listed_prep(
    m: Mention,
    idx: int,
    mentions: Sequence[Mention],
    preps: Sequence[Hit],
    text: str,
    tokens: Sequence[Token],
) -> Hit | None:
    """The place word before a name, or, for a name listed after another ("vers Mamove et
    Oicha", "kuelekea Kayna na Kirumba", "a Hewa et Bijombo" after a name the gazetteer does
    not hold), the one before the first of the list: the list shares it."""
    prep = _prep_before(preps, m.start)
    # Swahili and Lingala "na" is "at" and "and": between two names it joins a list.
    joins = prep is not None and prep.cue in _AND and prep.end == m.start
    if joins and idx > 0 and mentions[idx - 1].end == m.start - 1:
        prep = None
    if prep is None:
        shared = _shared_past_unknown(m, preps, text, tokens)
        if shared is not None:
            return shared
    if prep is not None or idx == 0:
        return prep
    prev = mentions[idx - 1]
    if prev.end > m.start:
        return None
    sep = text[tokens[prev.end - 1].end : tokens[m.start].start].replace(",", " , ")
    # "Mamove-centre et Oicha": the "-centre" of a place's centre is part of its name
    words = [w.strip("-–") for w in sep.lower().split()]
    if not words or any(w not in _AND and w not in (",", "centre", "") for w in words):
        return None
    shared = _listed_prep(prev, idx - 1, mentions, preps, text, tokens)
    return shared if shared is not None and shared.group in _SHARED_PREPS else None


def _shared_past_unknown(
    m: Mention, preps: Sequence[Hit], text: str, tokens: Sequence[Token]
) -> Hit | None:
    """The place word of a list whose first name is one the gazetteer does not hold: "a Hewa
    et Bijombo" (a capitalised word right after a place word, then "et"/"na"/"and")."""
    j = m.start - 1
    if j < 2 or tokens[j].norm not in _AND or not tokens[j - 1].raw[:1].isupper():
        return None
    if "," in text[tokens[j - 1].end : tokens[m.start].start]:
        return None
    prep = _prep_before(preps, j - 1)
    if prep is None or prep.end != j - 1 or prep.group not in _SHARED_PREPS:
        return None
    return prep


def _fleeing_before(prep: Hit, marks: Sequence[Hit]) -> bool:
    """A flight word right before a direction word ("fuient vers", "flee to", "wanakimbilia")."""
    return any(h.group == "DISPLACEMENT" and 0 <= prep.start - h.end <= 1 for h in marks)


_TRANSFER_WINDOW = 6
# "de X a Y", "X hadi Y", "from X to Y": the end of a road's span.
_UNTIL = frozenset(("a", "au", "hadi", "mpaka", "to", "jusqu", "until", "till"))
_ROAD_WINDOW = 5


def _road_span(
    m: Mention, nxt: Mention, marks: Sequence[Hit], tokens: Sequence[Token], text: str
) -> bool:
    """Two names that span a road named before them ("la route de Kiliba a Luvungi",
    "barabara ya Kiliba hadi Luvungi", "the road from Kiliba to Luvungi"): a road word at most
    five words before the first, in the same clause, and the second right after a word of
    "until" that follows the first (one more word allowed: "jusqu a")."""
    if not 1 <= nxt.start - m.end <= 2:
        return False
    if not any(t.norm in _UNTIL for t in tokens[m.end : nxt.start]):
        return False
    for h in marks:
        if h.group == "ROAD" and h.end <= m.start and m.start - h.end <= _ROAD_WINDOW:
            between = text[tokens[h.end - 1].end : tokens[m.start].start]
            if not any(c in between for c in ".;:,"):
                return True
    return False


# "the Baraka armed group": the name before these words is the group's.
_GROUP_NAMED = frozenset(("armed group", "armed groups"))


# A relative "where" after a name: what follows happens there.
_WHERE = frozenset(("where", "ou", "ambako", "ambapo", "epai"))


def _fled_to(
    m: Mention,
    idx: int,
    mentions: Sequence[Mention],
    preps: Sequence[Hit],
    marks: Sequence[Hit],
    text: str,
    tokens: Sequence[Token],
) -> bool:
    """The name (or the list it is in) comes after a direction word that follows a flight word
    ("fuient vers Kalemie", "fleeing towards Kalemie", "wanakimbia kuelekea Kayna")."""
    prep = _listed_prep(m, idx, mentions, preps, text, tokens)
    following = mentions[idx + 1].start if idx + 1 < len(mentions) else len(tokens)
    if m.end < len(tokens) and tokens[m.end].norm in _WHERE and following > m.end + 1:
        return False  # "fled to Oicha, where the ADF attacked them": the event is there
    return prep is not None and _fleeing_to(prep, marks)


def _fleeing_to(prep: Hit, marks: Sequence[Hit]) -> bool:
    """A word of fleeing to ("se sont refugies a", "wamekimbilia", "streaming towards"), or a
    direction word right after a flight word ("fuient vers"); not one that says where the
    victims were sheltering."""
    if _sheltered(prep, marks):
        return False
    return prep.group == "FLEE_TO" or (prep.group == "DIRECTION" and _fleeing_before(prep, marks))


def _sheltered(prep: Hit, marks: Sequence[Hit]) -> bool:
    return any(h.group == "SHELTER" and h.start == prep.start for h in marks)


# A flight told in a relative clause or a participle describes people: where they had fled to is
# where they were ("ADF attacked displaced people who had taken refuge in Oicha", "les deplaces
# refugies a Oicha ont ete attaques", "wakimbizi waliokimbilia Oicha wameshambuliwa").
_RELATIVE = frozenset(("qui", "who", "that", "which", "ambao"))
_AUXILIARIES = frozenset(
    (
        "had",
        "have",
        "has",
        "se",
        "s",
        "sont",
        "ont",
        "etaient",
        "avaient",
        "est",
        "were",
        "are",
        "been",
        "deja",
        "already",
        "recently",
        "recemment",
    )
)
# Swahili relative verb forms: "waliokimbilia", "wanaokimbilia" (who fled, who flee).
_SW_RELATIVE = re.compile(r"^(?:wa|a|ya|zi|vi|li)(?:li|na|ta)o")
_SHELTER_REACH = 3


# Words between the place and a passive harm ("refugies a Oicha ont ete attaques", "who had
# fled to Oicha were found").
_PASSIVE = _AUXILIARIES | {"ete", "was", "be", "being"}


def _passive_after(tokens: Sequence[Token], start: int, harm: int) -> bool:
    """From ``start``: a name (capitalised words), then only auxiliaries up to ``harm``."""
    i = start
    while i < harm and tokens[i].raw[:1].isupper():
        i += 1
    return (
        i > start and harm - i <= _SHELTER_REACH and all(t.norm in _PASSIVE for t in tokens[i:harm])
    )


def _shelters(hits: Sequence[Hit], tokens: Sequence[Token], text: str) -> list[Hit]:
    """The flight words (FLEE_TO) of a clause that describes people harmed there: after a
    relative word (or a Swahili relative form, or a French participle right after the people),
    with the harm right before the people or right after the place named, in one clause."""
    people_ends = {h.end for h in hits if h.group in ("PEOPLE", "DISPLACEMENT")}
    harms = [h for h in hits if h.group in EVENT_GROUPS and h.group != "DISPLACEMENT"]
    out = []
    for prep in groups_in(hits, "FLEE_TO"):
        i = prep.start - 1
        while i >= 0 and tokens[i].norm in _AUXILIARIES:
            i -= 1
        if _SW_RELATIVE.match(tokens[prep.start].norm):
            people_end = prep.start
        elif i >= 0 and tokens[i].norm in _RELATIVE:
            people_end = i
        elif tokens[prep.start].norm.startswith("refugie") and prep.start in people_ends:
            people_end = prep.start
        else:
            continue
        if people_end not in people_ends:
            continue
        people = next(
            h for h in hits if h.end == people_end and h.group in ("PEOPLE", "DISPLACEMENT")
        )
        for harm in harms:
            if 0 <= people.start - harm.end <= _SHELTER_REACH:
                first, second = harm, people
            elif harm.start >= prep.end and _passive_after(tokens, prep.end, harm.start):
                first, second = prep, harm
            else:
                continue
            gap = text[tokens[first.end - 1].end : tokens[second.start].start] if text else ""
            if not any(c in gap for c in ".;:,"):
                out.append(Hit("SHELTER", prep.lang, prep.start, prep.end, prep.cue))
                break
    return out


def _taken_to(
    m: Mention,
    idx: int,
    mentions: Sequence[Mention],
    marks: Sequence[Hit],
    tokens: Sequence[Token],
    text: str,
) -> bool:
    """The name comes a few words after a word of taking the wounded somewhere ("transferes
    a Beni", "evacues vers l hopital general de Beni", "wamepelekwa hospitali ya Beni",
    "taken to hospital in Beni"), in the same clause, no other name between."""
    prev_end = mentions[idx - 1].end if idx > 0 else 0
    for h in marks:
        if h.group != "TRANSFER" or h.end > m.start or m.start - h.end > _TRANSFER_WINDOW:
            continue
        if h.end < prev_end:
            continue
        between = text[tokens[h.end - 1].end : tokens[m.start].start]
        if not any(c in between for c in ".;:"):
            return True
    return False


# Words between a source and its place ("the Red Cross secretary in Mutwanga", "la societe
# civile de Beni", "msemaji wa jeshi huko Beni").
_SOURCE_PREPS = frozenset(
    ("in", "of", "at", "from", "de", "d", "du", "des", "a", "wa", "ya", "la", "l", "the", "huko")
)
_SOURCE_REACH = 3
# How near its source the word of saying is: after the name ("a source in Butembo said"), or
# before the source ("selon la societe civile de", "a confirme le coordinateur de la societe
# civile de").
_SAID_AFTER = 2
_SAID_BEFORE = 5


# A distance from a place: "kilomita 20 tu kutoka Goma", "20 km away from Goma", "a 15
# kilometres environ de Beni".
_DISTANCE_UNITS = frozenset(
    ("km", "kms", "kilomita", "kilometres", "kilometre", "kilometers", "kilometer", "miles")
)
_DISTANCE_FROM = frozenset(("kutoka", "from", "de", "d", "du", "ya"))
_DISTANCE_REACH = 4


def _distance_from(m: Mention, tokens: Sequence[Token]) -> bool:
    """The name follows a "from" a few words after a distance unit ("kilomita 20 tu kutoka
    Goma"): where the distance is counted from (Place rule 6)."""
    if m.start < 2 or tokens[m.start - 1].norm not in _DISTANCE_FROM:
        return False
    return any(
        t.norm in _DISTANCE_UNITS
        for t in tokens[max(0, m.start - 1 - _DISTANCE_REACH) : m.start - 1]
    )


def _in_cue_sentence(m: Mention, cues: Sequence[Hit], tokens: Sequence[Token], text: str) -> bool:
    """One of the words that decided the category is in the name's sentence."""
    for c in cues:
        lo, hi = sorted((c.start, m.start))
        between = text[tokens[lo].end : tokens[hi].start] if lo < hi else ""
        if not any(ch in between for ch in ".;!?\n"):
            return True
    return False


def _source_place(m: Mention, marks: Sequence[Hit], tokens: Sequence[Token], text: str) -> bool:
    """The name is where someone telling the news is: a SOURCE word right before it, with
    only a place word or articles between, and its SAID word right after the name or just
    before the source ("the Red Cross secretary in Mutwanga confirmed", "selon la societe
    civile de Beni"); not a source word the event hits ("le secretaire de Kalunguta a ete tue
    ..., a declare un habitant")."""
    for s in marks:
        if s.group != "SOURCE" or s.end > m.start or m.start - s.end > _SOURCE_REACH:
            continue
        if not all(t.norm in _SOURCE_PREPS for t in tokens[s.end : m.start]):
            continue
        for h in marks:
            if h.group == "SAID" and (
                0 <= h.start - m.end <= _SAID_AFTER or 0 <= s.start - h.end <= _SAID_BEFORE
            ):
                return True
    return False


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
    prep = _listed_prep(m, idx, mentions, preps, text, tokens)
    group = prep.group if prep else ""
    weak_from = group == "FROM" and prep is not None and prep.cue in _WEAK_FROM
    if prep is not None and _fleeing_to(prep, marks):
        group = "FLEEING_TO"  # "residents flee to Goma": where people go, not armed men
    elif prep is not None and _sheltered(prep, marks):
        group = "LOCATIVE"  # "displaced people who had taken refuge in Oicha were attacked"
    # A plain name beats a typo or a common word ("sake", "boga"), unless that word is written
    # as a name after a place word ("a Sake", "huko Boga"): then it is a name too.
    as_name = (
        prep is not None
        and prep.cue not in _WEAK_PREPS
        and _has_hint(m, tokens, [], all_caps, text)
    )
    score = -1.5 * m.distance - (2.0 if m.common and not as_name else 0.0)
    # An area counts when nothing more precise is named (TRIAGE.md Place rule 6), and so does
    # a place given as a distance or direction from ("a 25 km de Butembo", "near Bule").
    if all(p.area_level for p in _candidates(m, marks)):
        score -= 3.0
    elif _dateline(m, mentions, said, tokens, text):
        # where the report comes from: the places named after it rank above it, but for where
        # people fled to, the wounded were taken, someone came from or was heading
        score -= _DATELINE
    if any(h.group == "NEAR" and h.end in (m.start, m.start - 1) for h in marks) or _distance_from(
        m, tokens
    ):
        score -= 3.0
    # Where the wounded are taken to is not where the event is: below it, an area or a
    # "near X" ("les ADF ont attaque Oicha, les blesses transferes a Beni").
    # A place an event is compared with is not where this one is ("une lettre annonce des
    # tueries comme celles de Beni", "mauaji kama yale ya Beni"): below an area or a "near X".
    if any(h.group == "LIKE" and h.end == m.start for h in marks):
        score -= 5.0  # below a dateline too ("Beni: attaque ce matin, comme a Mavivi hier")
    if _taken_to(m, idx, mentions, marks, tokens, text):
        score -= 4.0
        group = ""  # "evacues a Beni": no place the event is said to be in
    elif any(m.start in b for b in background):
        # "En fevrier deja, 62 civils avaient peri a Bule": where an earlier event was
        score -= 4.0
        group = ""
    elif idx in namesakes:
        # a namesake in another territoire than the one the text names: below that area
        score -= 4.0
    elif _source_place(m, marks, tokens, text):
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
            if _right_after_cue(m, cues, tokens, text):
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
    if cues and text and _in_cue_sentence(m, cues, tokens, text):
        score += 0.5  # of two places said alike, the one in the event's sentence
    # A road "X-Y", "between X and Y" or "la route de X a Y": the first named.
    if idx + 1 < len(mentions):
        nxt = mentions[idx + 1]
        sep = text[tokens[m.end - 1].end : tokens[nxt.start].start]
        joined_by_dash = nxt.start == m.end and any(c in sep for c in "-/–")
        between = group == "BETWEEN" and nxt.start <= m.end + 1
        if joined_by_dash or between or _road_span(m, nxt, marks, tokens, text):
            score += 4.0
    if idx > 0:
        prev = mentions[idx - 1]
        sep = text[tokens[prev.end - 1].end : tokens[m.start].start]
        prev_prep = _prep_before(preps, prev.start)
        if (
            (m.start == prev.end and any(c in sep for c in "-/–"))
            or (prev_prep is not None and prev_prep.group == "BETWEEN" and m.start <= prev.end + 1)
            or _road_span(prev, m, marks, tokens, text)
        ):
            score -= 4.0
    return score


# Words that may open a headline before its place ("Habari za Beni:", "Nsango ya Bunia:", "News
# from Beni:", "URGENT Beni:", "Sud Lubero:").
_HEADLINE_LEADS = frozenset(
    (
        *("habari", "za", "nsango", "ya", "news", "from", "urgent", "alerte", "alert", "flash"),
        *("info", "sud", "nord", "south", "north", "kusini", "kaskazini", "grand"),
    )
)
# After a dateline's place: a colon or a dash set apart by spaces ("Beni :", "BENI - ",
# "Butembo (Nord-Kivu) :", "Lubero, Julai 24:"), not the dash of a road ("Kibirizi-Kirina").
_DATELINE_END = re.compile(
    r"\s*(?:\([^)]*\)\s*)?(?:,[^,.:;\n]{1,24})?(?::|\s[-\u2013\u2014]\s|[\u2013\u2014])"
)
# A dateline ranks below an area and a "near X" (-3.0), above where the wounded were taken,
# where people fled to and where someone came from or was heading (-4.0).
_DATELINE = 3.5


def _dateline(
    m: Mention,
    mentions: Sequence[Mention],
    said: frozenset[int],
    tokens: Sequence[Token],
    text: str,
) -> bool:
    """The name opens the text, after at most a headline's lead words, and a colon or a dash
    follows it: where the report comes from ("Habari za Beni: ... katika vijiji vya Mamove",
    "Oicha : ... l'incursion des ADF a Misenge, dans le groupement de Batangi-Mbau"), which
    a place the event is said to be in (``said``: indexes of such mentions) outranks (Place
    rule 2), when named exactly after it. A name merely mentioned after it does not ("Beni:
    3 morts ... Le maire de Butembo condamne"); the same name again as an area may ("Fizi:
    ... eneo la Fizi"); a name one or two letters off does not."""
    if not text or any(t.norm not in _HEADLINE_LEADS for t in tokens[: m.start]):
        return False
    end = _DATELINE_END.match(text, tokens[m.end - 1].end)
    if end is None:
        return False
    # a place in its brackets is the dateline's own area: "Ntoyo (Lubero): ..." is Ntoyo
    return any(
        i in said and o.kind != "fuzzy" and tokens[o.start].start >= end.end()
        for i, o in enumerate(mentions)
    )


# How far before the category's word a place said to be where it happened may come ("Mavivi
# attaquee", "Alimbongo, Kitsombiro et Katondi desertes").
_CUE_BEFORE_REACH = 4


def _said_where(
    m: Mention,
    idx: int,
    mentions: Sequence[Mention],
    preps: Sequence[Hit],
    marks: Sequence[Hit],
    hits: Sequence[Hit],
    cues: Sequence[Hit],
    tokens: Sequence[Token],
    text: str,
) -> bool:
    """The text says something happens at the name: after a place word (not a bare "de" / "ya"
    / "na": "le maire de Butembo", "mwalimu wa shule ya Oicha"), as an area, "near" it, on a
    road, in "the villages of" it, or right after or before the category's word."""
    if _source_place(m, marks, tokens, text):
        return False  # "selon la societe civile de Beni": where the teller is
    prep = _listed_prep(m, idx, mentions, preps, text, tokens)
    if prep is not None and prep.cue not in _WEAK_FROM and prep.cue not in _WEAK_PREPS:
        return True
    if all(p.area_level for p in _candidates(m, marks)):
        return True
    if any(h.group in ("ROAD", *_AREA_MARKS) and h.end in (m.start, m.start - 1) for h in marks):
        return True
    if any(h.group == "SETTLEMENT" and 0 <= m.start - h.end <= 1 for h in hits):
        return True
    if _right_after_cue(m, cues, tokens, text):
        return True
    return any(
        c.start >= m.end
        and c.start - m.end <= _CUE_BEFORE_REACH
        and not any(ch in text[tokens[m.end - 1].end : tokens[c.start].start] for ch in ".;:")
        for c in cues
    )


# How far a place said to be where the category's word happened may follow it ("fighting in
# X", "combats a X", "mapigano huko X").
_CUE_REACH = 2


def _right_after_cue(m: Mention, cues: Sequence[Hit], tokens: Sequence[Token], text: str) -> bool:
    """The name follows one of the words that decided the category within _CUE_REACH words,
    in its clause."""
    for c in cues:
        if c.end <= m.start and m.start - c.end <= _CUE_REACH:
            between = text[tokens[c.end - 1].end : tokens[m.start].start]
            if not any(ch in between for ch in ".;:,"):
                return True
    return False


def _in_area_name(
    m: Mention, found: Sequence[Mention], hits: Sequence[Hit], tokens: Sequence[Token], text: str
) -> bool:
    """The name is the second half of a hyphenated name that is no place of the gazetteer,
    named as an area ("secteur de Banyali-Kilo", "Banyali-Kilo sector", "groupement de
    Bahema-Boga"): the area's name, not the place (Kilo, Boga). A road "Kibirizi-Kirina" names
    no area."""
    i = m.start
    if not text or i == 0 or text[tokens[i - 1].end : tokens[i].start] != "-":
        return False
    if any(o.start <= i - 1 < o.end for o in found):
        return False  # "Beni-Mbau": a name of its own
    first = i - 1
    return any(
        h.group in _AREA_MARKS and (h.end in (first, first - 1) or h.start == m.end) for h in hits
    )


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
        hits, "NEAR", "DISPLACEMENT", "TRANSFER", "ROAD", "LIKE", "SOURCE", "SAID", *_AREA_MARKS
    )
    marks += _shared_area_marks(marks, tokens)
    if category != "DISPLACEMENT":
        marks += _shelters(hits, tokens, text)
    # Words the lexicon recognised (verbs matched by a pattern, too) are not fuzzy place names.
    recognised = {tokens[i].norm for h in hits for i in range(h.start, h.end)}
    # Typos are looked up only where one could be taken: a capital, or after a place word.
    fuzzy_at = {h.end for h in hits if h.group in _PLACE_MARKS + _AREA_MARKS}
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
        if _in_area_name(m, found, hits, tokens, text):
            refused.append(f"'{m.text}' is part of an area's name")
            continue
        mentions.append(m)
    mentions, elsewhere = _in_named_provinces(mentions, preps)
    marks += _areas_after_places(mentions, tokens, text) + _articled_areas(mentions, tokens)
    refused.extend(elsewhere)
    mentions, outside = _in_named_territories(mentions, marks)
    refused.extend(outside)
    # At most two of these notes, so that the reasons stay readable.
    reasons.extend(refused[:2])
    if len(refused) > 2:
        reasons.append(f"and {len(refused) - 2} more words not read as places")
    if mentions:
        said = frozenset(
            i
            for i, o in enumerate(mentions)
            if _said_where(o, i, mentions, preps, marks, hits, cues, tokens, text)
        )
        # the pluperfect's places, when the event decided is told outside it
        spans = background_spans(hits, tokens, text)
        background = spans if any(not in_background(c, spans) for c in cues) else []
        namesakes = frozenset(
            i for i, o in enumerate(mentions) if _outside_named(o, mentions, marks)
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
        if category != "DISPLACEMENT" and _fled_to(
            chosen, ranked[0], mentions, preps, marks, text, tokens
        ):
            # Place rule 2: where people flee to is not where the event is, even when the place
            # of the event is not in the gazetteer ("survivors are fleeing towards Kalemie")
            reasons.append(f"'{chosen.text}' is where people flee to, not where it happened")
            mentions = []
    if mentions:
        candidates = _candidates(chosen, marks)
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
        distinct = {_candidates(mm, marks)[0].id for mm in mentions}
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
