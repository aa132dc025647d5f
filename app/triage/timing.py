"""Past vs ongoing (TRIAGE.md "Severity"): time words, and named days and dates read against the
day the message was received."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone

from app.triage.clauses import SENTENCE_MARKS, same_sentence
from app.triage.lexicon import Hit, Lexicon, groups_in
from app.triage.normalize import Token

# Eastern DR Congo (Kivu, Ituri) is on Central Africa Time, UTC+2, with no daylight saving.
LOCAL_TZ = timezone(timedelta(hours=2))

_AGO_UNITS = frozenset(
    [
        "jour",
        "jours",
        "semaine",
        "semaines",
        "mois",
        "an",
        "ans",
        "annee",
        "annees",
        "siku",
        "wiki",
        "miezi",
        "mwezi",
        "mikolo",
        "poso",
        "sanza",
        "days",
        "weeks",
        "months",
        "years",
    ]
)
_FEW = frozenset(
    [
        "un",
        "une",
        "quelques",
        "plusieurs",
        "deux",
        "trois",
        "quatre",
        "cinq",
        "six",
        "sept",
        "huit",
        "dix",
    ]
)


@dataclass(frozen=True, slots=True)
class Timing:
    """What the text says about when the event happened."""

    is_past: bool
    is_ongoing: bool
    reasons: tuple[str, ...]


def local_day(received_at: datetime | None) -> date:
    """The day the message was received, in eastern DR Congo; today when unknown."""
    moment = received_at or datetime.now(LOCAL_TZ)
    if moment.tzinfo is not None:
        moment = moment.astimezone(LOCAL_TZ)
    return moment.date()


# "2 hours ago", "30 min ago": today (French "il y a 2 heures" is not past either: _il_y_a).
_HOUR_UNITS = frozenset(("hours", "hour", "hrs", "hr", "h"))
_TODAY_UNITS = _HOUR_UNITS | {"minutes", "minute", "mins", "min"}


def _hours_ago(p: Hit, tokens: Sequence[Token]) -> bool:
    """An "ago" right after hours or minutes, fewer than 24 of them ("48 hours ago" is past)."""
    if p.cue != "ago" or p.start == 0 or tokens[p.start - 1].norm not in _TODAY_UNITS:
        return False
    count = tokens[p.start - 2].norm if p.start > 1 else ""
    hours = tokens[p.start - 1].norm in _HOUR_UNITS
    return not (hours and count.isdigit() and int(count) >= 24)


def _il_y_a(tokens: Sequence[Token]) -> str | None:
    """French "il y a 3 jours" (3 days ago), but not "il y a des hommes armés" (there are)."""
    norms = [t.norm for t in tokens]
    for i in range(len(norms) - 3):
        if norms[i : i + 3] == ["il", "y", "a"]:
            nxt = norms[i + 3 : i + 6]
            if len(nxt) >= 2 and (nxt[0].isdigit() or nxt[0] in _FEW) and nxt[1] in _AGO_UNITS:
                return " ".join(norms[i : i + 5])
    return None


def _day_number(word: str) -> int | None:
    return int(word) if word.isdigit() and 1 <= int(word) <= 31 else None


# Words before a month named without a day that make it the time of the event.
_MONTH_LEADS = frozenset(
    (
        "en",
        "in",
        "since",
        "depuis",
        "early",
        "late",
        "mid",
        "debut",
        "fin",
        "mi",
        "wa",
        "mwezi",
        "last",
        "dernier",
    )
)


# "Since" words: a month after them starts a period that reaches today.
_SINCE = frozenset(("since", "depuis", "tangu"))
# Words of a comparison: "the worst attack since March", "la premiere attaque depuis fin
# octobre" compare the event with that period, they do not date it.
_COMPARING = frozenset(
    (
        "worst",
        "deadliest",
        "biggest",
        "largest",
        "first",
        "pire",
        "pires",
        "premier",
        "premiere",
        "meurtrier",
        "meurtriere",
        "grave",
        "graves",
        "important",
        "importante",
        "kubwa",
        "mbaya",
    )
)
_COMPARING_REACH = 5


def _today_at(norms: Sequence[str], lexicon: Lexicon) -> list[int]:
    """Where a phrase naming the day of the message ("aujourd hui", "ce matin", "leo") starts."""
    n = len(norms)
    return [
        i
        for p in lexicon.today_phrases
        if p
        for i in range(n - len(p) + 1)
        if tuple(norms[i : i + len(p)]) == p
    ]


def _names_today(norms: Sequence[str], lexicon: Lexicon) -> bool:
    """A phrase naming the day of the message is written."""
    return bool(_today_at(norms, lexicon))


def _bare_month_dates(norms: Sequence[str], i: int, lead: str) -> bool:
    """Whether a month named without a day (``norms[i]``, after ``lead``) dates the event: not
    when it starts a period compared with ("the worst attack since August")."""
    since = lead if lead in _SINCE else (norms[i - 2] if i >= 2 else "")
    if since in _SINCE:
        start = i - 1 if lead in _SINCE else i - 2
        if any(w in _COMPARING for w in norms[max(0, start - _COMPARING_REACH) : start]):
            return False
    return True


def _dates(norms: Sequence[str], lexicon: Lexicon, today: date) -> list[tuple[str, date, int]]:
    """Dates written as "29 decembre", "le 1er octobre", "les 30 et 31 mars", "August 23": a day
    number next to a month name; the year written after them, else the latest such day not
    after ``today``. A month named without a day ("en mars", "since March") dates the event
    unless the message names its own day ("Since March the ADF have killed 40, and today 3
    more": today's killing is the event). Each with the token of its month."""
    out: list[tuple[str, date, int]] = []
    n = len(norms)
    names_today = _names_today(norms, lexicon)
    for i, word in enumerate(norms):
        month = lexicon.months.get(word)
        if month is None:
            continue
        if word == "mai" and "mai" in (
            norms[i - 1] if i else "",
            norms[i + 1] if i + 1 < n else "",
        ):
            continue  # the Mai-Mai militias
        before = i - 2 if i >= 2 and norms[i - 1] == "er" else i - 1
        day = _day_number(norms[before]) if before >= 0 else None
        after = i + 1
        if day is None and after < n and word in lexicon.months_first:
            day = _day_number(norms[after])
            after += 1
        if day is None:
            lead = norms[i - 1] if i else ""
            if (
                lead in _MONTH_LEADS
                and month + 1 != today.month
                and not names_today
                and _bare_month_dates(norms, i, lead)
            ):
                # "en mars", "in March", "since early February", "mwezi wa machi": a month
                # other than this one is behind us (this year's, else last year's)
                in_year = today.year if month + 1 < today.month else today.year - 1
                out.append((f"{lead} {word}", date(in_year, month + 1, 1), i))
            continue
        written = norms[after] if after < n else ""
        year = int(written) if written.isdigit() and len(written) == 4 else None
        when = _day_of(month + 1, day, today, year)
        if when is not None:
            out.append((f"{day} {word}", when, i))
    return out


def _day_of(month: int, day: int, today: date, year: int | None = None) -> date | None:
    """That day of `year`, or without a year the latest one not after `today` (None: no such
    day, a 30 February or a 29 February in another year)."""
    try:
        when = date(year or today.year, month, day)
        if year is None and when > today:
            when = date(today.year - 1, month, day)
    except ValueError:
        return None
    return when


def _holidays(norms: Sequence[str], lexicon: Lexicon, today: date) -> list[tuple[str, date]]:
    """Holidays on a fixed date ("le jour de Noel", "on new year's eve"): the latest such day
    not after ``today``."""
    out: list[tuple[str, date]] = []
    n = len(norms)
    for toks, month, day in lexicon.holidays:
        k = len(toks)
        if not any(tuple(norms[i : i + k]) == toks for i in range(n - k + 1)):
            continue
        when = _day_of(month, day, today)
        if when is not None:
            out.append((" ".join(toks), when))
    return out


# The message's day named after a night's joiner ("kuamkia leo", "into today").
_TODAY_WORDS = frozenset(("leo", "today", "lelo", "aujourd"))


def _weekdays(norms: Sequence[str], lexicon: Lexicon) -> list[tuple[str, int, int]]:
    """Named weekdays (word, Monday = 0, token) that are not the message's own day ("ce
    lundi") nor ahead ("samedi prochain", "next Wednesday"); of a night "de samedi a dimanche"
    (or "a ce dimanche") only the morning's day counts."""
    out: list[tuple[str, int, int]] = []
    n = len(norms)
    for i, word in enumerate(norms):
        day = lexicon.weekdays.get(word)
        if day is None or (i + 1 < n and norms[i + 1] in lexicon.ahead_words):
            continue
        if i and norms[i - 1] in lexicon.ahead_words and _ahead_before(norms, i - 1):
            continue  # "next Wednesday", "this coming Sunday"
        if i and norms[i - 1] in lexicon.this_words:
            continue  # "ce lundi" names the day of the message
        if i + 2 < n and norms[i + 1] in lexicon.night_joiners:
            # "de mardi a mercredi", and "de mardi a ce mercredi" (the morning is the message's)
            nxt = i + 3 if norms[i + 2] in lexicon.this_words and i + 3 < n else i + 2
            if norms[nxt] in lexicon.weekdays:
                continue
            # "usiku wa jumapili kuamkia leo", "the night from Sunday into today": today's
            if norms[i + 2] in _TODAY_WORDS:
                continue
        out.append((word, day, i))
    return out


# Ahead words that are also a participle ("a trader coming Saturday from the market"): ahead
# before a weekday only after "this" / "the" ("this coming Sunday").
_PARTICIPLES = frozenset(("coming",))


def _ahead_before(norms: Sequence[str], k: int) -> bool:
    """The ahead word at ``k`` makes the weekday after it ahead."""
    return norms[k] not in _PARTICIPLES or (k > 0 and norms[k - 1] in ("this", "the"))


def detect_time(
    tokens: Sequence[Token],
    hits: Sequence[Hit],
    lexicon: Lexicon,
    today: date,
    cues: Sequence[Hit] = (),
    text: str = "",
) -> Timing:
    """Past when a past time word, or a day or date before ``today``, is written; ongoing when
    a now-word is; a now-word wins, over a past day only in a sentence of the event's
    (``cues``: the words that decided the category; "Fighting on Thursday and Friday. The army
    holds the area now": the fight is past)."""
    reasons: list[str] = []
    past = []
    for p in groups_in(hits, "PAST"):
        if _hours_ago(p, tokens):
            reasons.append(f"'{tokens[p.start - 1].norm} {p.cue}' is today")
        else:
            past.append(p)
    ongoing = groups_in(hits, "ONGOING")
    past_cue = past[0].cue if past else _il_y_a(tokens)
    norms = [t.norm for t in tokens]
    dated = _dates(norms, lexicon, today)
    dated_past = [i for _, when, i in dated if when < today]
    if not past_cue:
        holidays = [(cue, when, -1) for cue, when in _holidays(norms, lexicon, today)]
        for cue, when, _ in dated + holidays:
            if when < today:
                past_cue = f"{cue} (received {today.strftime('%a %Y-%m-%d')})"
                break
    # Where the past words, days and dates are (none known for a holiday or "il y a").
    past_at = [p.start for p in past]
    days_before = [(c, i) for c, day, i in _weekdays(norms, lexicon) if day != today.weekday()]
    if past or not past_cue:
        past_at += [i for _, i in days_before]
    elif dated_past and not _il_y_a(tokens):
        # a date before today: "Vendredi 29 septembre, l armee avait repris ... Des combats
        # depuis ce lundi": where it stands, and its weekday's
        past_at += dated_past + [i for _, i in days_before]
    # Where the message names its own day: "aujourd hui", "leo", today's date, "ce lundi".
    today_at = _today_at(norms, lexicon) + [i for _, when, i in dated if when == today]
    today_at += [
        i
        for i, w in enumerate(norms)
        if i and lexicon.weekdays.get(w) == today.weekday() and norms[i - 1] in lexicon.this_words
    ]
    if not past_cue and days_before:
        past_cue = f"{days_before[0][0]} (received {today.strftime('%a %Y-%m-%d')})"
    if past_cue and cues and text:
        ongoing = [o for o in ongoing if any(same_sentence(o, c, tokens, text) for c in cues)]
    if past_at and cues and text and _today_elsewhere(tokens, past_at, today_at, cues, norms, text):
        reasons.append(f"'{past_cue}' is another sentence's: the event's names today")
        past_cue = None
    if ongoing:
        reasons.append(f"'{ongoing[0].cue}' → ongoing")
    if past_cue:
        if ongoing:
            reasons.append(f"'{past_cue}' → started earlier, still ongoing")
        else:
            reasons.append(f"'{past_cue}' → past")
    return Timing(bool(past_cue) and not ongoing, bool(ongoing), tuple(reasons))


def _sentences(tokens: Sequence[Token], text: str) -> list[int]:
    """The sentence of each token, counted from 0 (a full stop, "!", "?", ";" or a new line
    between two tokens starts the next)."""
    out: list[int] = []
    n = 0
    for i, t in enumerate(tokens):
        if i and any(c in SENTENCE_MARKS for c in text[tokens[i - 1].end : t.start]):
            n += 1
        out.append(n)
    return out


def _today_elsewhere(
    tokens: Sequence[Token],
    past_at: Sequence[int],
    today_at: Sequence[int],
    cues: Sequence[Hit],
    norms: Sequence[str],
    text: str,
) -> bool:
    """A sentence of the event names today and no past time (the past words are other
    sentences'): "ADF ambushed a driver today, killed him. Yesterday another ambush" is today's
    killing. Not a word that only counts the dead, nor one after a word of the aftermath in
    its sentence ("Hier soir les ADF ont attaque Mavivi. Ce matin on compte 5 morts", "Today
    we buried 5 people killed by ADF": yesterday's)."""
    of = _sentences(tokens, text)
    past_in = {of[i] for i in past_at}
    today_in = {of[i] for i in today_at} - past_in
    # where a sentence starts telling what came after: the count, the burial
    aftermath: dict[int, int] = {}
    for i, w in enumerate(norms):
        if w in _AFTERMATH:
            aftermath.setdefault(of[i], i)
    return any(
        of[c.start] in today_in
        and c.cue not in _DEAD_COUNTED
        and c.start < aftermath.get(of[c.start], len(norms))
        for c in cues
    )


# Words that tell what came after an event: a count, a burial, bodies found.
_AFTERMATH = frozenset(
    (
        "compte",
        "comptent",
        "comptait",
        "bilan",
        "enterre",
        "enterres",
        "enterrees",
        "enterrons",
        "enterrement",
        "inhume",
        "inhumes",
        "inhumation",
        "funerailles",
        "obseques",
        "deuil",
        "buried",
        "bury",
        "burying",
        "burial",
        "burials",
        "funeral",
        "funerals",
        "mourning",
        "toll",
        "counted",
        "recovered",
        "mazishi",
        "kuzika",
        "tumezika",
        "tunazika",
        "wamezika",
        "wamezikwa",
        "walizikwa",
        "wanazikwa",
        "idadi",
        "imepatikana",
        "zimepatikana",
        "matanga",
        "kokunda",
        "bakundi",
    )
)
# The dead counted, not a killing told: "5 morts", "the victims", "maiti".
_DEAD_COUNTED = frozenset(
    (
        "mort",
        "morts",
        "morte",
        "mortes",
        "un mort",
        "deces",
        "cadavres",
        "corps sans vie",
        "corps",
        "les corps de",
        "les corps des",
        "le corps d un",
        "le corps d une",
        "le corps du",
        "death toll",
        "victime",
        "victimes",
        "dead",
        "deaths",
        "bodies",
        "corpses",
        "victims",
        "casualties",
        "fatalities",
        "maiti",
        "wafu",
        "vifo",
        "miili",
    )
)
