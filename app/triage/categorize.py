"""Category of an alert (TRIAGE.md "Categories"): cue words, then negation and modality,
then the highest-ranked category left wins."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import get_args

from app.triage.lexicon import CATEGORY_GROUPS, EVENT_GROUPS, Hit, groups_in
from app.triage.normalize import Token
from app.triage.types import Category

RANK: dict[str, int] = {cat: i for i, cat in enumerate(CATEGORY_GROUPS)}

# Words skipped when looking at the object of "shot at" / "took" (determiners, prepositions).
_SKIP = frozenset(
    [
        "sur",
        "contre",
        "la",
        "le",
        "les",
        "l",
        "des",
        "de",
        "du",
        "d",
        "un",
        "une",
        "sa",
        "son",
        "ses",
        "nos",
        "notre",
        "leur",
        "leurs",
        "kwa",
        "on",
        "at",
        "the",
        "a",
        "an",
        "into",
        "dans",
        "ya",
        "wa",
        "za",
        "some",
        "several",
        "plusieurs",
        "all",
        "more",
        "than",
        "over",
        "about",
        "around",
        "least",
        "plus",
        "environ",
        "moins",
        "zaidi",
        "their",
        "his",
        "her",
        "tous",
        "toutes",
        "with",
        "avec",
    ]
)
_AFTER = frozenset(("apres", "baada", "after", "suite", "depuis", "sima", "nsima"))
# A perfect between a modal word and the event says it happened: "les FARDC annoncent avoir tue
# 5 ADF", "rebels claim to have killed", "say they have seized".
_PERFECT = frozenset(("avoir", "have", "having"))
_MODAL_WINDOW = 4
# Modal words of fear: what is feared may also be dated, then it happened (`_dated`).
_FEAR_WORDS = frozenset(("fear", "fears", "feared", "afraid", "peur", "hofu", "wanaogopa"))
_NEG_WINDOW = 3

# What each end marker cancels.
_RELEASE_CANCELS = frozenset(("ABDUCTION", "TAKE", "SIGHTING", "AP_WEAK", "SEIZE"))
# A bare "victims" (_VICTIMS, below) is the victims of the rape, kidnapping or robbery beside
# it, not people killed or hurt (unless an attack word says so).
_HARMS_OF_VICTIMS = frozenset(("SEXUAL_VIOLENCE", "ABDUCTION", "LOOTING"))
# Words between an ambush and the armed men it was laid for ("ambushed the ADF", "une embuscade
# aux FARDC").
_AIMED = frozenset(("aux", "au", "a", "the", "an", "on", "against", "contre", "des", "les", "kwa"))
# An explosion is a weapon's only when it hurt someone or came with fighting: by itself it
# names no bomb ("explosion at a fuel depot, no casualties").
_BLASTS = frozenset(("explosion", "explosions", "mlipuko", "milipuko"))
# Auxiliaries of a passive ("12 militiamen were neutralised", "5 miliciens ont ete
# neutralises"): the men named before are its object, not its subject.
_PASSIVE = frozenset(("were", "was", "been", "ete", "sont"))
_AUXILIARIES = _PASSIVE | {"have", "has", "had", "ont", "a"}


# Object pronouns of people ("les FARDC les ont neutralises", "neutralised them", "deux d'entre
# eux").
_PRONOUNS_BEFORE = frozenset(("les", "leur"))
_PRONOUNS_AFTER = frozenset(("them", "eux"))


def _pronoun_object(h: Hit, tokens: Sequence[Token]) -> bool:
    before = [t.norm for t in tokens[max(0, h.start - 2) : h.start]]
    after = [t.norm for t in tokens[h.end : h.end + 4]]
    pronoun_before = bool(before) and (
        before[-1] in _PRONOUNS_BEFORE
        or (len(before) == 2 and before[0] in _PRONOUNS_BEFORE and before[1] in _AUXILIARIES)
    )
    return pronoun_before or any(w in _PRONOUNS_AFTER for w in after)


def _passive_subject(a: Hit, h: Hit, tokens: Sequence[Token]) -> bool:
    """``a`` comes right before ``h``, or before a passive's auxiliaries ("were", "ont ete")."""
    between = [t.norm for t in tokens[a.end : h.start]]
    if a.end > h.start or len(between) > 2:
        return False
    return not between or (
        all(w in _AUXILIARIES for w in between) and any(w in _PASSIVE for w in between)
    )


_PRESENCE = frozenset(("ARMED_PRESENCE", "SIGHTING"))
# Armed men, a fight or an attack feared rather than seen ("par peur d'une incursion",
# "fearing fighting", "wanaogopa mapigano"): a THREAT.
_FEARABLE = _PRESENCE | {"CLASH", "GUNFIRE", "ATTACK"}
# Words that take people or goods away: after a release, still a looting of the goods.
_TAKINGS = frozenset(("TAKE", "ABDUCTION"))
# A strike, march or "ville morte" cancels what would read as arson, flight or presence.
_PROTEST_CANCELS = frozenset(
    ("DISPLACEMENT", "ARSON", "ARMED_PRESENCE", "SIGHTING", "AP_WEAK", "THREAT", "SEIZE")
)
_OTHERS = frozenset(("wengine", "others", "autres", "d autres"))
# "victimes de viol", "victims of kidnapping": the victims of the harm named after them.
_VICTIMS = frozenset(("victime", "victimes", "victim", "victims"))
_OF = frozenset(("de", "d", "du", "des", "la", "l", "of", "the", "an", "a"))
# Words joining the items of a list ("une moto et deux personnes", "pikipiki na watu wawili").
_JOIN = frozenset(("et", "and", "na", "mpe", "with", "avec"))
# What ends the words a verb may take: a sentence or a clause.
_ENDS_SENTENCE = frozenset(".;:!?")
_ENDS_OBJECT = _ENDS_SENTENCE | {","}
# Before the doer of a passive verb ("tuees par des eleveurs", "killed by herders").
_AGENT = frozenset(("par", "by"))
# The harms whose victims are not people killed or hurt. Not a fight's, nor an incursion's
# ("victimes des combats", "5 victimes de l'incursion des ADF"): those are its dead and wounded.
_HARMS_NOT_KILLING = frozenset(
    ("ABDUCTION", "SEXUAL_VIOLENCE", "ARSON", "LOOTING", "DISPLACEMENT", "THREAT")
)
# Armed men gone end their presence, their fight and the shelling that hurt no one ("les
# M23 ont quitte Sake apres les bombardements"), as calm does.
_GONE_CANCELS = frozenset(
    ("ARMED_PRESENCE", "SIGHTING", "AP_WEAK", "CLASH", "GUNFIRE", "THREAT", "WEAPON")
)
_CALM_CANCELS = frozenset(
    (
        "ABDUCTION",
        "TAKE",
        "CLASH",
        "GUNFIRE",
        "ARMED_PRESENCE",
        "SIGHTING",
        "AP_WEAK",
        "DISPLACEMENT",
        "THREAT",
        "ATTACK",
        # bombs and shells were ATTACK words: calm after them ends the threat as well
        "WEAPON",
    )
)
# Harm a modal word can announce: the categories from ATTACK to LOOTING and their helpers.
_MODAL_TARGETS = frozenset(
    (
        *CATEGORY_GROUPS[: CATEGORY_GROUPS.index("LOOTING") + 1],
        "GUNFIRE",
        "TAKE",
        "ASSAULT",
        "WEAPON",
    )
)


