"""Negation and modality: a harm said not to have happened, or announced, rumoured, threatened or
feared rather than done (TRIAGE.md: "A word alone does not decide")."""

from __future__ import annotations

import re
from collections.abc import Sequence

from app.triage.clauses import AFTER, CLAUSE_MARKS, SENTENCE_MARKS, across_clause, is_count
from app.triage.lexicon import CATEGORY_GROUPS, Hit, load_lexicon
from app.triage.normalize import Token

_NEG_WINDOW = 3


def negation_of(
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
        if h.start - n.end < _NEG_WINDOW and not across_clause(n, h, tokens, text):
            return n
        if _listed_after(n, h, tokens, text, items):
            return n
    for n in negs_after:
        if (
            n.start >= h.end
            and n.start - h.end < _NEG_WINDOW
            and not across_clause(h, n, tokens, text)
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


# A perfect between a modal word and the event says it happened: "les FARDC annoncent avoir tue
# 5 ADF", "rebels claim to have killed", "say they have seized".
PERFECT = frozenset(("avoir", "have", "having"))


MODAL_WINDOW = 4


# Modal words of fear: what is feared may also be dated, then it happened (`is_dated`).
FEAR_WORDS = frozenset(("fear", "fears", "feared", "afraid", "peur", "hofu", "wanaogopa"))


# Harm a modal word can announce: the categories from ATTACK to LOOTING and their helpers.
MODAL_TARGETS = frozenset(
    (
        *CATEGORY_GROUPS[: CATEGORY_GROUPS.index("LOOTING") + 1],
        "GUNFIRE",
        "TAKE",
        "ASSAULT",
        "WEAPON",
    )
)


_PRESENCE = frozenset(("ARMED_PRESENCE", "SIGHTING"))


# Armed men, a fight or an attack feared rather than seen ("par peur d'une incursion",
# "fearing fighting", "wanaogopa mapigano"): a THREAT.
FEARABLE = _PRESENCE | {"CLASH", "GUNFIRE", "ATTACK"}


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


def is_dated(h: Hit, hits: Sequence[Hit], tokens: Sequence[Token], text: str) -> bool:
    """A past word, a now-word or "since" within _DATED_REACH words after ``h``, in its
    clause."""
    end = h.end
    for k in range(h.end, min(len(tokens), h.end + _DATED_REACH)):
        if text and any(c in CLAUSE_MARKS for c in text[tokens[k - 1].end : tokens[k].start]):
            break
        end = k + 1
    if any(
        tokens[k].norm in _SINCE and k + 1 < len(tokens) and _a_time(tokens[k + 1].norm)
        for k in range(h.end, end)
    ):
        return True
    return any(g.group in ("PAST", "ONGOING") and h.end <= g.start < end for g in hits)


def announcer(
    h: Hit, modals: Sequence[Hit], hits: Sequence[Hit], tokens: Sequence[Token], text: str
) -> Hit | None:
    """The rumour, intent, threat or fear word that announces the harm ``h`` (at most
    MODAL_WINDOW words before it), or None when ``h`` happened: a plan in another clause
    ("Wavuvi wanapanga mgomo: maharamia wameiba"), a word of what came before or a perfect
    between them ("annoncent avoir tue"), a feared fight dated as heard or going on."""
    for m in modals:
        if m is h or not (m.start <= h.start and h.start - m.end < MODAL_WINDOW):
            continue
        if m.group in ("INTENT", "THREAT") and across_clause(m, h, tokens, text):
            # "Wavuvi wanapanga mgomo: maharamia wameiba ...": the plan is a strike
            continue
        between = {t.norm for t in tokens[m.end : h.start]}
        if between & AFTER or (m.group != "RUMOUR" and between & PERFECT):
            continue
        if m.cue in FEAR_WORDS and is_dated(h, hits, tokens, text):
            # "afraid of the gunshots heard since this morning": they were heard
            continue
        return m
    return None


def feared_not_seen(
    h: Hit, feared: Sequence[Hit], hits: Sequence[Hit], tokens: Sequence[Token], text: str
) -> bool:
    """Armed men, a fight or an attack right after a word of fear ("fuient par peur d une
    incursion des ADF"), not dated as happened: feared, not seen. Armed men named between
    ("par peur des ADF signales a Mamove") are seen, then feared."""
    return (
        h.group in FEARABLE
        and any(
            0 <= h.start - f.end <= 2
            and not any(a.group == "ACTOR" and f.end <= a.start < h.start for a in hits)
            for f in feared
        )
        and not is_dated(h, hits, tokens, text)
    )


# Units of a deadline's span ("72h", "48 heures", "siku tatu", "two days").
_SPANS = frozenset(
    (
        "h",
        "heures",
        "heure",
        "jours",
        "jour",
        "hours",
        "hour",
        "days",
        "day",
        "saa",
        "masaa",
        "siku",
    )
)
_DEADLINE_REACH = 8
# How far before the span the one who gives it may be ("M23 wamewapa wakazi wa Bunagana siku
# tatu").
_GIVE_REACH = 6


def deadline(
    h: Hit, hits: Sequence[Hit], tokens: Sequence[Token], number_words: frozenset[str]
) -> bool:
    """A span of hours or days given within _DEADLINE_REACH words before the DEADLINE word
    ``h`` ("a donne 72h aux Twirwaneho pour quitter", "gave residents 48 hours to leave",
    "M23 wamewapa wakazi siku tatu kuondoka"): an ultimatum, when armed men are named. Swahili
    counts follow their unit; a GIVE word comes before the span, so that a clock time is none
    ("reunion a 10h pour partir")."""
    if not any(a.group == "ACTOR" for a in hits):
        return False  # "le medecin lui a donne 2 jours pour quitter l hopital"
    start = max(0, h.start - _DEADLINE_REACH)
    for k in range(start, h.start):
        if tokens[k].norm not in _SPANS:
            continue
        around = [tokens[j].norm for j in (k - 1, k + 1) if start <= j < h.start]
        given = any(g.group == "GIVE" and 0 <= k - g.end <= _GIVE_REACH for g in hits)
        if given and any(is_count(a, number_words) for a in around):
            return True
    return False


# Words that may stand between a pluperfect's auxiliary and its participle ("avaient deja
# fui", "had already been attacked", "avait ete tue").
_PLUPERFECT_FILLERS = frozenset(
    (
        *("ete", "deja", "d", "abord", "aussi", "egalement", "meme", "encore", "ainsi"),
        *("been", "already", "also", "earlier", "previously", "just", "first", "even"),
    )
)
# After "avait" / "had", a word that is no participle: a thing had ("avait des armes", "had
# guns", "il y avait"), a feeling ("avait peur"), a negation.
_HAD_THINGS = frozenset(
    (
        *("pas", "plus", "jamais", "rien", "un", "une", "des", "de", "du", "le", "la", "les"),
        *("l", "au", "aux", "ce", "cette", "ces", "son", "sa", "ses", "leur", "leurs"),
        *("peur", "faim", "besoin", "lieu", "raison", "tort", "envie", "no", "not", "a", "an"),
        *("the", "to", "their", "his", "her", "its", "some", "many", "few", "guns", "na"),
    )
)
# Irregular English participles after "had" ("had fled", "had shot").
_EN_PARTICIPLES = frozenset(
    (
        *("fled", "shot", "left", "burnt", "stolen", "taken", "seen", "gone", "come", "held"),
        *("fought", "struck", "hit", "beaten", "run", "led", "sent", "set", "sought", "made"),
    )
)
# A contrast ends the background told before it ("avaient fui, mais ce matin ..."), and so does
# a verb of the news told after it ("Un enseignant qui avait cinq enfants a ete tue").
_CONTRAST = frozenset(("mais", "but", "lakini", "however", "cependant", "pourtant", "whereas"))
_MAIN_VERBS = frozenset(("ont", "est", "sont", "was", "were", "is", "are", "has", "have"))
_SW_PERFECT = re.compile(r"^(?:wa|a|i|ya|zi|ku|u|li|ki|vi|tu|m)(?:me|mesha)")
# French participles end so ("tue", "tues", "fui", "pris", "recu", "fait", "mene").
_FR_PARTICIPLE = ("e", "es", "ee", "ees", "i", "is", "ie", "ies", "u", "us", "ue", "ues", "t", "ts")


def _participle_at(h: Hit, tokens: Sequence[Token]) -> int | None:
    """Where the participle of the PLUPERFECT auxiliary ``h`` ("avait", "had", "walikuwa")
    stands, past its fillers ("avaient ete tuees", "had already fled", "walikuwa wamekimbia");
    None when what follows is no participle ("il y avait des hommes", "had guns", "avait cinq
    enfants", "avait peur")."""
    i = h.end
    while i < len(tokens) and tokens[i].norm in _PLUPERFECT_FILLERS:
        i += 1
    if i >= len(tokens) or (h.start > 0 and tokens[h.start - 1].norm == "y"):
        return None  # "il y avait des hommes armes": there were
    word = tokens[i].norm
    if word in _HAD_THINGS or word.isdigit() or word in load_lexicon().number_words:
        return None
    if h.lang == "en":
        ok = word.endswith(("ed", "en", "wn")) or word in _EN_PARTICIPLES
    elif h.lang == "sw":
        ok = bool(_SW_PERFECT.match(word))
    else:
        ok = word.endswith(_FR_PARTICIPLE) and not word.endswith("ment")
    return i if ok else None


def _names_today(tokens: Sequence[Token], span: range) -> bool:
    norms = tuple(tokens[i].norm for i in span)
    return any(
        norms[k : k + len(p)] == p
        for p in load_lexicon().today_phrases
        if p
        for k in range(len(norms))
    )


def background_spans(hits: Sequence[Hit], tokens: Sequence[Token], text: str) -> list[range]:
    """What a text tells in the pluperfect, from the auxiliary to the end of its sentence, a
    contrast or the next main verb ("qui avait recu des menaces, a ete enleve"): an event before the
    one reported ("En fevrier deja, 62 civils avaient peri a Bule", "the militia, which had
    first attacked Lengwe", "Ce meme groupe avait mene le 2 mai une incursion : quatre femmes
    violees"). Not one that names the day of the message ("Les ADF avaient tue 4 personnes
    ce matin": the event itself, told loosely)."""
    spans: list[range] = []
    for h in hits:
        if h.group != "PLUPERFECT":
            continue
        participle = _participle_at(h, tokens)
        if participle is None:
            continue
        end = participle + 1
        while end < len(tokens):
            norm = tokens[end].norm
            gap = text[tokens[end - 1].end : tokens[end].start] if text else ""
            if any(c in gap for c in SENTENCE_MARKS):
                break
            if norm in _CONTRAST or norm in _MAIN_VERBS or (norm == "a" and _is_ete(tokens, end)):
                break
            if h.lang == "sw" and _SW_PERFECT.match(norm):
                break
            end += 1
        span = range(h.start, end)
        if not _names_today(tokens, span):
            spans.append(span)
    return spans


def _is_ete(tokens: Sequence[Token], i: int) -> bool:
    """ "a ete": the passive of the news told after a pluperfect ("qui avait ... a ete tue")."""
    return i + 1 < len(tokens) and tokens[i + 1].norm == "ete"


def in_background(h: Hit, spans: Sequence[range]) -> bool:
    return any(h.start in s for s in spans)
