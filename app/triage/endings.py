"""The end of a threat (TRIAGE.md, OTHER): hostages released, armed men gone, calm returned, a
strike rather than an attack; and the releases that end nothing here."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from app.triage.clauses import (
    AFTER,
    CLAUSE_MARKS,
    OTHERS,
    SENTENCE_MARKS,
    TAKINGS,
    across_clause,
    is_count,
)
from app.triage.lexicon import EVENT_GROUPS, Hit, groups_in
from app.triage.normalize import Token
from app.triage.objects import people_subject, what_is_taken

# What each end marker cancels.
RELEASE_CANCELS = frozenset(("ABDUCTION", "TAKE", "SIGHTING", "AP_WEAK", "SEIZE"))


# Armed men gone end their presence, their fight and the shelling that hurt no one ("les
# M23 ont quitte Sake apres les bombardements"), as calm does.
GONE_CANCELS = frozenset(
    ("ARMED_PRESENCE", "SIGHTING", "AP_WEAK", "CLASH", "GUNFIRE", "THREAT", "WEAPON")
)


CALM_CANCELS = frozenset(
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


# A strike, march or "ville morte" cancels what would read as arson, flight or presence.
PROTEST_CANCELS = frozenset(
    ("DISPLACEMENT", "ARSON", "ARMED_PRESENCE", "SIGHTING", "AP_WEAK", "THREAT", "SEIZE")
)


# Those who escape or are freed beside the ones taken ("4 colleagues escaped").
_COMPANIONS = frozenset(
    ("colleagues", "collegues", "companions", "compagnons", "wenzao", "wenzake", "wenzetu")
)


_BUT = frozenset(("mais", "but", "lakini", "however", "cependant", "pourtant", "kasi", "ila"))


_MORE_PEOPLE = frozenset(
    ("autres", "other", "others", "more", "wengine", "mwingine", "encore", "again", "tena")
)


def people_taken_after(
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
        if not across_clause(r, e, tokens, text):
            continue
        between = {t.norm for t in tokens[r.end : e.start]}
        if between & AFTER:
            continue  # the release's own story: "liberes apres avoir ete enleves"
        # said of new people: after "but", or "others / more" next to the taking ("Ils avaient
        # ete enleves a Oicha" tells the release's own story)
        near = {t.norm for t in tokens[max(r.end, e.start - 2) : e.end + 4]}
        if not (between & _BUT or near & _MORE_PEOPLE):
            continue
        if e.group == "ABDUCTION" or "PEOPLE" in what_is_taken(
            tokens, hits, e.end, number_words, text
        ):
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


def earlier_release(r: Hit, events: Sequence[Hit], tokens: Sequence[Token], text: str) -> bool:
    """A release in a sentence of its own that says it came earlier ("Une semaine plus tot,
    un chauffeur kidnappe a Biriba avait ete relache"), after people taken in another
    sentence: it ends an earlier captivity, not theirs."""
    if not text:
        return False
    start = r.start
    while start and not any(
        c in SENTENCE_MARKS for c in text[tokens[start - 1].end : tokens[start].start]
    ):
        start -= 1
    before = [t.norm for t in tokens[start : r.start]]
    earlier = any(
        tuple(before[i : i + len(p)]) == p and i and before[i - 1] in _SPANS
        for p in _EARLIER
        for i in range(len(before))
    )
    taken_before = any(e.group in TAKINGS and e.end <= start for e in events)
    return earlier and taken_before


def no_longer(h: Hit, tokens: Sequence[Token]) -> bool:
    """French "ne ... plus" right before ``h`` ("ils ne sont plus aux mains des ravisseurs",
    "aucun n'est plus aux mains de ravisseurs"): no one is held any more."""
    before = [t.norm for t in tokens[max(0, h.start - 3) : h.start]]
    return any(
        w == "plus" and any(b in ("ne", "n") for b in before[max(0, k - 2) : k])
        for k, w in enumerate(before)
    )


# "la liberation d un autre commercant", "the release of another trader": someone else's.
_ANOTHER = (
    ("d", "un", "autre"),
    ("d", "une", "autre"),
    ("de", "l", "autre"),
    ("of", "another"),
    ("ya", "mwingine"),
    ("wa", "mwingine"),
)


def release_of_another(r: Hit, tokens: Sequence[Token]) -> bool:
    """The release word is said of someone else ("peu apres la liberation d un autre
    commercant": the trader taken now is still held)."""
    after = tuple(t.norm for t in tokens[r.end : r.end + 3])
    return any(after[: len(a)] == a for a in _ANOTHER)


def not_a_release(r: Hit, events: Sequence[Hit], tokens: Sequence[Token]) -> bool:
    """A release word that ends nothing here: former hostages named beside people taken in the
    message, or an escape word ("walitoroka") with no hostages named ("wakazi walitoroka":
    the residents fled)."""
    if r.cue in _FORMER_HOSTAGES:
        return any(e.group in TAKINGS and (e.end <= r.start or e.start >= r.end) for e in events)
    if r.cue in _ESCAPED_OR_FLED:
        return not any(t.norm in _HOSTAGE_WORDS for t in tokens)
    return False


def others_freed(
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
        and across_clause(e, r, tokens, text)
    ]
    if not taken:
        return False
    subject: list[str] = []
    i = r.start
    while i > 0 and len(subject) < 6:
        if any(c in CLAUSE_MARKS for c in text[tokens[i - 1].end : tokens[i].start]):
            break
        i -= 1
        subject.append(tokens[i].norm)
    if any(w in OTHERS or w in _COMPANIONS for w in subject):
        return True
    # "vers 14 heures", "saa 4 usiku": a clock time counts no one
    counts = {
        w
        for k, w in enumerate(subject)
        if is_count(w, number_words)
        and not {subject[k - 1] if k else "", subject[k + 1] if k + 1 < len(subject) else ""}
        & _CLOCK
    }
    given = {t.norm for t in tokens[:i] if is_count(t.norm, number_words)}
    return bool(counts - given)


# Words beside a number that make it a time of day (subject words run backwards: "saa" follows
# its count there as "heures" precedes it).
_CLOCK = frozenset(("h", "heures", "heure", "vers", "saa", "hours", "pm", "am", "o"))


# After armed men leave a place, these say they are on the move, not gone.
_STILL_MOVING = frozenset(("SIGHTING", "ARMED_PRESENCE", "DIRECTION"))


def armed_leaving(h: Hit, hits: Sequence[Hit], actors: Sequence[Hit]) -> bool:
    """Armed men right before a word of leaving ("les M23 ont quitte Sake", "M23 left Sake",
    "M23 wametoka Sake"), and no movement or direction after it ("ont quitte Kibumba vers
    Rugari" is a movement): they are gone."""
    subject = any(0 <= h.start - a.end <= 2 for a in actors)
    moving = any(g.group in _STILL_MOVING and g.start >= h.end for g in hits)
    return subject and not moving


# How far before a release word a demand for it may be, in its clause ("exigent la liberation
# de", "call for the five hostages to be released", "wanadai waachiliwe").
_DEMAND_REACH = 6


def _demanded(r: Hit, hits: Sequence[Hit], tokens: Sequence[Token], text: str) -> bool:
    """A release asked for, not given: a DEMAND word at most _DEMAND_REACH words before it
    ("des CODECO exigent la liberation de leurs camarades", "families call for the release of
    the hostages"). Those it names are still held."""
    return any(
        d.group == "DEMAND"
        and 0 <= r.start - d.end <= _DEMAND_REACH
        and not across_clause(d, r, tokens, text)
        for d in hits
    )


# Words that say a release freed some, not all ("certains otages ont ete liberes", "au moins 3
# des 7 otages", "some of the 20 hostages were freed", "baadhi ya mateka wameachiliwa").
_SOME = frozenset(
    ("certains", "certaines", "quelques", "some", "baadhi", "wachache", "plusieurs", "several")
)
_SOME_PAIRS = (("au", "moins"), ("at", "least"))
_PART_OF = frozenset(("des", "d", "of", "ya", "kati", "the", "les", "entre"))
_PART_REACH = 8


def _partial(r: Hit, tokens: Sequence[Token], text: str, number_words: frozenset[str]) -> bool:
    """A release of some of those taken: a word of a part before it in its clause, followed by
    a count or a hostage word ("certains otages", "au moins 3 des 7 otages", "some of the 20
    people"); or, after it, "of at least N" when the message gave a count before ("la
    liberation d au moins cinq otages" of fifty-five taken). "apres au moins trois semaines"
    and "freed at least 30 hostages", with no count before, are no part."""
    before: list[str] = []
    for k in range(r.start - 1, max(-1, r.start - 1 - _PART_REACH), -1):
        if text and any(c in CLAUSE_MARKS for c in text[tokens[k].end : tokens[k + 1].start]):
            break
        before.insert(0, tokens[k].norm)

    def counted(words: list[str]) -> bool:
        return any(is_count(w, number_words) or w in _HOSTAGE_WORDS for w in words)

    for k, w in enumerate(before):
        pair = tuple(before[k : k + 2]) in _SOME_PAIRS
        if (w in _SOME or pair) and (k == 0 or before[k - 1] not in AFTER):
            rest = before[k + (2 if pair else 1) : k + 5]
            if counted(rest[:1]) or (rest[:1] and rest[0] in _PART_OF and counted(rest[1:4])):
                return True
    after = [t.norm for t in tokens[r.end : r.end + 5]]
    counts_before = any(is_count(t.norm, number_words) for t in tokens[: r.start])
    return counts_before and any(
        after[k] in ("d", "de", "of") and tuple(after[k + 1 : k + 3]) in _SOME_PAIRS
        for k in range(len(after) - 2)
    )


# People going home end a flight, and only a flight: a return of the displaced ends no attack,
# no tax, no presence.
RETURN_CANCELS = frozenset(("DISPLACEMENT",))


# Words between a noun of return and the armed men it is said of ("retour des ADF").
_OF_WORDS = frozenset(("des", "du", "de", "d", "of", "the", "ya", "wa", "za", "la"))
# Before armed men who are no subject: a passive's doer, a flight's cause ("chassees par les
# miliciens", "displaced by the rebels", "waliokimbia wanamgambo").
_NOT_SUBJECT = frozenset(("par", "by", "from"))


def returns(h: Hit, hits: Sequence[Hit], tokens: Sequence[Token], text: str) -> bool:
    """A RETURN word said of people going home, not of armed men coming back: its subject, the
    nearest of armed men or people at most two words before it in its clause, is not armed
    men ("entre FARDC et M23, les habitants rentrent": the people; "Watu wanakimbia Mavivi, ADF
    wamerudi": the ADF), and no armed men follow it ("le retour des ADF"). Armed men after
    "par", "by" or a flight word drove people out: the people return ("familles chassees par
    les miliciens sont rentrees")."""
    for a in hits:
        if a.group != "ACTOR" or not 0 <= a.start - h.end <= 1:
            continue
        if all(t.norm in _OF_WORDS for t in tokens[h.end : a.start]):
            return False
    before = [
        g
        for g in hits
        if g.group in ("ACTOR", "PEOPLE", "DISPLACEMENT")
        and 0 <= h.start - g.end <= 2
        and not across_clause(g, h, tokens, text)
        and not (g.group == "ACTOR" and _driven_by(g, hits, tokens))
    ]
    if not before:
        return True
    nearest = max(before, key=lambda g: (g.end, g.group == "ACTOR"))
    return nearest.group != "ACTOR" and not any(
        a.group == "ACTOR" and a.start <= nearest.start and nearest.end <= a.end for a in hits
    )


def _driven_by(a: Hit, hits: Sequence[Hit], tokens: Sequence[Token]) -> bool:
    """Armed men named right after "par / by / from" or a flight word ("waliokimbia
    wanamgambo"): those who drove people out."""
    before = [t.norm for t in tokens[max(0, a.start - 2) : a.start]]
    fled = any(g.group == "DISPLACEMENT" and g.end == a.start for g in hits)
    return fled or any(w in _NOT_SUBJECT for w in before)


def _after_it(h: Hit, hits: Sequence[Hit], tokens: Sequence[Token], text: str) -> bool:
    """A word of what came before ("apres", "baada", "after") at most three words before the
    calm ``h``, in its clause, with no event between ("baada ya utulivu mfupi", "after a
    short lull"; not "after the fighting, calm has returned")."""
    for k in range(max(0, h.start - 3), h.start):
        if tokens[k].norm not in AFTER:
            continue
        between = range(k + 1, h.start)
        clause = text and any(
            c in CLAUSE_MARKS for c in text[tokens[k].end : tokens[h.start].start]
        )
        event = any(g.group in EVENT_GROUPS and g.start in between for g in hits)
        if not clause and not event:
            return True
    return False


# Subjects that stand for armed men named before ("Mais ils sont toujours la").
_PRONOUNS = frozenset(("ils", "elles", "they", "wao", "bango", "eux", "bo"))


def still_there(h: Hit, hits: Sequence[Hit], tokens: Sequence[Token], text: str) -> bool:
    """The STILL word ``h`` ("sont toujours la", "bado wako") says armed men are still there:
    the last of armed men or people named before it in its sentence (or, for a pronoun or a
    verb with no subject of its own, "Mais ils sont toujours la", before it in the text) is
    armed men, not the army, police or peacekeepers ("Les FARDC ne sont pas partis", "les
    equipes de MSF sont toujours la")."""
    before = tokens[h.start - 1].norm if h.start else ""
    anywhere = before in _PRONOUNS or before in _BUT or not before or h.cue.startswith("bado")
    subject: Hit | None = None
    for g in hits:
        if g.group not in ("ACTOR", "AP_WEAK", "PEOPLE") or g.end > h.start:
            continue
        gap = text[tokens[g.end - 1].end : tokens[h.start].start]
        if not anywhere and any(c in gap for c in SENTENCE_MARKS):
            continue
        if subject is None or g.end > subject.end or (g.end == subject.end and g.group != "PEOPLE"):
            subject = g
    if subject is None or subject.group == "PEOPLE":
        return False
    return not any(
        f.group == "FORCES" and f.start < subject.end and subject.start < f.end for f in hits
    )


def threat_ends(
    alive: Callable[[list[Hit]], list[Hit]],
    hits: Sequence[Hit],
    events: Sequence[Hit],
    actors: Sequence[Hit],
    tokens: Sequence[Token],
    text: str,
    number_words: frozenset[str],
    reasons: list[str],
) -> tuple[set[str], set[str]]:
    """The groups a release, a departure, calm or a protest cancels, and the end groups that
    did (``alive``: the hits of a group that no negation cancels). A release of some while
    others are still held ends nothing ("ont relache les adultes mais garde les onze")."""
    held = [h for h in alive(groups_in(hits, "HELD")) if not no_longer(h, tokens)]
    leaving = [h for h in alive(groups_in(hits, "LEFT")) if armed_leaving(h, hits, actors)]
    # "calme ce matin, mais les M23 sont toujours la", "walitangaza kwamba wameondoka, lakini
    # bado wako mjini": armed men said to be still there are not gone, calm or not
    still = [h for h in alive(groups_in(hits, "STILL")) if still_there(h, hits, tokens, text)]
    cancelled: set[str] = set()
    fired: set[str] = set()
    for end_group, cancels, what in (
        ("END_RELEASE", RELEASE_CANCELS, "released: threat ended"),
        ("END_GONE", GONE_CANCELS, "gone: threat ended"),
        ("END_CALM", CALM_CANCELS, "calm: threat ended"),
        ("PROTEST", PROTEST_CANCELS, "a strike or protest, not an attack"),
        ("RETURN", RETURN_CANCELS, "people returning: the flight is over"),
    ):
        ends = alive(groups_in(hits, end_group)) + (leaving if end_group == "END_GONE" else [])
        if end_group == "RETURN":
            ends = [g for g in ends if returns(g, hits, tokens, text)]
        if end_group == "END_CALM":
            # "baada ya utulivu mfupi", "after a short lull": what follows the calm goes on
            ends = [g for g in ends if not _after_it(g, hits, tokens, text)]
        if end_group == "END_GONE":
            # "many residents have left the town": people fled, armed men are not gone
            ends = [g for g in ends if people_subject(g, hits) is None]
        if end_group in ("END_GONE", "END_CALM") and ends and still:
            reasons.append(f"'{still[0].cue}': armed men still there, {ends[0].cue} ends nothing")
            ends = []
        if end_group == "END_RELEASE":
            ends = [
                r
                for r in ends
                if not _demanded(r, hits, tokens, text)
                and not _partial(r, tokens, text, number_words)
                and not others_freed(r, events, tokens, text, number_words)
                and not people_taken_after(r, events, hits, tokens, text, number_words)
                and not not_a_release(r, events, tokens)
                and not earlier_release(r, events, tokens, text)
                and not release_of_another(r, tokens)
            ]
            if held:
                ends = []
        if ends:
            cancelled |= cancels
            reasons.append(f"'{ends[0].cue}' → {what}")
            fired.add(end_group)
    return cancelled, fired