@dataclass(frozen=True, slots=True)
class Decision:
    """The category and why."""

    category: Category
    cues: tuple[Hit, ...]
    reasons: tuple[str, ...]


def _q(text: str) -> str:
    return f"'{text}'"


def _overlaps(a: Hit, b: Hit) -> bool:
    return a.start < b.end and b.start < a.end


def _negated(
    h: Hit,
    negs: Sequence[Hit],
    negs_after: Sequence[Hit],
    tokens: Sequence[Token],
    text: str,
    items: frozenset[int] = frozenset(),
) -> Hit | None:
    """The negation of ``h``: one just before it (or, Lingala's, just after) in its clause
    ("No deaths, militiamen burned 30 houses": the houses were burned), or before the list it
    ends ("Aucun mort, blesse ou pillage": ``items`` are the tokens of event words)."""
    for n in negs:
        if n.end > h.start:
            continue
        if h.start - n.end < _NEG_WINDOW and not _across_clause(n, h, tokens, text):
            return n
        if _listed_after(n, h, tokens, text, items):
            return n
    for n in negs_after:
        if (
            n.start >= h.end
            and n.start - h.end < _NEG_WINDOW
            and not _across_clause(h, n, tokens, text)
        ):
            return n
    return None


# Words that join the items of a negated list ("ni morts ni blesses", "no deaths, injuries or
# looting", "hakuna majeruhi wala uporaji").
_LIST_JOINS = frozenset(("ou", "ni", "et", "or", "nor", "and", "wala", "na", "au"))
_LIST_REACH = 8


def _listed_after(
    n: Hit, h: Hit, tokens: Sequence[Token], text: str, items: frozenset[int]
) -> bool:
    """``h`` ends a list of event words that starts right after the negation ``n``: only event
    words, joins and commas between them, in one sentence."""
    if not items or h.start - n.end > _LIST_REACH:
        return False
    between = range(n.end, h.start)
    if not all(i in items or tokens[i].norm in _LIST_JOINS for i in between):
        return False
    gap = text[tokens[n.end - 1].end : tokens[h.start].start] if text else ""
    return not any(c in gap for c in ".;:")


def _is_count(norm: str, number_words: frozenset[str]) -> bool:
    return norm.isdigit() or norm in number_words


# French determiners: a word of both PEOPLE and GOODS after one is a thing ("une moto", a
# motorbike), without one a person (Lingala "moto": a person).
_DETERMINERS = frozenset(
    ("un", "une", "le", "la", "l", "les", "des", "sa", "son", "ses", "leur", "leurs", "cette")
)


def _object_at(tokens: Sequence[Token], hits: Sequence[Hit], i: int) -> str | None:
    """PEOPLE or GOODS for the word at token ``i`` (None: neither). A word of both languages'
    lists ("moto") is GOODS after a French determiner, else PEOPLE."""
    groups = {h.group for h in hits if h.start == i and h.group in ("PEOPLE", "GOODS")}
    if len(groups) == 2:
        before = tokens[i - 1].norm if i > 0 else ""
        return "GOODS" if before in _DETERMINERS or before.isdigit() else "PEOPLE"
    return groups.pop() if groups else None


def _object_from(
    tokens: Sequence[Token],
    hits: Sequence[Hit],
    pos: int,
    number_words: frozenset[str],
    text: str = "",
    listed: bool = False,
) -> tuple[int, str | None]:
    """(token, PEOPLE/GOODS/None) of the first meaningful word at or after token ``pos``; a
    count before it is skipped, in digits or in words ("took six passengers", "5 jeunes").
    None after "par" / "by": who comes next did it ("occupes par ces eleveurs"); none past
    the end of the clause (``listed``: ``pos`` is the next item of a list, after its comma).
    People with a possessive after them own the object ("took the owner's motorbike")."""
    for i in range(pos, min(len(tokens), pos + 4)):
        norm = tokens[i].norm
        if norm in _AGENT:
            return i, None
        ends = _ENDS_SENTENCE if i == pos and listed else _ENDS_OBJECT
        if text and i and any(c in ends for c in text[tokens[i - 1].end : tokens[i].start]):
            return i, None  # "chevres emportees. Les gens ont dormi en brousse": no one taken
        if norm in _SKIP or _is_count(norm, number_words):
            continue
        group = _object_at(tokens, hits, i)
        if group == "PEOPLE" and _possessive_after(tokens, i, text):
            # "the village chief's goats", "the herders' cattle": whose, not what was taken;
            # the people themselves when what is theirs is not goods ("the chief's wife")
            after = i + 2 if i + 1 < len(tokens) and tokens[i + 1].norm == "s" else i + 1
            owned = _object_from(tokens, hits, after, number_words, text)
            return owned if owned[1] == "GOODS" else (i, group)
        if (
            group is None
            # a name, or a word after a count or a determiner; right after the verb or the
            # gunfire it is a verb ("gunfire frightened villagers": no one shot at)
            and (i > pos or tokens[i].raw[:1].isupper())
            and _before_object(tokens, hits, i, text)
        ):
            continue  # a name or a noun before the object: "3 Kenyan truck drivers"
        return i, group
    return pos, None


_APOSTROPHES = "'\u2019`\u00b4"


def _possessive_after(tokens: Sequence[Token], i: int, text: str) -> bool:
    """An apostrophe right after the word at ``i`` ("owner's", "herders'")."""
    return bool(text) and text[tokens[i].end : tokens[i].end + 1] in tuple(_APOSTROPHES)


# Words that start a phrase of their own after a noun ("the harvest of families", "food from
# traders"): what follows them is not the object.
_PREPOSITIONS = frozenset(("of", "from", "for", "to", "by", "in", "par", "pour", "chez", "kutoka"))


