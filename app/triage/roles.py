"""What a place name is to the event (TRIAGE.md "Place", rule 2): where people fled to, where
the wounded were taken, a road, a shelter, a source's town, a distance from, a dateline, or
where the text says something happens."""

from __future__ import annotations

import re
from collections.abc import Sequence

from app.triage.areas import (
    AREA_MARKS,
    WEAK_FROM,
    WEAK_PREPS,
    places_of,
    prep_before,
)
from app.triage.clauses import SENTENCE_MARKS
from app.triage.lexicon import EVENT_GROUPS, Hit, groups_in
from app.triage.normalize import Token
from app.triage.types import Mention


def listed_prep(
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
    prep = prep_before(preps, m.start)
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
    shared = listed_prep(prev, idx - 1, mentions, preps, text, tokens)
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
    prep = prep_before(preps, j - 1)
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


def road_span(
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


# A relative "where" after a name: what follows happens there.
_WHERE = frozenset(("where", "ou", "ambako", "ambapo", "epai"))


def fled_to(
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
    prep = listed_prep(m, idx, mentions, preps, text, tokens)
    following = mentions[idx + 1].start if idx + 1 < len(mentions) else len(tokens)
    if m.end < len(tokens) and tokens[m.end].norm in _WHERE and following > m.end + 1:
        return False  # "fled to Oicha, where the ADF attacked them": the event is there
    return prep is not None and fleeing_to(prep, marks)


def fleeing_to(prep: Hit, marks: Sequence[Hit]) -> bool:
    """A word of fleeing to ("se sont refugies a", "wamekimbilia", "streaming towards"), or a
    direction word right after a flight word ("fuient vers"); not one that says where the
    victims were sheltering."""
    if sheltered(prep, marks):
        return False
    return prep.group == "FLEE_TO" or (prep.group == "DIRECTION" and _fleeing_before(prep, marks))


def sheltered(prep: Hit, marks: Sequence[Hit]) -> bool:
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


def shelters(hits: Sequence[Hit], tokens: Sequence[Token], text: str) -> list[Hit]:
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


def taken_to(
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


def distance_from(m: Mention, tokens: Sequence[Token]) -> bool:
    """The name follows a "from" a few words after a distance unit ("kilomita 20 tu kutoka
    Goma"): where the distance is counted from (Place rule 6)."""
    if m.start < 2 or tokens[m.start - 1].norm not in _DISTANCE_FROM:
        return False
    return any(
        t.norm in _DISTANCE_UNITS
        for t in tokens[max(0, m.start - 1 - _DISTANCE_REACH) : m.start - 1]
    )


def in_cue_sentence(m: Mention, cues: Sequence[Hit], tokens: Sequence[Token], text: str) -> bool:
    """One of the words that decided the category is in the name's sentence."""
    for c in cues:
        lo, hi = sorted((c.start, m.start))
        between = text[tokens[lo].end : tokens[hi].start] if lo < hi else ""
        if not any(ch in between for ch in SENTENCE_MARKS):
            return True
    return False


def source_place(m: Mention, marks: Sequence[Hit], tokens: Sequence[Token], text: str) -> bool:
    """The name is where someone telling the news is: a SOURCE word right before it, with
    only a place word or articles between, and its SAID word right after the name or just
    before the source ("the Red Cross secretary in Mutwanga confirmed", "selon la societe
    civile de Beni"); not a source word the event hits ("le secretaire de Kalunguta a ete tue
    ..., a declare un habitant"); or where someone spoke from ("Speaking at Mangina, the
    commander said", "joint depuis Beni")."""
    if any(h.group == "SPOKE_AT" and h.end in (m.start, m.start - 1) for h in marks):
        return True
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


def dateline(
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


def said_where(
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
    if source_place(m, marks, tokens, text):
        return False  # "selon la societe civile de Beni": where the teller is
    prep = listed_prep(m, idx, mentions, preps, text, tokens)
    if prep is not None and prep.cue not in WEAK_FROM and prep.cue not in WEAK_PREPS:
        return True
    if all(p.area_level for p in places_of(m, marks)):
        return True
    if any(h.group in ("ROAD", *AREA_MARKS) and h.end in (m.start, m.start - 1) for h in marks):
        return True
    if any(h.group == "SETTLEMENT" and 0 <= m.start - h.end <= 1 for h in hits):
        return True
    if right_after_cue(m, cues, tokens, text):
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


def right_after_cue(m: Mention, cues: Sequence[Hit], tokens: Sequence[Token], text: str) -> bool:
    """The name follows one of the words that decided the category within _CUE_REACH words,
    in its clause."""
    for c in cues:
        if c.end <= m.start and m.start - c.end <= _CUE_REACH:
            between = text[tokens[c.end - 1].end : tokens[m.start].start]
            if not any(ch in between for ch in ".;:,"):
                return True
    return False


# Words joining two names of one list ("vers Oicha et Beni", "from Kiwanja and Rutshuru").
_AND = frozenset(("et", "and", "na", "mpe", "ou", "or", "&"))


_SHARED_PREPS = frozenset(("DIRECTION", "FROM", "LOCATIVE", "FLEE_TO"))
