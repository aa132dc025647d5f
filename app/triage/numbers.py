"""Counts stated in the text: killed, wounded, abducted, attackers (digits or number words)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from app.triage.categorize import victims_of
from app.triage.lexicon import Hit, Lexicon, groups_in
from app.triage.normalize import Token
from app.triage.types import Numbers

_ROLES = ("KILLED", "WOUNDED", "ABDUCTED", "ATTACKERS")
_ONE = frozenset(("un", "une", "moja", "mmoja", "moko", "one"))
_MAX = 100_000
_WINDOW = 4


@dataclass(frozen=True, slots=True)
class _Num:
    start: int
    end: int
    value: int


def _parse_numbers(tokens: Sequence[Token], lexicon: Lexicon) -> list[_Num]:
    out: list[_Num] = []
    i, n = 0, len(tokens)
    while i < n:
        norm = tokens[i].norm
        if norm.isdigit():
            if len(norm) <= 6:
                out.append(_Num(i, i + 1, int(norm)))
            i += 1
            continue
        if norm not in lexicon.numbers:
            i += 1
            continue
        total, pending, j = 0, 0, i
        prev_mult = False
        while j < n:
            word = tokens[j].norm
            if word in lexicon.joiners and j + 1 < n and tokens[j + 1].norm in lexicon.numbers:
                j += 1
                continue
            if word not in lexicon.numbers:
                break
            value = lexicon.numbers[word]
            if word in lexicon.multipliers:
                if total and not prev_mult and j > i:
                    total *= value
                else:
                    pending = value
                prev_mult = True
            else:
                if pending:
                    total += pending * value
                    pending = 0
                else:
                    total += value
                prev_mult = False
            j += 1
        total += pending
        out.append(_Num(i, j, min(total, _MAX)))
        i = j
    return out


def _date_positions(tokens: Sequence[Token], lexicon: Lexicon) -> set[int]:
    """Tokens that are a day or a year of a date: "dimanche 29 decembre", "1er juillet",
    "August 23, 2022", and the other days of "les 30 et 31 mars", "August 23 and 30"."""
    norms = [t.norm for t in tokens]
    n = len(norms)

    def at(i: int) -> str:
        return norms[i] if 0 <= i < n else ""

    found: set[int] = set()
    for i, word in enumerate(norms):
        if not word.isdigit():
            continue
        month_after = at(i + 1) in lexicon.months and not at(i + 1) == at(i + 2) == "mai"
        if (
            month_after
            or (at(i + 1) == "er" and at(i + 2) in lexicon.months)
            or at(i - 1) in lexicon.months_first
        ):
            found.add(i)
    for i in sorted(found):  # "30 et 31 mars": the day before the joiner is a date too
        for j in (i - 2, i + 2):
            if at(j).isdigit() and at((i + j) // 2) in lexicon.joiners:
                found.add(j)
    return found


def _gap(num: _Num, h: Hit) -> int:
    if h.start >= num.end:
        return h.start - num.end
    if h.end <= num.start:
        return num.start - h.end
    return 0


# The role of a number of victims of a harm that is not counted (rape, looting, arson...): the
# number is theirs, and no count.
_UNCOUNTED = "UNCOUNTED"


def _role_of_victims(h: Hit, tokens: Sequence[Token], hits: Sequence[Hit]) -> Hit:
    """A "victims" count word of another harm than killing: abducted for a kidnapping,
    uncounted for the others; any other role word as it is."""
    if h.group != "KILLED":
        return h
    harm = victims_of(h, tokens, hits)
    if harm is None:
        return h
    role = "ABDUCTED" if harm.group == "ABDUCTION" else _UNCOUNTED
    return Hit(role, h.lang, h.start, h.end, h.cue)


def extract_numbers(
    text: str, tokens: Sequence[Token], hits: Sequence[Hit], lexicon: Lexicon
) -> Numbers:
    """Assign each number to the nearest role word (a comma in between counts as distance).
    "Victims" of another harm than killing are that harm's ("12 victimes de viol": none
    killed; "victims of kidnapping": abducted)."""
    roles = [_role_of_victims(h, tokens, hits) for h in groups_in(hits, *_ROLES)]
    goods = {i for h in groups_in(hits, "GOODS") for i in range(h.start, h.end)}
    people = {i for h in groups_in(hits, "PEOPLE") for i in range(h.start, h.end)}
    counts: dict[str, int] = {}
    if not roles:
        return Numbers()
    dates = _date_positions(tokens, lexicon)
    for num in _parse_numbers(tokens, lexicon):
        if num.start - 1 in goods or num.end in goods or num.start in dates:
            continue
        if (
            num.value == 1
            and tokens[num.start].norm in _ONE
            and (
                num.start - 1 not in people
                and num.end not in people
                and not any(_gap(num, h) <= 1 for h in roles)
            )
        ):
            continue
        best: tuple[float, str] | None = None
        for h in roles:
            gap = _gap(num, h)
            if gap > _WINDOW:
                continue
            lo = tokens[min(num.end, h.end) - 1].end
            hi = tokens[max(num.start, h.start)].start
            between = text[lo:hi] if lo < hi else ""
            cost = gap + (2.5 if any(c in between for c in ",.;:!?") else 0.0)
            cost += 0.0 if h.start >= num.start else 0.1  # prefer the word after the number
            if best is None or cost < best[0]:
                best = (cost, h.group)
        if best is None:
            attackers = [h for h in roles if h.group == "ATTACKERS" and _gap(num, h) <= 10]
            if attackers and num.value > 1:
                best = (99.0, "ATTACKERS")
        if best is not None:
            counts[best[1]] = counts.get(best[1], 0) + num.value
    return Numbers(
        killed=counts.get("KILLED"),
        wounded=counts.get("WOUNDED"),
        abducted=counts.get("ABDUCTED"),
        attackers=counts.get("ATTACKERS"),
    )