def _before_object(tokens: Sequence[Token], hits: Sequence[Hit], i: int, text: str) -> bool:
    """The word at ``i`` says what kind of object comes next: the object is the next word
    ("two Vitshumbi fishermen", "aid workers"), or the one after a second such word ("3
    Kenyan truck drivers"), with nothing but spaces between ("risasi nzito, watu": no)."""
    for k in (i + 1, i + 2):
        if k >= len(tokens) or (text and text[tokens[k - 1].end : tokens[k].start].strip()):
            return False
        if _object_at(tokens, hits, k) is not None:
            return True
        word = tokens[k].norm
        if not word.isalpha() or word in _SKIP or word in _JOIN or word in _PREPOSITIONS:
            return False
    return False


def _next_object(
    tokens: Sequence[Token],
    hits: Sequence[Hit],
    pos: int,
    number_words: frozenset[str] = frozenset(),
    text: str = "",
) -> str | None:
    """Group (PEOPLE/GOODS) of the first meaningful word at or after token ``pos``."""
    return _object_from(tokens, hits, pos, number_words, text)[1]


# People followed by one of these words are a new clause's subject ("les biens, et la
# population a fui"), not people taken.
_OWN_MOVES = frozenset(("DISPLACEMENT", "SIGHTING"))


# Joins of more than one word ("les chevres ainsi que deux enfants", "pamoja na watoto").
_JOIN_PHRASES = (("ainsi", "que"), ("pamoja", "na"), ("along", "with"), ("as", "well", "as"))
# How far after one item of a list the next one may start (its own words: "les marchandises
# de la boutique et deux enfants").
_LIST_WINDOW = 5


def _next_item(tokens: Sequence[Token], i: int, text: str) -> tuple[int, bool] | None:
    """Where the item after the one at token ``i`` starts, and whether a join word (not a
    comma) leads to it; None when the list ends (nothing within _LIST_WINDOW words, or the
    clause ends)."""
    for k in range(i + 1, min(len(tokens), i + 1 + _LIST_WINDOW)):
        sep = text[tokens[k - 1].end : tokens[k].start] if text else " "
        if any(c in ".;:" for c in sep):
            return None
        if "," in sep:
            return k, False
        for phrase in _JOIN_PHRASES:
            if tuple(t.norm for t in tokens[k : k + len(phrase)]) == phrase:
                return k + len(phrase), True
        if tokens[k].norm in _JOIN:
            return k + 1, True
    return None


def _taken(
    tokens: Sequence[Token],
    hits: Sequence[Hit],
    pos: int,
    number_words: frozenset[str],
    text: str = "",
) -> set[str]:
    """What a taking word at ``pos`` takes (PEOPLE, GOODS): its first object and the items of
    the list it heads ("ont pris une moto et deux personnes": both; "les vaches, les chevres
    et deux enfants": goods and people). Goods may follow a comma; people only a join word
    ("et / na / and / ainsi que / pamoja na / along with"): "ont emporte les chevres, les
    enfants pleurent" takes goods only. People who move by themselves after a join are left
    out ("ont pris les biens et la population a fui": goods only)."""
    taken: set[str] = set()
    joined = True
    while True:
        i, group = _object_from(tokens, hits, pos, number_words, text, listed=bool(taken))
        if group is None:
            return taken
        if taken and group == "PEOPLE" and not joined:
            return taken
        if (
            taken
            and group == "PEOPLE"
            # "near" says where, not that the people moved ("2 passengers near Mabenga")
            and any(
                h.group in _OWN_MOVES and h.cue not in _NEARNESS and 0 < h.start - i <= 3
                for h in hits
            )
        ):
            return taken
        taken.add(group)
        item = _next_item(tokens, i, text)
        if item is None:
            return taken
        pos, joined = item


# People words that name an armed group's own men ("ambushed M23 men", "ADF members").
_MEMBERS = frozenset(("men", "members", "hommes", "membres"))


def _at_armed_men(h: Hit, hits: Sequence[Hit], tokens: Sequence[Token]) -> bool:
    """An ambush or raid laid for armed men: an armed group or the army named right after it
    (at most two small words between)."""
    for a in hits:
        if a.group != "ACTOR" or not 0 <= a.start - h.end <= 2:
            continue
        if any(g.group == "PEOPLE" and g.start == a.end and g.cue not in _MEMBERS for g in hits):
            continue  # "ambushed Mbororo herders": a people's name, then the people
        if all(t.norm in _AIMED for t in tokens[h.end : a.start]):
            return True
    return False


# How far after a passive taking word its doer may be named ("taken from their home by
# armed bandits").
_AGENT_REACH = 5


# Lexicon groups a name may also be in: common names, function words.
_NAMES_OK = frozenset(("STOP", "FUNC"))


def _name_taken(h: Hit, hits: Sequence[Hit], tokens: Sequence[Token], text: str) -> str | None:
    """Armed men (named at most three words before ``h``) who took a name written with a
    capital right after it: PEOPLE when people are listed with it ("ont pris Kambale et sa
    femme"), else PLACE ("Les M23 ont pris Rubaya hier", "had taken Kyaghala")."""
    i = h.end
    if not text or text.isupper() or i >= len(tokens) or not tokens[i].raw[:1].isupper():
        return None
    if tokens[i].norm in _SKIP or any(g.start == i and g.group not in _NAMES_OK for g in hits):
        return None
    if not any(a.group == "ACTOR" and 0 <= h.start - a.end <= 3 for a in hits):
        return None
    item = _next_item(tokens, i, text)
    if item is None or not item[1]:
        return "PLACE"
    with_it = _object_from(tokens, hits, item[0], frozenset(), text)[1]
    return "PEOPLE" if with_it == "PEOPLE" else "PLACE"


def _arrest(h: Hit) -> bool:
    """An arrest word ("arrete par les FARDC", "arrested", "wamekamatwa"): who was arrested is
    said by its object, not guessed from the sentence."""
    return h.cue.startswith("arret") or h.cue == "arrested" or "kamat" in h.cue


def _by_armed_men(h: Hit, hits: Sequence[Hit], tokens: Sequence[Token]) -> bool:
    """Armed men named after "by" / "par" within _AGENT_REACH words after ``h``: a passive
    whose doers are armed men."""
    for i in range(h.end, min(len(tokens), h.end + _AGENT_REACH)):
        if tokens[i].norm in _AGENT:
            return any(a.group == "ACTOR" and i < a.start <= i + 3 for a in hits)
    return False


def _subject_before(h: Hit, hits: Sequence[Hit], tokens: Sequence[Token], text: str) -> Hit | None:
    """The people or goods named last before ``h`` in its sentence, not armed men: what a
    passive taking word took."""
    actors = [a for a in hits if a.group == "ACTOR"]
    found = None
    for g in hits:
        if g.group not in ("PEOPLE", "GOODS") or g.end > h.start:
            continue
        if any(a.start <= g.start and g.end <= a.end for a in actors):
            continue
        if text and any(c in ".;!?" for c in text[tokens[g.end - 1].end : tokens[h.start].start]):
            continue
        if found is None or g.start > found.start:
            found = g
    return found


