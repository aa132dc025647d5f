"""What a verb takes and who does it: the object of a taking, a killing or a neutralising word
(people, goods or animals), its subject, a passive's doer, and the people moving."""

from __future__ import annotations

from collections.abc import Sequence

from app.triage.clauses import JOIN, NEARNESS, OTHERS, across_clause, gap_between, is_count
from app.triage.lexicon import Hit
from app.triage.normalize import Token

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


# Words between an ambush and the armed men it was laid for ("ambushed the ADF", "une embuscade
# aux FARDC").
_AIMED = frozenset(("aux", "au", "a", "the", "an", "on", "against", "contre", "des", "les", "kwa"))


# Auxiliaries of a passive ("12 militiamen were neutralised", "5 miliciens ont ete
# neutralises"): the men named before are its object, not its subject.
_PASSIVE = frozenset(("were", "was", "been", "ete", "sont"))


_AUXILIARIES = _PASSIVE | {"have", "has", "had", "ont", "a"}


# Object pronouns of people ("les FARDC les ont neutralises", "neutralised them", "deux d'entre
# eux").
_PRONOUNS_BEFORE = frozenset(("les", "leur"))


_PRONOUNS_AFTER = frozenset(("them", "eux"))


def pronoun_object(h: Hit, tokens: Sequence[Token]) -> bool:
    before = [t.norm for t in tokens[max(0, h.start - 2) : h.start]]
    after = [t.norm for t in tokens[h.end : h.end + 4]]
    pronoun_before = bool(before) and (
        before[-1] in _PRONOUNS_BEFORE
        or (len(before) == 2 and before[0] in _PRONOUNS_BEFORE and before[1] in _AUXILIARIES)
    )
    return pronoun_before or any(w in _PRONOUNS_AFTER for w in after)


def passive_subject(a: Hit, h: Hit, tokens: Sequence[Token]) -> bool:
    """``a`` comes right before ``h``, or before a passive's auxiliaries ("were", "ont ete")."""
    between = [t.norm for t in tokens[a.end : h.start]]
    if a.end > h.start or len(between) > 2:
        return False
    return not between or (
        all(w in _AUXILIARIES for w in between) and any(w in _PASSIVE for w in between)
    )


# What ends the words a verb may take: a sentence or a clause.
_ENDS_SENTENCE = frozenset(".;:!?")


_ENDS_OBJECT = _ENDS_SENTENCE | {","}


# Before the doer of a passive verb ("tuees par des eleveurs", "killed by herders").
_AGENT = frozenset(("par", "by"))


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


