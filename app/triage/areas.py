"""Administrative areas and the words around place names (TRIAGE.md "Place", rules 3 and 6):
the level written next to a name ("territoire de Beni", "le Masisi"), the places a name may
stand for, typos and namesakes outside the provinces and territoires the text names."""

from __future__ import annotations

from collections.abc import Sequence
from itertools import pairwise

from app.triage.lexicon import Hit
from app.triage.normalize import Token
from app.triage.types import GazPlace, Mention

WEAK_FROM = frozenset(("de", "d", "du", "des"))


WEAK_PREPS = frozenset(("na", "kwa", "ya", "en", "on"))


AREA_MARKS = ("AREA_TERRITOIRE", "AREA_SECTEUR", "AREA_CHEFFERIE", "AREA_GROUPEMENT")


def prep_before(hits: Sequence[Hit], pos: int) -> Hit | None:
    """The place preposition right before token ``pos`` (one filler word allowed)."""
    best: Hit | None = None
    for h in hits:
        if h.end in (pos, pos - 1) and (best is None or h.end > best.end):
            best = h
    return best


def _area_level(m: Mention, marks: Sequence[Hit]) -> str | None:
    """The area level written next to a name: "territoire de Beni", "Djugu territory"."""
    for h in marks:
        if h.group in AREA_MARKS and (h.end == m.start or h.start == m.end):
            return h.group.removeprefix("AREA_").lower()
    return None


# A plural area word names the level of every name of its list ("Rutshuru and Masisi
# territories", "territoires de Rutshuru et Masisi").
_PLURAL_AREAS = frozenset(("territories", "territoires", "territoires de", "maeneo ya"))


_LIST_JOINS = frozenset(("and", "et", "na"))


def shared_area_marks(marks: Sequence[Hit], tokens: Sequence[Token]) -> list[Hit]:
    """For a plural area word after (before) a list of two one-word names joined by "and / et
    / na", the same word next to the name the list starts (ends) with."""
    extra = []
    for h in marks:
        if h.group not in AREA_MARKS or h.cue not in _PLURAL_AREAS:
            continue
        if h.start >= 3 and tokens[h.start - 2].norm in _LIST_JOINS:
            extra.append(Hit(h.group, h.lang, h.start - 2, h.start - 2, h.cue))
        if h.end + 2 < len(tokens) and tokens[h.end + 1].norm in _LIST_JOINS:
            extra.append(Hit(h.group, h.lang, h.end + 2, h.end + 2, h.cue))
    return extra


def areas_after_places(
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
    prep = prep_before(preps, m.start)
    return prep is not None and prep.group == "FROM" and prep.cue not in WEAK_FROM


def in_named_provinces(
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
        for p in places_of(m, marks)
        if p.area_level == "territoire"
    }


# How near a name the territoire said to hold it is written ("Nango, a village of the Mompoyi
# collectivity in Ango territory").
_HELD_REACH = 10


def outside_named(m: Mention, mentions: Sequence[Mention], marks: Sequence[Hit]) -> bool:
    """A territoire is named as one ("territoire de Walikale", "Ango territory"; not a bare
    "Nyiragongo") within _HELD_REACH words of the name, no other name between, and every place the
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
        # the nearest name beside it: not "de Kitshanga arrivent a Kanyabayonga, territoire de
        # Lubero"
        and not any(min(o.start, m.start) < x.start < max(o.start, m.start) for x in mentions)
        for p in places_of(o, marks)
        if p.area_level == "territoire"
    }
    return bool(near) and all((p.admin2 or "").casefold() not in near for p in places)


def in_named_territories(
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


def articled_areas(mentions: Sequence[Mention], tokens: Sequence[Token]) -> list[Hit]:
    """A name right after "le / du / au" that is also a territoire's: an area word before it
    ("chasser les FDLR du Lubero"), so that it is read as the territoire."""
    return [
        Hit("AREA_TERRITOIRE", "fr", m.start - 1, m.start, tokens[m.start - 1].norm)
        for m in mentions
        if m.start > 0
        and tokens[m.start - 1].norm in _ARTICLES
        and tokens[m.start - 1].raw.islower()
        and any(p.area_level == "territoire" for p in m.places)
        and not (m.end < len(tokens) and tokens[m.end].norm in _TOWN_WORDS)
    ]


# "au Lubero centre", "du Masisi ville": the town, not the territoire.
_TOWN_WORDS = frozenset(("centre", "ville", "cite", "town", "mjini"))


def places_of(m: Mention, marks: Sequence[Hit]) -> tuple[GazPlace, ...]:
    """The places a name may stand for: the areas of the level written next to it, else the
    settlements of that name (a bare "Beni" is the town, not the territoire)."""
    level = _area_level(m, marks)
    areas = [p for p in m.places if p.area_level]
    if level is not None and areas:
        return tuple([p for p in areas if p.area_level == level] or areas)
    settlements = [p for p in m.places if not p.area_level]
    return tuple(settlements or m.places)


def in_area_name(
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
        h.group in AREA_MARKS and (h.end in (first, first - 1) or h.start == m.end) for h in hits
    )