def _before_passive(tokens: Sequence[Token], pos: int) -> set[int]:
    """Where the subject of the word at token ``pos`` may end: right before it, one word
    before it, or before the auxiliaries of a passive ("2 femmes ont ete prises")."""
    p = pos
    while p > 0 and pos - p < 2 and tokens[p - 1].norm in _AUXILIARIES:
        p -= 1
    return {pos, pos - 1, p, p - 1}


def _people_before(tokens: Sequence[Token], hits: Sequence[Hit], pos: int) -> bool:
    """Whether people are named right before token ``pos`` (or one word before it, or before a
    passive's auxiliaries); not armed men ("armed men took control of the town": no one
    taken)."""
    actors = [a for a in hits if a.group == "ACTOR"]
    ends = _before_passive(tokens, pos)
    return any(
        _object_at(tokens, hits, h.start) == "PEOPLE"
        and not any(a.start <= h.start and h.end <= a.end for a in actors)
        for h in hits
        if h.group == "PEOPLE" and h.end in ends
    )


def _animals_before(tokens: Sequence[Token], hits: Sequence[Hit], pos: int) -> bool:
    """Whether animals are named right before token ``pos`` ("5 chevres prises par des
    bandits", "ng'ombe walichukuliwa")."""
    ends = _before_passive(tokens, pos)
    return any(h.group == "ANIMAL" and h.end in ends for h in hits)


def _gap(a: Hit, b: Hit) -> int:
    return max(a.start - b.end, b.start - a.end, 0)


_CLAUSE_MARKS = frozenset(",;:.")


def _across_clause(a: Hit, b: Hit, tokens: Sequence[Token], text: str) -> bool:
    """A comma, semicolon, colon or full stop between two hits: they are in different
    clauses ("chevres pillees, 2 blesses")."""
    first, second = (a, b) if a.start < b.start else (b, a)
    if not text or first.end > second.start or first.end == 0:
        return False
    between = text[tokens[first.end - 1].end : tokens[second.start].start]
    return any(c in _CLAUSE_MARKS for c in between)


def _joined_after(h: Hit, g: Hit, tokens: Sequence[Token]) -> bool:
    """``g`` is a new item of a list after ``h``: "et"/"and"/"na", then at most a count or a
    determiner, then ``g`` ("un mort par balle et 88 vaches emportees"), not the object of a
    verb ("ont tue et emporte 5 chevres")."""
    if g.start < h.end:
        return False
    between = [t.norm for t in tokens[h.end : g.start]]
    joins = [i for i, w in enumerate(between) if w in _JOIN]
    if not joins:
        return False
    return all(w.isdigit() or w in _SKIP for w in between[joins[-1] + 1 :])


def _about_animals(h: Hit, tokens: Sequence[Token], hits: Sequence[Hit], text: str) -> bool:
    """A kill word whose victims in its clause are animals ("vaches tuees", "killed two cows",
    "na kuua wengine" after "ng'ombe"); "chevres pillees, 2 blesses" counts wounded people.

    Its object, the victim word right after it, comes first: "bandits who took cows killed
    three people" killed people. An animal object with people in its list ("killed 4 cows and
    2 herders") killed people too; an agent ("tuees par des eleveurs") is no object. Else the
    victim word nearest before it ("vaches tuees")."""
    animals = [a for a in hits if a.group == "ANIMAL"]
    if not animals:
        return False
    after = [t.norm for t in tokens[h.end : h.end + 3]]
    if any(w in _OTHERS for w in after) and any(a.end <= h.start for a in animals):
        return True
    actors = [a for a in hits if a.group == "ACTOR"]
    near = [
        g
        for g in hits
        if g.group in ("ANIMAL", "PEOPLE")
        and _gap(g, h) <= 4
        and not _across_clause(g, h, tokens, text)
        and not _joined_after(h, g, tokens)
        and not any(a.start <= g.start and g.end <= a.end for a in actors)
        and not (g.start >= h.end and any(t.norm in _AGENT for t in tokens[h.end : g.start]))
    ]
    objects = [g for g in near if g.start >= h.end]
    if objects:
        first = min(objects, key=lambda g: g.start)
        people_too = any(
            g.group == "PEOPLE"
            and (
                (_joined_after(first, g, tokens) and _gap(g, first) <= 4)
                # "killed a cattle trader", "a goat herder": the animal names their trade
                or (g.start == first.end and not _across_clause(first, g, tokens, text))
            )
            for g in hits
        )
        return first.group == "ANIMAL" and not people_too
    if not near:
        return False
    return min(near, key=lambda g: _gap(g, h)).group == "ANIMAL"


def victims_of(h: Hit, tokens: Sequence[Token], events: Sequence[Hit]) -> Hit | None:
    """The harm named right after "victims of", when it is one of _HARMS_NOT_KILLING
    ("victimes de viol", "victims of kidnapping"): the victims are then that harm's, not people
    killed or hurt. The victims of a fight or an incursion are its dead and wounded. `h` is a
    "victims" word (of ATTACK, or of the KILLED counts: app.triage.numbers)."""
    if h.cue not in _VICTIMS:
        return None
    pos = h.end
    while pos < min(len(tokens), h.end + 3) and tokens[pos].norm in _OF:
        pos += 1
    if pos == h.end:
        return None
    for e in events:
        if e.start == pos and e.group in _HARMS_NOT_KILLING:
            return e
    return None


def _beside(h: Hit, marks: Sequence[Hit], tokens: Sequence[Token], text: str) -> Hit | None:
    """A mark within three words of ``h``, either side, in the same clause ("bombe
    desamorcee", "defused a bomb", "engin explosif decouvert")."""
    for m in marks:
        if _gap(m, h) <= 3 and not _across_clause(m, h, tokens, text):
            return m
    return None


# Those who escape or are freed beside the ones taken ("4 colleagues escaped").
_COMPANIONS = frozenset(
    ("colleagues", "collegues", "companions", "compagnons", "wenzao", "wenzake", "wenzetu")
)


_BUT = frozenset(("mais", "but", "lakini", "however", "cependant", "pourtant", "kasi", "ila"))
_MORE_PEOPLE = frozenset(
    ("autres", "other", "others", "more", "wengine", "mwingine", "encore", "again", "tena")
)


