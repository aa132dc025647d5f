"""Category of an alert (TRIAGE.md "Categories"): cue words, then negation and modality,
then the highest-ranked category left wins. What a verb takes is read in `objects`, what
negates or announces a harm in `modality`, what ends a threat in `endings`."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import get_args

from app.triage.clauses import (
    JOIN,
    NEARNESS,
    TAKINGS,
    across_clause,
    gap_between,
    overlaps,
    same_sentence,
)
from app.triage.endings import returns, still_there, threat_ends
from app.triage.lexicon import CATEGORY_GROUPS, EVENT_GROUPS, Hit, groups_in
from app.triage.modality import (
    MODAL_TARGETS,
    announcer,
    background_spans,
    deadline,
    feared_not_seen,
    in_background,
    negation_of,
)
from app.triage.normalize import Token
from app.triage.objects import (
    about_animals,
    animals_before,
    at_armed_men,
    by_armed_men,
    carried,
    civilians_took,
    is_arrest,
    next_object,
    object_from,
    passive_subject,
    people_before,
    people_subject,
    pronoun_object,
    seized_name,
    seized_settlement,
    subject_before,
    subject_took,
    what_is_taken,
)
from app.triage.types import Category

RANK: dict[str, int] = {cat: i for i, cat in enumerate(CATEGORY_GROUPS)}


# A bare "victims" (_VICTIMS, below) is the victims of the rape, kidnapping or robbery beside
# it, not people killed or hurt (unless an attack word says so).
_HARMS_OF_VICTIMS = frozenset(("SEXUAL_VIOLENCE", "ABDUCTION", "LOOTING"))


# An explosion is a weapon's only when it hurt someone or came with fighting: by itself it
# names no bomb ("explosion at a fuel depot, no casualties").
_BLASTS = frozenset(("explosion", "explosions", "mlipuko", "milipuko"))


# "victimes de viol", "victims of kidnapping": the victims of the harm named after them.
_VICTIMS = frozenset(("victime", "victimes", "victim", "victims"))


_OF = frozenset(("de", "d", "du", "des", "la", "l", "of", "the", "an", "a"))


# The harms whose victims are not people killed or hurt. Not a fight's, nor an incursion's
# ("victimes des combats", "5 victimes de l'incursion des ADF"): those are its dead and wounded.
_HARMS_NOT_KILLING = frozenset(
    ("ABDUCTION", "SEXUAL_VIOLENCE", "ARSON", "LOOTING", "DISPLACEMENT", "THREAT")
)


@dataclass(frozen=True, slots=True)
class Decision:
    """The category and why."""

    category: Category
    cues: tuple[Hit, ...]
    reasons: tuple[str, ...]


# How near a ransom or kidnappers' word a demand is theirs ("ses ravisseurs ayant exige").
_DEMAND_REACH = 3


# Event words that tell an event by themselves (not armed men merely named).
_DECIDING = EVENT_GROUPS - {"AP_WEAK"}


# Words between a death and its cause ("died of the disease", "mort du cholera", "perdu la vie
# dans un accident", "killed in a road accident", "wamekufa kwa kipindupindu").
_CAUSE_WORDS = frozenset(
    (
        *("of", "from", "in", "by", "during", "the", "a", "an", "de", "du", "des", "d", "la"),
        *("le", "l", "une", "un", "dans", "par", "lors", "suites", "suite", "kwa", "ya"),
        *("sababu", "katika"),
    )
)


def _died_of(h: Hit, causes: Sequence[Hit], hits: Sequence[Hit], tokens: Sequence[Token]) -> bool:
    """The death word ``h`` (one that counts the dead or wounded) with a cause of no violence
    right after it, past small words ("perdu la vie dans un accident"), or right before it
    ("the cholera death toll")."""
    if not any(k.group in ("KILLED", "WOUNDED") and overlaps(h, k) for k in hits):
        return False
    for c in causes:
        if 0 <= c.start - h.end <= 4 and all(
            t.norm in _CAUSE_WORDS for t in tokens[h.end : c.start]
        ):
            return True
        if h.cue == "death toll" and 0 <= h.start - c.end <= 1:
            return True  # not "agents de la riposte Ebola tues": a qualifier, no cause
    return False


# A denial that opens what it denies ("c est faux que", "si kweli kwamba", "not true that").
_THAT = frozenset(("que", "qu", "kwamba", "kuwa", "that", "ete"))


def _opens_clause(d: Hit, tokens: Sequence[Token]) -> bool:
    return d.end < len(tokens) and tokens[d.end].norm in _THAT


def _q(text: str) -> str:
    return f"'{text}'"


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
        if gap_between(m, h) <= 3 and not across_clause(m, h, tokens, text):
            return m
    return None


def _armed_beside(h: Hit, actors: Sequence[Hit], tokens: Sequence[Token], text: str) -> bool:
    """Armed men named within three words of ``h``, in its clause."""
    return any(gap_between(a, h) <= 3 and not across_clause(a, h, tokens, text) for a in actors)


# Words between two armed parties that face each other ("M23 vs wazalendo").
_VERSUS = frozenset(("vs", "v", "versus", "contre", "against", "dhidi"))


def _parties(actors: Sequence[Hit], tokens: Sequence[Token]) -> list[set[str]]:
    """The armed parties the actor words name, each as its words: words next to each other,
    or with one word between that is not "et / na / and", are one party ("rebelles du M23",
    "M23 rebels", "waasi wa M23")."""
    parties: list[set[str]] = []
    last_end = -10
    for a in sorted((a for a in actors if a.group == "ACTOR"), key=lambda a: a.start):
        gap = tokens[last_end : a.start] if a.start >= last_end else []
        # the raw word too: SMS "vs" is also French "vous"
        between = {t.norm for t in gap} | {t.raw.casefold() for t in gap}
        if parties and a.start - last_end <= 1 and not between & (JOIN | _VERSUS):
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


# Burned to cinders: people burned to death, or houses burned down ("2 filles calcinees", "15
# maisons calcinees").
_BURNED = ("calcin", "carbonis")


# Shooting named with no one said to be hit: gunfire.
_SHOOTINGS = frozenset(("shooting", "shootings"))


def _shooting_between(
    h: Hit, hits: Sequence[Hit], actors: Sequence[Hit], tokens: Sequence[Token], text: str
) -> bool:
    """A "shooting" with no one killed or wounded named in the text, and two armed parties in
    its sentence: gunfire between them."""
    if h.cue not in _SHOOTINGS or groups_in(hits, "KILLED", "WOUNDED"):
        return False
    if any(g.group == "PEOPLE" and same_sentence(g, h, tokens, text) for g in hits):
        return False  # "shooting against FARDC and civilians": people shot at
    near = [a for a in actors if same_sentence(a, h, tokens, text)]
    parties = _parties(near, tokens)
    return any(not (p & q) for i, p in enumerate(parties) for q in parties[i + 1 :])


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
            n = negation_of(h, negs, negs_after, tokens, text, items)
            if n is None:
                out.append(h)
            elif h.group in RANK or h.group.startswith("END"):
                reasons.append(f"{_q(n.cue)} negates {_q(h.cue)}")
        return out

    # Every event word but a protest's (a protest cancels some of them: PROTEST_CANCELS).
    events = alive(groups_in(hits, *(EVENT_GROUPS - {"PROTEST"})))
    # "hommes armes de fusils et de machettes": the weapons they carry hurt no one
    weapons = [h for h in events if h.group == "ATTACK" and carried(h, hits, tokens)]
    for h in weapons:
        reasons.append(f"{_q(h.cue)}: a weapon carried, not used")
    events = [h for h in events if h not in weapons]
    # "3 personnes ont perdu la vie dans un accident", "a relative who died of the disease", "the
    # cholera death toll": a death whose own cause, right beside it, is no violence; not
    # "Deux agents de la riposte Ebola tues", "an outbreak of violence left 5 dead"
    causes = alive(groups_in(hits, "NOT_VIOLENT"))
    natural = [h for h in events if h.group == "ATTACK" and _died_of(h, causes, hits, tokens)]
    for h in natural:
        reasons.append(f"{_q(h.cue)} of a cause of no violence")
    events = [h for h in events if h not in natural]
    # "ba foto ete FARDC bakangi ba M23 ezali lokuta", "habari za ADF kushambulia Mamove ni
    # uongo": a report said in its clause to be false tells no event; not what is told after
    # the denial ("les infos de l armee sont fausses et que 9 civils ont ete tues")
    denials = alive(groups_in(hits, "DENIED"))
    denied = [
        h
        for h in events
        if any(
            (h.end <= d.start or _opens_clause(d, tokens)) and not across_clause(h, d, tokens, text)
            for d in denials
        )
    ]
    for h in denied:
        reasons.append(f"{_q(h.cue)} is denied: a false report")
    events = [h for h in events if h not in denied]
    # "En fevrier deja, 62 civils avaient peri a Bule": told in the pluperfect, before the
    # event reported, it decides nothing when another event is told
    spans = background_spans(hits, tokens, text)
    told = [h for h in events if not in_background(h, spans)]
    if len(told) < len(events) and any(h.group in _DECIDING for h in told):
        for h in events:
            if in_background(h, spans) and h.group in _DECIDING:
                reasons.append(f"{_q(h.cue)} is told in the pluperfect: before the event")
        events = told
    # "victims of the kidnapping" stay the kidnapping's when a release cancels it below
    named_harms = events
    actors = alive(groups_in(hits, "ACTOR", "AP_WEAK"))

    # End of a threat: hostages released, armed men gone, calm returned, a strike.
    cancelled, fired = threat_ends(alive, hits, events, actors, tokens, text, number_words, reasons)
    # A release gives the people back, not the goods taken with them: a taking word then counts
    # for the goods only ("freed ..., but the militiamen also left with goats"); calm returned
    # ends the looting too.
    goods_kept = "END_RELEASE" in fired and "END_CALM" not in fired
    if "ABDUCTION" in cancelled:
        # "relache contre une rancon, ses ravisseurs ayant exige 6 000 dollars": the ransom's
        # demand ended with the release told in its sentence (not "...; les ravisseurs exigent
        # 3000 dollars pour les trois autres")
        ransoms = groups_in(hits, "ABDUCTION")
        releases = alive(groups_in(hits, "END_RELEASE"))
        demands = [
            h
            for h in events
            if h.group == "THREAT"
            and any(
                gap_between(h, r) <= _DEMAND_REACH and not across_clause(h, r, tokens, text)
                for r in ransoms
            )
            and any(same_sentence(h, r, tokens, text) for r in releases)
        ]
        for h in demands:
            reasons.append(f"{_q(h.cue)}: the ransom's demand, ended with the release")
        events = [h for h in events if h not in demands]
    if cancelled:
        harm = groups_in(hits, "KILLED", "WOUNDED")
        kept = []
        for h in events:
            if (
                (h.group == "ATTACK" and any(overlaps(h, k) for k in harm))
                or h.group not in cancelled
                or (h.group in TAKINGS and goods_kept)
            ):
                kept.append(h)
        events = kept

    # Modality: rumours, threats and intentions turn the harm named after them into a THREAT.
    # A forced tax or a barrier (TOLL) is a harm of its own, not one announced: "tax collectors
    # killed" were killed.
    tolls = groups_in(hits, "TOLL")
    modals = groups_in(hits, "RUMOUR", "INTENT") + [
        h for h in events if h.group == "THREAT" and not any(overlaps(h, t) for t in tolls)
    ]
    feared = groups_in(hits, "FEARED")
    # "M23 wamewapa wakazi siku tatu kuondoka": the deadline's "kuondoka" moves no one
    deadlines = [d for d in groups_in(hits, "DEADLINE") if deadline(d, hits, tokens, number_words)]
    candidates: dict[str, list[Hit]] = {}

    def add(category: str, h: Hit) -> None:
        candidates.setdefault(category, []).append(h)

    for h in events:
        group = h.group
        if group in ("SIGHTING", "DISPLACEMENT") and any(overlaps(h, d) for d in deadlines):
            continue
        if group in MODAL_TARGETS:
            modal = announcer(h, modals, hits, tokens, text)
            if modal is not None:
                reasons.append(f"{_q(modal.cue)} → {_q(h.cue)} has not happened")
                add("THREAT", h)
                continue
        harm_named = victims_of(h, tokens, named_harms) if group == "ATTACK" else None
        if harm_named is not None:
            reasons.append(f"{_q(h.cue)} of {_q(harm_named.cue)}: not people killed or hurt")
            continue
        if feared_not_seen(h, feared, hits, tokens, text):
            # "fuient par peur d une incursion des ADF": feared, not seen
            reasons.append(f"{_q(h.cue)} is feared, not seen → THREAT")
            add("THREAT", h)
            continue
        if group == "CLASH" and h.cue.startswith("neutralis"):
            i, obj = object_from(tokens, hits, h.end, number_words, text)
            # "neutralise 5 miliciens", "81 militiamen (were) neutralised"; not its subject
            # ("les FARDC ont neutralise un engin explosif")
            named = any(
                a.group == "ACTOR" and (a.start == i or passive_subject(a, h, tokens)) for a in hits
            ) or pronoun_object(h, tokens)
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
        if group in ("ATTACK", "ASSAULT") and about_animals(h, tokens, hits, text):
            reasons.append(f"{_q(h.cue)} is about animals → LOOTING")
            add("LOOTING", h)
        elif (
            group == "ATTACK"
            and h.cue.startswith(_BURNED)
            and not any(
                g.group == "PEOPLE" and g.end <= h.start and not across_clause(g, h, tokens, text)
                for g in hits
            )
        ):
            # "15 maisons calcinees": houses burned down, no one burned
            add("ARSON", h)
        elif group == "ATTACK" and _shooting_between(h, hits, actors, tokens, text):
            # "shooting since yesterday 6pm, M23 vs wazalendo": no one hit, two armed parties
            reasons.append(f"{_q(h.cue)} between armed parties and no one hurt → CLASH")
            add("CLASH", h)
        elif group == "ASSAULT" and at_armed_men(h, hits, tokens):
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
                        and "PEOPLE" in what_is_taken(tokens, hits, e.end, number_words, text)
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
        elif group == "SEIZE" and any(overlaps(h, c) for c in groups_in(hits, "END_CALM")):
            continue  # "la situation est sous controle": calm, nothing seized
        elif group == "SEIZE":
            obj = next_object(tokens, hits, h.end, number_words, text)
            if obj == "PEOPLE" or (obj is None and people_before(tokens, hits, h.start)):
                add("ABDUCTION", h)
            elif actors:
                add("ARMED_PRESENCE", h)
        elif group == "FIGHT":
            if actors:  # "les miliciens et l armee se sont battus"; not two taxi drivers
                add("CLASH", h)
        elif group == "FINISH":
            if next_object(tokens, hits, h.end, number_words, text) == "PEOPLE":
                reasons.append(f"{_q(h.cue)} people → ATTACK")  # "ont acheve onze civils"
                add("ATTACK", h)
        elif group == "GUNFIRE":
            obj = next_object(tokens, hits, h.end, number_words, text)
            if obj == "PEOPLE":
                reasons.append(f"{_q(h.cue)} aimed at people")
                add("ATTACK", h)
            else:
                add("CLASH", h)
        elif group in TAKINGS and goods_kept and group in cancelled:
            if "GOODS" in what_is_taken(tokens, hits, h.end, number_words, text):
                reasons.append(f"{_q(h.cue)}: the goods taken with the people were not given back")
                add("LOOTING", h)
        elif group == "TAKE":
            taken = what_is_taken(tokens, hits, h.end, number_words, text)
            if taken and civilians_took(h, hits, tokens):
                # "women took their children to Kiwanja hospital": nothing taken by armed men
                reasons.append(f"{_q(h.cue)} by civilians: no abduction, no looting")
            elif "PEOPLE" in taken or (
                not taken
                and not subject_took(h, hits, tokens)
                and people_before(tokens, hits, h.start)
            ):
                add("ABDUCTION", h)
            elif "GOODS" in taken or (not taken and animals_before(tokens, hits, h.start)):
                add("LOOTING", h)
            elif not taken and not is_arrest(h) and by_armed_men(h, hits, tokens):
                # "2 girls of the same family, 4 n 16 yrs old, taken ... by armed bandits"
                subject = subject_before(h, hits, tokens, text)
                if subject is not None:
                    reasons.append(f"{_q(h.cue)} by armed men: {_q(subject.cue)} taken")
                    add("ABDUCTION" if subject.group == "PEOPLE" else "LOOTING", h)
            elif (
                not taken
                and not is_arrest(h)
                and (name_taken := seized_name(h, hits, tokens, text))
            ):
                # "Les M23 ont pris Rubaya hier": a place seized; "ont pris Kambale et sa femme"
                if name_taken == "PEOPLE":
                    reasons.append(f"{_q(h.cue)} a name and people with it → ABDUCTION")
                    add("ABDUCTION", h)
                else:
                    reasons.append(f"armed men {h.cue} a name: a place seized → ARMED_PRESENCE")
                    add("ARMED_PRESENCE", h)
            elif not taken and seized_settlement(h, hits, tokens, text):
                # "M23 took the town of Sake", "two days after taking the city"
                reasons.append(f"armed men {h.cue} a town: a place seized → ARMED_PRESENCE")
                add("ARMED_PRESENCE", h)
        elif group == "SIGHTING":
            movers = people_subject(h, hits)
            if h.cue in NEARNESS and not _armed_beside(h, actors, tokens, text):
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
        movers = people_subject(h, hits)
        if "DISPLACEMENT" in cancelled:
            break  # "les deplaces ont quitte le camp ..., le calme est revenu"
        if movers is not None and movers.cue not in _ONE_PERSON:
            # "thousands of families left Kibua", "les habitants ont quitte Kiwanja"
            reasons.append(f"{_q(movers.cue)} {h.cue}: people leaving → DISPLACEMENT")
            add("DISPLACEMENT", h)

    for h in alive(groups_in(hits, "RETURN")):
        if returns(h, hits, tokens, text):
            continue
        modal = announcer(h, modals, hits, tokens, text)
        if modal is not None:
            # "ADF wanatishia kurudi": a return threatened has not happened
            reasons.append(f"{_q(modal.cue)} → armed men's {_q(h.cue)} has not happened")
            add("THREAT", h)
        else:
            # "kamanda wa kivita Hercule amerudi hapa Malota": armed men are back
            reasons.append(f"armed men {h.cue} → ARMED_PRESENCE")
            add("ARMED_PRESENCE", h)

    for h in deadlines:
        reasons.append(f"a deadline {_q(h.cue)} → THREAT")
        add("THREAT", h)

    # "their fighters are still there", "M23 bado wako": armed men present
    for h in alive(groups_in(hits, "STILL")):
        if still_there(h, hits, tokens, text):
            add("ARMED_PRESENCE", h)

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