def object_from(
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
        if norm in _SKIP or is_count(norm, number_words):
            continue
        group = _object_at(tokens, hits, i)
        if group == "PEOPLE" and _possessive_after(tokens, i, text):
            # "the village chief's goats", "the herders' cattle": whose, not what was taken;
            # the people themselves when what is theirs is not goods ("the chief's wife")
            after = i + 2 if i + 1 < len(tokens) and tokens[i + 1].norm == "s" else i + 1
            owned = object_from(tokens, hits, after, number_words, text)
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
        if not word.isalpha() or word in _SKIP or word in JOIN or word in _PREPOSITIONS:
            return False
    return False


def next_object(
    tokens: Sequence[Token],
    hits: Sequence[Hit],
    pos: int,
    number_words: frozenset[str] = frozenset(),
    text: str = "",
) -> str | None:
    """Group (PEOPLE/GOODS) of the first meaningful word at or after token ``pos``."""
    return object_from(tokens, hits, pos, number_words, text)[1]


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
        if tokens[k].norm in JOIN:
            return k + 1, True
    return None


def what_is_taken(
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
        i, group = object_from(tokens, hits, pos, number_words, text, listed=bool(taken))
        if group is None:
            return taken
        if taken and group == "PEOPLE" and not joined:
            return taken
        if (
            taken
            and group == "PEOPLE"
            # "near" says where, not that the people moved ("2 passengers near Mabenga")
            and any(
                h.group in _OWN_MOVES and h.cue not in NEARNESS and 0 < h.start - i <= 3
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


def at_armed_men(h: Hit, hits: Sequence[Hit], tokens: Sequence[Token]) -> bool:
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


# People words that may name armed men ("unknown men took two girls", "des jeunes armes").
_MAYBE_ARMED = _MEMBERS | {
    *("man", "homme", "individus", "individuals", "wanaume", "mibali"),
    *("jeunes", "vijana", "youths", "youth", "young", "bilenge"),
}


# "are taking", "is taking": the subject of an English present is before them.
_PROGRESSIVE = frozenset(("are", "is"))


def subject_took(h: Hit, hits: Sequence[Hit], tokens: Sequence[Token]) -> bool:
    """People right before an English active taking word ("took", "taking"), with at most its
    auxiliaries between, are who took, not who was taken ("the children are taking exams");
    with a pronoun or armed men between they are the object of a relative clause ("the 20
    people they took", "the girls the ADF took")."""
    if h.lang != "en" or h.cue == "taken":
        return False
    for g in hits:
        if g.group != "PEOPLE" or g.end > h.start or h.start - g.end > 2:
            continue
        if all(t.norm in _AUXILIARIES or t.norm in _PROGRESSIVE for t in tokens[g.end : h.start]):
            return True
    return False


def civilians_took(h: Hit, hits: Sequence[Hit], tokens: Sequence[Token]) -> bool:
    """People, not armed men, right before the taking word ``h``: they took someone somewhere
    ("women took their children to hospital", "les familles ont emmene les blesses"), no
    abduction. Men of no stated kind may be armed ("unknown men took two girls")."""
    subject = people_subject(h, hits)
    if subject is None or subject.group != "PEOPLE" or subject.cue in _MAYBE_ARMED:
        return False
    # right before it, or before its auxiliaries ("les familles ont emmene"); not a name's
    # word ("SOS Village d Enfants na kuondoka na"), nor armed men's ("bato ya ADF bakamati")
    between = [t.norm for t in tokens[subject.end : h.start]]
    if not all(w in _AUXILIARIES or w in _PROGRESSIVE for w in between):
        return False
    return not any(a.group == "ACTOR" and subject.end <= a.start < h.start for a in hits)


def seized_settlement(h: Hit, hits: Sequence[Hit], tokens: Sequence[Token], text: str) -> bool:
    """A town or a village right after the taking word ``h`` (past determiners), armed men
    named before it in its sentence: a place seized ("M23 took the town of Sake", "les M23 ont
    pris la cite", "two days after taking the city")."""
    i = h.end
    while i < min(len(tokens), h.end + 3) and tokens[i].norm in _SKIP:
        i += 1
    settlement = next((g for g in hits if g.group == "SETTLEMENT" and g.start == i), None)
    if settlement is None or _possessive_after(tokens, settlement.end - 1, text):
        return False  # "took the village's goats": whose, not what
    return any(
        a.group == "ACTOR"
        and a.end <= h.start
        and not (
            text and any(c in ".!?" for c in text[tokens[a.end - 1].end : tokens[h.start].start])
        )
        for a in hits
    )


def seized_name(h: Hit, hits: Sequence[Hit], tokens: Sequence[Token], text: str) -> str | None:
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
    with_it = object_from(tokens, hits, item[0], frozenset(), text)[1]
    return "PEOPLE" if with_it == "PEOPLE" else "PLACE"


def is_arrest(h: Hit) -> bool:
    """An arrest word ("arrete par les FARDC", "arrested", "wamekamatwa"): who was arrested is
    said by its object, not guessed from the sentence."""
    return h.cue.startswith("arret") or h.cue == "arrested" or "kamat" in h.cue


def by_armed_men(h: Hit, hits: Sequence[Hit], tokens: Sequence[Token]) -> bool:
    """Armed men named after "by" / "par" within _AGENT_REACH words after ``h``: a passive
    whose doers are armed men."""
    for i in range(h.end, min(len(tokens), h.end + _AGENT_REACH)):
        if tokens[i].norm in _AGENT:
            return any(a.group == "ACTOR" and i < a.start <= i + 3 for a in hits)
    return False


def subject_before(h: Hit, hits: Sequence[Hit], tokens: Sequence[Token], text: str) -> Hit | None:
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


def people_before(tokens: Sequence[Token], hits: Sequence[Hit], pos: int) -> bool:
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


def animals_before(tokens: Sequence[Token], hits: Sequence[Hit], pos: int) -> bool:
    """Whether animals are named right before token ``pos`` ("5 chevres prises par des
    bandits", "ng'ombe walichukuliwa")."""
    ends = _before_passive(tokens, pos)
    return any(h.group == "ANIMAL" and h.end in ends for h in hits)


def _joined_after(h: Hit, g: Hit, tokens: Sequence[Token]) -> bool:
    """``g`` is a new item of a list after ``h``: "et"/"and"/"na", then at most a count or a
    determiner, then ``g`` ("un mort par balle et 88 vaches emportees"), not the object of a
    verb ("ont tue et emporte 5 chevres")."""
    if g.start < h.end:
        return False
    between = [t.norm for t in tokens[h.end : g.start]]
    joins = [i for i, w in enumerate(between) if w in JOIN]
    if not joins:
        return False
    return all(w.isdigit() or w in _SKIP for w in between[joins[-1] + 1 :])


def about_animals(h: Hit, tokens: Sequence[Token], hits: Sequence[Hit], text: str) -> bool:
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
    if any(w in OTHERS for w in after) and any(a.end <= h.start for a in animals):
        return True
    actors = [a for a in hits if a.group == "ACTOR"]
    near = [
        g
        for g in hits
        if g.group in ("ANIMAL", "PEOPLE")
        and gap_between(g, h) <= 4
        and not across_clause(g, h, tokens, text)
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
                (_joined_after(first, g, tokens) and gap_between(g, first) <= 4)
                # "killed a cattle trader", "a goat herder": the animal names their trade
                or (g.start == first.end and not across_clause(first, g, tokens, text))
            )
            for g in hits
        )
        return first.group == "ANIMAL" and not people_too
    if not near:
        return False
    return min(near, key=lambda g: gap_between(g, h)).group == "ANIMAL"


def people_subject(h: Hit, hits: Sequence[Hit]) -> Hit | None:
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


# Words between the weapons a man carries ("de fusils et de machettes", "guns or machetes").
_ARMS_JOIN = JOIN | {"de", "des", "d", "du", "ou", "or", "of", "za", "ya", "wa"}
# How many words back from a weapon word its CARRY word may stand.
_CARRY_REACH = 8


def carried(h: Hit, hits: Sequence[Hit], tokens: Sequence[Token]) -> bool:
    """The weapon word ``h`` (a bare "machettes") is what armed men carry: a CARRY word before
    it with only weapons and the words joining them between ("hommes armes de fusils et de
    machettes", "carrying guns and machetes"), not a weapon used on someone."""
    if not any(a.group == "ARMS" and a.start == h.start and a.end == h.end for a in hits):
        return False
    arms = {i for a in hits if a.group == "ARMS" for i in range(a.start, a.end)}
    for c in hits:
        if c.group != "CARRY" or c.end > h.start or h.start - c.end > _CARRY_REACH:
            continue
        if all(i in arms or tokens[i].norm in _ARMS_JOIN for i in range(c.end, h.start)):
            return True
    return False