def _people_taken_after(
    r: Hit,
    events: Sequence[Hit],
    hits: Sequence[Hit],
    tokens: Sequence[Token],
    text: str,
    number_words: frozenset[str],
) -> bool:
    """People taken in a clause after the release: a new abduction, which the release does not
    end ("Les ADF ont libere 3 otages, mais ont emporte 2 enfants", "Hostages released, but
    the militia took 4 more people"); not one told as what came before ("liberes, apres avoir
    ete enleves")."""
    for e in events:
        if e.group not in ("ABDUCTION", "TAKE") or e.start < r.end:
            continue
        if not _across_clause(r, e, tokens, text):
            continue
        between = {t.norm for t in tokens[r.end : e.start]}
        if between & _AFTER:
            continue  # the release's own story: "liberes apres avoir ete enleves"
        # said of new people: after "but", or "others / more" next to the taking ("Ils avaient
        # ete enleves a Oicha" tells the release's own story)
        near = {t.norm for t in tokens[max(r.end, e.start - 2) : e.end + 4]}
        if not (between & _BUT or near & _MORE_PEOPLE):
            continue
        if e.group == "ABDUCTION" or "PEOPLE" in _taken(tokens, hits, e.end, number_words, text):
            return True
    return False


# Former hostages are people who were held once: naming them ends their own captivity only,
# not people taken in the message ("d anciens otages racontent que les ADF ont enleve 15
# personnes"). "walitoroka" (they escaped, they fled) is a release only of hostages named.
_FORMER_HOSTAGES = frozenset(
    ("anciens otages", "ex otages", "mateka wa zamani", "former hostages", "former captives")
)
_ESCAPED_OR_FLED = frozenset(("walitoroka",))
_HOSTAGE_WORDS = frozenset(
    ("otage", "otages", "mateka", "hostage", "hostages", "captive", "captives", "captivite")
)


# A release told as before the message's events: a span of time, then "plus tot",
# "auparavant", "earlier" ("une semaine plus tot", "two days earlier"; not "earlier today").
_EARLIER = (("plus", "tot"), ("auparavant",), ("earlier",))
_SPANS = frozenset(
    [
        "semaine",
        "semaines",
        "jour",
        "jours",
        "mois",
        "week",
        "weeks",
        "day",
        "days",
        "month",
        "months",
        "siku",
        "wiki",
    ]
)


def _earlier_release(r: Hit, events: Sequence[Hit], tokens: Sequence[Token], text: str) -> bool:
    """A release in a sentence of its own that says it came earlier ("Une semaine plus tot,
    un chauffeur kidnappe a Biriba avait ete relache"), after people taken in another
    sentence: it ends an earlier captivity, not theirs."""
    if not text:
        return False
    start = r.start
    while start and not any(
        c in ".!?;\n" for c in text[tokens[start - 1].end : tokens[start].start]
    ):
        start -= 1
    before = [t.norm for t in tokens[start : r.start]]
    earlier = any(
        tuple(before[i : i + len(p)]) == p and i and before[i - 1] in _SPANS
        for p in _EARLIER
        for i in range(len(before))
    )
    taken_before = any(e.group in _TAKINGS and e.end <= start for e in events)
    return earlier and taken_before


# A fight or a killing dated right after it has happened, or goes on, whoever fears it: "les
# tirs qui crepitent depuis ce matin", "mauaji ya jana", "risasi ... tangu asubuhi".
_SINCE = frozenset(("depuis", "tangu", "since"))
_DATED_REACH = 4
# Words that start a time after "since" ("depuis ce matin", "tangu asubuhi", "since dawn"), not
# an event ("depuis l'arrivee des ADF", "tangu M23 walipofika").
_TIME_STARTS = frozenset(
    (
        "ce",
        "cette",
        "cet",
        "hier",
        "avant",
        "mardi",
        "lundi",
        "mercredi",
        "jeudi",
        "vendredi",
        "samedi",
        "dimanche",
        "matin",
        "minuit",
        "aube",
        "asubuhi",
        "alfajiri",
        "jana",
        "juzi",
        "usiku",
        "mchana",
        "jioni",
        "saa",
        "leo",
        "jumatatu",
        "jumanne",
        "jumatano",
        "alhamisi",
        "ijumaa",
        "jumamosi",
        "jumapili",
        "this",
        "last",
        "yesterday",
        "dawn",
        "morning",
        "midnight",
        "monday",
        "tuesday",
        "wednesday",
        "thursday",
        "friday",
        "saturday",
        "sunday",
    )
)


def _a_time(word: str) -> bool:
    return word in _TIME_STARTS or word[:1].isdigit()


def _dated(h: Hit, hits: Sequence[Hit], tokens: Sequence[Token], text: str) -> bool:
    """A past word, a now-word or "since" within _DATED_REACH words after ``h``, in its
    clause."""
    end = h.end
    for k in range(h.end, min(len(tokens), h.end + _DATED_REACH)):
        if text and any(c in _CLAUSE_MARKS for c in text[tokens[k - 1].end : tokens[k].start]):
            break
        end = k + 1
    if any(
        tokens[k].norm in _SINCE and k + 1 < len(tokens) and _a_time(tokens[k + 1].norm)
        for k in range(h.end, end)
    ):
        return True
    return any(g.group in ("PAST", "ONGOING") and h.end <= g.start < end for g in hits)


def _no_longer(h: Hit, tokens: Sequence[Token]) -> bool:
    """French "ne ... plus" right before ``h`` ("ils ne sont plus aux mains des ravisseurs",
    "aucun n'est plus aux mains de ravisseurs"): no one is held any more."""
    before = [t.norm for t in tokens[max(0, h.start - 3) : h.start]]
    return any(
        w == "plus" and any(b in ("ne", "n") for b in before[max(0, k - 2) : k])
        for k, w in enumerate(before)
    )


def _not_a_release(r: Hit, events: Sequence[Hit], tokens: Sequence[Token]) -> bool:
    """A release word that ends nothing here: former hostages named beside people taken in the
    message, or an escape word ("walitoroka") with no hostages named ("wakazi walitoroka":
    the residents fled)."""
    if r.cue in _FORMER_HOSTAGES:
        return any(e.group in _TAKINGS and (e.end <= r.start or e.start >= r.end) for e in events)
    if r.cue in _ESCAPED_OR_FLED:
        return not any(t.norm in _HOSTAGE_WORDS for t in tokens)
    return False


