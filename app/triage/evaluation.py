"""Accuracy of triage on a labelled set (`kengele triage eval FILE`): pure scoring and a report."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

FIELDS = ("category", "severity", "place")


@dataclass(frozen=True, slots=True)
class Case:
    """One labelled message and what triage made of it."""

    id: str
    lang: str
    body: str
    expected: dict[str, str | None]
    got: dict[str, str | None]
    home: str | None  # the sender's home place id, if a registered focal point
    reasons: tuple[str, ...]

    def ok(self, field: str) -> bool:
        """Triage got ``field`` right."""
        return self.expected.get(field) == self.got.get(field)

    @property
    def false_place(self) -> bool:
        """A place the text did not name: an expected null or home place replaced by another."""
        want, got = self.expected.get("place"), self.got.get("place")
        return want in (None, self.home) and got is not None and got != want


@dataclass(frozen=True, slots=True)
class Report:
    """Accuracy per field, overall and per language, the category confusion and the misses."""

    cases: tuple[Case, ...]

    def accuracy(self, field: str, lang: str | None = None) -> float:
        """Share of cases (of one language) where ``field`` is right."""
        chosen = [c for c in self.cases if lang is None or c.lang == lang]
        return sum(c.ok(field) for c in chosen) / len(chosen) if chosen else 0.0

    @property
    def languages(self) -> list[str]:
        """Languages of the set, most frequent first."""
        return [lang for lang, _ in Counter(c.lang for c in self.cases).most_common()]

    @property
    def false_places(self) -> list[Case]:
        """Cases whose alert was moved to a place the text does not name."""
        return [c for c in self.cases if c.false_place]

    @property
    def misses(self) -> list[Case]:
        """Cases with at least one field wrong."""
        return [c for c in self.cases if not all(c.ok(f) for f in FIELDS)]

    def confusion(self) -> Counter[tuple[str | None, str | None]]:
        """(expected, got) category pairs that differ, with their counts."""
        return Counter(
            (c.expected.get("category"), c.got.get("category"))
            for c in self.cases
            if not c.ok("category")
        )


def _pct(value: float) -> str:
    return f"{100 * value:5.1f}%"


def render(report: Report) -> list[str]:
    """The report as text lines: totals, per language, confusion, false places, every miss."""
    cases = report.cases
    lines = [f"{len(cases)} messages"]
    for field in FIELDS:
        right = sum(c.ok(field) for c in cases)
        lines.append(f"{field:<9} {_pct(report.accuracy(field))} ({right}/{len(cases)})")
    lines.append(f"false places: {len(report.false_places)}")
    lines.append("")
    lines.append("language     n  category  severity     place")
    for lang in report.languages:
        n = sum(c.lang == lang for c in cases)
        row = "  ".join(_pct(report.accuracy(f, lang)).rjust(8) for f in FIELDS)
        lines.append(f"{lang:<6} {n:>6}  {row}")
    confusion = report.confusion()
    if confusion:
        lines.append("")
        lines.append("category confusion (expected → got: count)")
        for (want, got), count in confusion.most_common():
            lines.append(f"  {want} → {got}: {count}")
    if report.false_places:
        lines.append("")
        lines.append("false places (expected null or home, got another place)")
        for c in report.false_places:
            lines.append(f"  {c.id}: expected {c.expected.get('place')}, got {c.got.get('place')}")
    if report.misses:
        lines.append("")
        lines.append("misses")
    for c in report.misses:
        wrong = ", ".join(
            f"{f} {c.expected.get(f)} ≠ {c.got.get(f)}" for f in FIELDS if not c.ok(f)
        )
        lines.append(f"- {c.id} [{c.lang}] {wrong}")
        lines.append(f"    {c.body}")
        lines.extend(f"    · {reason}" for reason in c.reasons)
    return lines