def _others_freed(
    r: Hit,
    events: Sequence[Hit],
    tokens: Sequence[Token],
    text: str,
    number_words: frozenset[str],
) -> bool:
    """A release or escape said of other people than those taken in an earlier clause: its
    own subject, in its clause, is others or companions ("4 colleagues escaped", "wengine
    wawili walitoroka") or a count the message did not give before ("10 enleves, 4 ont ete
    liberes"). It does not end the abduction of the rest. "Les 7 agriculteurs kidnappes ...
    se sont echappes" (one clause) and "... les 10 otages ont ete liberes" (the same count)
    still do."""
    taken = [
        e
        for e in events
        if e.group in ("ABDUCTION", "TAKE")
        and e.end <= r.start
        and _across_clause(e, r, tokens, text)
    ]
    if not taken:
        return False
    subject: list[str] = []
    i = r.start
    while i > 0 and len(subject) < 4:
        if any(c in _CLAUSE_MARKS for c in text[tokens[i - 1].end : tokens[i].start]):
            break
        i -= 1
        subject.append(tokens[i].norm)
    if any(w in _OTHERS or w in _COMPANIONS for w in subject):
        return True
    counts = {w for w in subject if _is_count(w, number_words)}
    given = {t.norm for t in tokens[:i] if _is_count(t.norm, number_words)}
    return bool(counts - given)


# After armed men leave a place, these say they are on the move, not gone.
_STILL_MOVING = frozenset(("SIGHTING", "ARMED_PRESENCE", "DIRECTION"))


def _armed_leaving(h: Hit, hits: Sequence[Hit], actors: Sequence[Hit]) -> bool:
    """Armed men right before a word of leaving ("les M23 ont quitte Sake", "M23 left Sake",
    "M23 wametoka Sake"), and no movement or direction after it ("ont quitte Kibumba vers
    Rugari" is a movement): they are gone."""
    subject = any(0 <= h.start - a.end <= 2 for a in actors)
    moving = any(g.group in _STILL_MOVING and g.start >= h.end for g in hits)
    return subject and not moving


# "karibu (na)", "near": armed men near a place ("ADF wako karibu na Mamove"), or only where
# something is ("barabara ... karibu na Kiliba").
_NEARNESS = frozenset(("karibu", "near"))


def _armed_beside(h: Hit, actors: Sequence[Hit], tokens: Sequence[Token], text: str) -> bool:
    """Armed men named within three words of ``h``, in its clause."""
    return any(_gap(a, h) <= 3 and not _across_clause(a, h, tokens, text) for a in actors)


def _parties(actors: Sequence[Hit], tokens: Sequence[Token]) -> list[set[str]]:
    """The armed parties the actor words name, each as its words: words next to each other,
    or with one word between that is not "et / na / and", are one party ("rebelles du M23",
    "M23 rebels", "waasi wa M23")."""
    parties: list[set[str]] = []
    last_end = -10
    for a in sorted((a for a in actors if a.group == "ACTOR"), key=lambda a: a.start):
        between = {t.norm for t in tokens[last_end : a.start]} if a.start >= last_end else set()
        if parties and a.start - last_end <= 1 and not between & _JOIN:
            parties[-1].add(a.cue)
        else:
            parties.append({a.cue})
        last_end = max(last_end, a.end)
    return parties


def _armed_on_both_sides(h: Hit, actors: Sequence[Hit], tokens: Sequence[Token]) -> bool:
    """One armed party before a weapon word and another after it: the one firing and the one
    fired at ("les FARDC ont bombarde les positions M23", "Wazalendo wamerusha mabomu kwa
    M23"). The same party on both sides ("le M23 ... bombarde ... le M23") is one; two parties
    after it ("bombes du M23 sur Goma, les FARDC ripostent") say no more than who fired."""
    before = _parties([a for a in actors if a.end <= h.start], tokens)
    after = _parties([a for a in actors if a.start >= h.end], tokens)
    return any(not (b & a) for b in before for a in after)


def _at_positions(h: Hit, hits: Sequence[Hit]) -> bool:
    """A weapon fired at armed men's positions ("ont bombarde les positions M23", "mabomu
    kwenye ngome za M23", "shelled rebel positions")."""
    return any(g.group == "POSITIONS" and 0 <= g.start - h.end <= 4 for g in hits)


# Tax words that are a forced tax only when armed men are named ("M23 charge their own duties";
# not "customs duties went up", "nurses on night duties").
_ARMED_TOLLS = frozenset(("duties",))


# One person leaving a place ("le chef a quitte Kibua pour une reunion", "the doctor left")
# is no flight of people.
_ONE_PERSON = frozenset(
    (
        "personne",
        "civil",
        "femme",
        "enfant",
        "commercant",
        "motard",
        "passager",
        "conducteur",
        "chauffeur",
        "chef",
        "fillette",
        "infirmier",
        "enseignant",
        "eleveur",
        "berger",
        "proprietaire",
        "mtu",
        "mtoto",
        "mwanamke",
        "mkulima",
        "msafiri",
        "chifu",
        "mwalimu",
        "mfugaji",
        "mchungaji",
        "mfanyakazi",
        "mwana",
        "civilian",
        "person",
        "woman",
        "child",
        "passenger",
        "driver",
        "chief",
        "teacher",
        "herder",
        "herdsman",
        "owner",
        "farmer",
        "man",
        "boy",
        "girl",
        "catechist",
        "doctor",
        "nurse",
        "motorcyclist",
        "daughter",
        "son",
        "wife",
        "husband",
        "brother",
        "sister",
        "mother",
        "pastor",
        "priest",
        "nun",
        "journalist",
        "epouse",
        "mari",
        "frere",
        "soeur",
        "pasteur",
        "pretre",
        "religieuse",
        "journaliste",
        "mke",
        "mume",
        "binti",
        "padri",
        "mwandishi",
    )
)


def _people_subject(h: Hit, hits: Sequence[Hit]) -> Hit | None:
    """People right before a movement word ("les gens se deplacent", "deplaces arrivent"),
    who are then the ones moving, not armed men."""
    for g in hits:
        if (
            g.group in ("PEOPLE", "DISPLACEMENT")
            and 0 <= h.start - g.end <= 2
            and not any(a.group == "ACTOR" and a.start <= g.start < a.end for a in hits)
        ):
            return g
    return None


def categorize(
    tokens: Sequence[Token],
    hits: Sequence[Hit],
    number_words: frozenset[str] = frozenset(),
    text: str = "",
) -> Decision:
    """Pick the category of a message from its lexicon hits (``number_words``: the lexicon's
    numbers, so that a count in words is read as one; ``text``: the text the tokens were cut
    from, whose punctuation separates clauses)."""
    reasons: list[str] = []
    negs = groups_in(hits, "NEG")
    negs_after = groups_in(hits, "NEG_AFTER")
    # The tokens of event words, which a negated list is made of.
    items = frozenset(i for e in hits if e.group in EVENT_GROUPS for i in range(e.start, e.end))

    def alive(group_hits: list[Hit]) -> list[Hit]:
        out = []
        for h in group_hits:
            n = _negated(h, negs, negs_after, tokens, text, items)
            if n is None:
                out.append(h)
            elif h.group in RANK or h.group.startswith("END"):
                reasons.append(f"{_q(n.cue)} negates {_q(h.cue)}")
        return out

    # Every event word but a protest's (a protest cancels some of them: _PROTEST_CANCELS).
    events = alive(groups_in(hits, *(EVENT_GROUPS - {"PROTEST"})))
    # "victims of the kidnapping" stay the kidnapping's when a release cancels it below
    named_harms = events
    actors = alive(groups_in(hits, "ACTOR", "AP_WEAK"))

    # End of a threat: hostages released, armed men gone, calm returned. A release of some
    # while others are still held ends nothing ("ont relache les adultes mais garde les onze").
    held = [h for h in alive(groups_in(hits, "HELD")) if not _no_longer(h, tokens)]
    feared = groups_in(hits, "FEARED")
    cancelled: set[str] = set()
    fired: set[str] = set()
    leaving = [h for h in alive(groups_in(hits, "LEFT")) if _armed_leaving(h, hits, actors)]
    for end_group, cancels, what in (
        ("END_RELEASE", _RELEASE_CANCELS, "released: threat ended"),
        ("END_GONE", _GONE_CANCELS, "gone: threat ended"),
        ("END_CALM", _CALM_CANCELS, "calm: threat ended"),
        ("PROTEST", _PROTEST_CANCELS, "a strike or protest, not an attack"),
    ):
        ends = alive(groups_in(hits, end_group)) + (leaving if end_group == "END_GONE" else [])
        if end_group == "END_RELEASE":
            ends = [
                r
                for r in ends
                if not _others_freed(r, events, tokens, text, number_words)
                and not _people_taken_after(r, events, hits, tokens, text, number_words)
                and not _not_a_release(r, events, tokens)
                and not _earlier_release(r, events, tokens, text)
            ]
            if held:
                ends = []
        if ends:
            cancelled |= cancels
            reasons.append(f"{_q(ends[0].cue)} → {what}")
            fired.add(end_group)
    # A release gives the people back, not the goods taken with them: a taking word then counts
    # for the goods only ("freed ..., but the militiamen also left with goats"); calm returned
    # ends the looting too.
    goods_kept = "END_RELEASE" in fired and "END_CALM" not in fired
    if cancelled:
        harm = groups_in(hits, "KILLED", "WOUNDED")
        kept = []
        for h in events:
            if (
                (h.group == "ATTACK" and any(_overlaps(h, k) for k in harm))
                or h.group not in cancelled
                or (h.group in _TAKINGS and goods_kept)
            ):
                kept.append(h)
        events = kept

    # Modality: rumours, threats and intentions turn the harm named after them into a THREAT.
    # A forced tax or a barrier (TOLL) is a harm of its own, not one announced: "tax collectors
    # killed" were killed.
    tolls = groups_in(hits, "TOLL")
    modals = groups_in(hits, "RUMOUR", "INTENT") + [
        h for h in events if h.group == "THREAT" and not any(_overlaps(h, t) for t in tolls)
    ]
    candidates: dict[str, list[Hit]] = {}

    def add(category: str, h: Hit) -> None:
        candidates.setdefault(category, []).append(h)

    for h in events:
        group = h.group
        if group in _MODAL_TARGETS:
            modal = None
            for m in modals:
                if m is h or not (m.start <= h.start and h.start - m.end < _MODAL_WINDOW):
                    continue
                if m.group in ("INTENT", "THREAT") and _across_clause(m, h, tokens, text):
                    # "Wavuvi wanapanga mgomo: maharamia wameiba ...": the plan is a strike
                    continue
                between = {t.norm for t in tokens[m.end : h.start]}
                if between & _AFTER or (m.group != "RUMOUR" and between & _PERFECT):
                    continue
                if m.cue in _FEAR_WORDS and _dated(h, hits, tokens, text):
                    # "afraid of the gunshots heard since this morning": they were heard
                    continue
                modal = m
                break
            if modal is not None:
                reasons.append(f"{_q(modal.cue)} → {_q(h.cue)} has not happened")
                add("THREAT", h)
                continue
        harm_named = victims_of(h, tokens, named_harms) if group == "ATTACK" else None
        if harm_named is not None:
            reasons.append(f"{_q(h.cue)} of {_q(harm_named.cue)}: not people killed or hurt")
            continue
        if (
            group in _FEARABLE
            and any(
                0 <= h.start - f.end <= 2
                # "par peur des ADF signales a Mamove": the armed men named are seen, then feared
                and not any(a.group == "ACTOR" and f.end <= a.start < h.start for a in hits)
                for f in feared
            )
            and not _dated(h, hits, tokens, text)
        ):
            # "fuient par peur d une incursion des ADF": feared, not seen
            reasons.append(f"{_q(h.cue)} is feared, not seen → THREAT")
            add("THREAT", h)
            continue
        if group == "CLASH" and h.cue.startswith("neutralis"):
            i, obj = _object_from(tokens, hits, h.end, number_words, text)
            # "neutralise 5 miliciens", "81 militiamen (were) neutralised"; not its subject
            # ("les FARDC ont neutralise un engin explosif")
            named = any(
                a.group == "ACTOR" and (a.start == i or _passive_subject(a, h, tokens))
                for a in hits
            ) or _pronoun_object(h, tokens)
            if obj != "PEOPLE" and not named:
                continue  # "neutralise un engin explosif": no fight (a bomb made safe: DEFUSED)
        if group == "ATTACK" and h.cue in _VICTIMS:
            other = next((e for e in events if e.group in _HARMS_OF_VICTIMS), None)
            if other is not None and not any(
                e.group == "ATTACK" and e.cue not in _VICTIMS for e in events
            ):
                # "18 femmes violees ..., les victimes rentraient du marche": the rape's victims
                reasons.append(f"{_q(h.cue)}: the victims of {_q(other.cue)}")
                continue
        if group in ("ATTACK", "ASSAULT") and _about_animals(h, tokens, hits, text):
            reasons.append(f"{_q(h.cue)} is about animals → LOOTING")
            add("LOOTING", h)
        elif group == "ASSAULT" and _at_armed_men(h, hits, tokens):
            # "soldiers ambushed ADF fighters", "embuscade tendue aux FARDC": a fight
            reasons.append(f"{_q(h.cue)} against armed men → CLASH")
            add("CLASH", h)
        elif group == "ASSAULT":
            harm = groups_in(hits, "KILLED", "WOUNDED")
            people_taken = any(
                e.group not in cancelled  # taken and released
                and (
                    e.group == "ABDUCTION"
                    or (
                        e.group == "TAKE"
                        and "PEOPLE" in _taken(tokens, hits, e.end, number_words, text)
                    )
                )
                for e in events
            )
            if not harm and people_taken:
                reasons.append(f"{_q(h.cue)} with people taken and no one hurt → ABDUCTION")
                add("ABDUCTION", h)
            elif not harm and any(e.group == "SEXUAL_VIOLENCE" for e in events):
                # the harm done in the ambush is the rape (TRIAGE.md: an ATTACK kills or hurts)
                reasons.append(f"{_q(h.cue)} with a rape and no one killed or wounded")
            elif not harm and "END_RELEASE" in fired:
                # "staff kidnapped after an ambush have been released": the hostages released
                # end it (TRIAGE.md: OTHER), unless goods were kept
                reasons.append(f"{_q(h.cue)}: those taken in it were released")
            elif harm or not any(e.group in ("LOOTING", "TAKE") for e in events):
                add("ATTACK", h)
            else:
                reasons.append(f"{_q(h.cue)} with goods taken and no one hurt → LOOTING")
        elif group == "WEAPON":
            defused = _beside(h, alive(groups_in(hits, "DEFUSED")), tokens, text)
            if defused is not None:
                reasons.append(f"{_q(h.cue)} {defused.cue}: it went off nowhere, no attack")
                continue
            found = _beside(h, alive(groups_in(hits, "FOUND")), tokens, text)
            if found is not None:
                reasons.append(f"{_q(h.cue)} {found.cue}: it has not gone off → THREAT")
                add("THREAT", h)
                continue
            harm = alive(groups_in(hits, "KILLED", "WOUNDED"))
            fight = any(e.group in ("CLASH", "GUNFIRE") for e in events)
            if fight and not harm:
                reasons.append(f"{_q(h.cue)} with fighting and no one hurt → the fight's weapons")
                add("CLASH", h)
            elif not harm and (_armed_on_both_sides(h, actors, tokens) or _at_positions(h, hits)):
                reasons.append(f"{_q(h.cue)} between armed actors and no one hurt → CLASH")
                add("CLASH", h)
            elif not harm and h.cue in _BLASTS:
                # an explosion names no weapon: a fuel depot, a gas tank, a tyre may blow up
                reasons.append(f"{_q(h.cue)} with no one hurt and no weapon named: no attack")
            else:
                add("ATTACK", h)
        elif group == "SEIZE":
            obj = _next_object(tokens, hits, h.end, number_words, text)
            if obj == "PEOPLE" or (obj is None and _people_before(tokens, hits, h.start)):
                add("ABDUCTION", h)
            elif actors:
                add("ARMED_PRESENCE", h)
        elif group == "GUNFIRE":
            obj = _next_object(tokens, hits, h.end, number_words, text)
            if obj == "PEOPLE":
                reasons.append(f"{_q(h.cue)} aimed at people")
                add("ATTACK", h)
            else:
                add("CLASH", h)
        elif group in _TAKINGS and goods_kept and group in cancelled:
            if "GOODS" in _taken(tokens, hits, h.end, number_words, text):
                reasons.append(f"{_q(h.cue)}: the goods taken with the people were not given back")
                add("LOOTING", h)
        elif group == "TAKE":
            taken = _taken(tokens, hits, h.end, number_words, text)
            if "PEOPLE" in taken or (not taken and _people_before(tokens, hits, h.start)):
                add("ABDUCTION", h)
            elif "GOODS" in taken or (not taken and _animals_before(tokens, hits, h.start)):
                add("LOOTING", h)
            elif not taken and not _arrest(h) and _by_armed_men(h, hits, tokens):
                # "2 girls of the same family, 4 n 16 yrs old, taken ... by armed bandits"
                subject = _subject_before(h, hits, tokens, text)
                if subject is not None:
                    reasons.append(f"{_q(h.cue)} by armed men: {_q(subject.cue)} taken")
                    add("ABDUCTION" if subject.group == "PEOPLE" else "LOOTING", h)
            elif (
                not taken and not _arrest(h) and (name_taken := _name_taken(h, hits, tokens, text))
            ):
                # "Les M23 ont pris Rubaya hier": a place seized; "ont pris Kambale et sa femme"
                if name_taken == "PEOPLE":
                    reasons.append(f"{_q(h.cue)} a name and people with it → ABDUCTION")
                    add("ABDUCTION", h)
                else:
                    reasons.append(f"armed men {h.cue} a name: a place seized → ARMED_PRESENCE")
                    add("ARMED_PRESENCE", h)
        elif group == "SIGHTING":
            movers = _people_subject(h, hits)
            if h.cue in _NEARNESS and not _armed_beside(h, actors, tokens, text):
                reasons.append(f"{_q(h.cue)} with no armed men beside it: a location")
            elif movers is not None:
                reasons.append(f"{_q(movers.cue)} {h.cue}: people moving → DISPLACEMENT")
                add("DISPLACEMENT", h)
            elif actors:
                add("ARMED_PRESENCE", h)
        elif group == "AP_WEAK":
            add("AP_WEAK", h)
        elif group == "THREAT" and h.cue in _ARMED_TOLLS and not actors:
            reasons.append(f"{_q(h.cue)} with no armed men named: no forced tax")
        else:
            add(group, h)

    for h in alive(groups_in(hits, "LEFT")):
        movers = _people_subject(h, hits)
        if "DISPLACEMENT" in cancelled:
            break  # "les deplaces ont quitte le camp ..., le calme est revenu"
        if movers is not None and movers.cue not in _ONE_PERSON:
            # "thousands of families left Kibua", "les habitants ont quitte Kiwanja"
            reasons.append(f"{_q(movers.cue)} {h.cue}: people leaving → DISPLACEMENT")
            add("DISPLACEMENT", h)

    if "AP_WEAK" in candidates:
        weak = candidates.pop("AP_WEAK")
        if "THREAT" not in candidates and "ARMED_PRESENCE" not in candidates:
            candidates["ARMED_PRESENCE"] = weak

    if not candidates:
        reasons.append("no alert word → OTHER")
        return Decision("OTHER", (), tuple(reasons))
    best = min(candidates, key=lambda c: RANK[c])
    cues = tuple(candidates[best])
    category: Category = _as_category(best)
    head = [f"{_q(h.cue)} → {category}" for h in cues[:3]]
    others = sorted((c for c in candidates if c != best), key=lambda c: RANK[c])
    if others:
        head.append(f"{category} outranks {', '.join(others)}")
    return Decision(category, cues, tuple(head + reasons))


def _as_category(name: str) -> Category:
    return _CATEGORIES.get(name, "OTHER")


_CATEGORIES: dict[str, Category] = {c: c for c in get_args(Category)}
