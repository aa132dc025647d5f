"""Multilingual word lists (data files in ``app/triage/lexicon/``), loaded once and compiled.

Every ``*.toml`` of the package directory is read, then every ``*.toml`` of an optional extra
directory (argument ``extra_dir`` or environment variable ``KENGELE_LEXICON_DIR``) is merged on
top: tables are merged, lists appended, scalars replaced. The format is described at the top of
``lexicon/events.toml``.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, get_args

from app.triage.normalize import Token, fold_text
from app.triage.types import Category

LEXICON_DIR = Path(__file__).with_name("lexicon")
ENV_VAR = "KENGELE_LEXICON_DIR"
LANGS = ("fr", "sw", "ln", "en")

# Swahili verb: subject prefix, optional tense (and relative), optional object prefix.
SW_PREFIX = (
    "(?:ku|wa|a|tu|ni|u|m|mu|ya|i|zi|li|ki|vi|pa)"
    "(?:me|na|li|ta|ki|ka|nge|ja|mesha|ku|sha|liko|lipo|napo|tapo|nao|lio|po|liye|liyo|naye|meye|ye)?"
    "(?:wa|m|mw|mu|ni|tu|ku|ya|i|zi|li|ki|vi|ji)?"
)
LN_PREFIX = "(?:ba|a|to|na|bo|o|ko|e|mo|ma|li|bi|mi)"

# The categories cue words point to, in order of rank (OTHER is the fallback, FLASH a missed call).
CATEGORY_GROUPS: tuple[str, ...] = tuple(
    c for c in get_args(Category) if c not in ("OTHER", "FLASH")
)
EVENT_GROUPS = frozenset(
    (
        *CATEGORY_GROUPS,
        "GUNFIRE",
        "SIGHTING",
        "AP_WEAK",
        "TAKE",
        "ASSAULT",
        "SEIZE",
        "PROTEST",
        "WEAPON",
        "FINISH",
        "FIGHT",
    )
)
# Long phrases of these groups hide the words inside them: an event phrase ("cattle raid"), a
# protest ("ville morte") or an armed group's name ("Mouvement du 23 mars").
HIDING_GROUPS = EVENT_GROUPS | {"ACTOR"}
# Groups whose hits survive inside a longer phrase of another group (roles of numbers, actors).
EXEMPT_GROUPS = frozenset(("KILLED", "WOUNDED", "ABDUCTED", "ATTACKERS", "ACTOR", "PEOPLE", "TOLL"))


@dataclass(frozen=True, slots=True)
class Hit:
    """A lexicon entry found in the tokens [start, end)."""

    group: str
    lang: str
    start: int
    end: int
    cue: str


def _merge(base: dict[str, Any], extra: dict[str, Any]) -> None:
    for key, value in extra.items():
        old = base.get(key)
        if isinstance(old, dict) and isinstance(value, dict):
            _merge(old, value)
        elif isinstance(old, list) and isinstance(value, list):
            base[key] = old + value
        else:
            base[key] = value


class LexiconError(ValueError):
    """Word lists that cannot be read: which file or directory, and why."""


def _read_dir(directory: Path) -> dict[str, Any]:
    data: dict[str, Any] = {}
    for path in sorted(directory.glob("*.toml")):
        try:
            with path.open("rb") as fh:
                _merge(data, tomllib.load(fh))
        except (OSError, tomllib.TOMLDecodeError) as exc:  # the error names line and column
            raise LexiconError(f"word list {path}: {exc}") from exc
    return data


def _expand(pattern: str) -> str:
    return pattern.replace("{SW}", SW_PREFIX).replace("{LN}", LN_PREFIX)


def _str_list(value: Any) -> list[str]:
    if not isinstance(value, list):
        return []
    return [v for v in value if isinstance(v, str) and v.strip()]


def _indexed(table: Any) -> dict[str, int]:
    """{"fr": ["lundi", ...]} -> {"lundi": 0, ...}: a name and its place in the list."""
    out: dict[str, int] = {}
    for names in (table or {}).values():
        for index, name in enumerate(_str_list(names)):
            out.setdefault(fold_text(name), index)
    return out


class Lexicon:
    """Compiled word lists: phrase index, stems, regexes, numbers, abbreviations."""

    def __init__(self, data: dict[str, Any]) -> None:
        self.phrases: dict[str, list[tuple[tuple[str, ...], str, str]]] = {}
        self.stems: list[tuple[str, str, str]] = []
        self.regexes: list[tuple[re.Pattern[str], str, str]] = []
        words_by_lang: dict[str, set[str]] = {lang: set() for lang in LANGS}
        common: set[str] = set()
        self.groups: set[str] = set()
        for group, table in data.items():
            if not isinstance(table, dict) or not group.isupper():
                continue
            self.groups.add(group)
            for lang, spec in table.items():
                if not isinstance(spec, dict):
                    continue
                for phrase in _str_list(spec.get("words")):
                    toks = tuple(fold_text(phrase).split())
                    if not toks:
                        continue
                    self.phrases.setdefault(toks[0], []).append((toks, group, lang))
                    if lang in words_by_lang and group != "STOP":
                        words_by_lang[lang].update(toks)
                    common.update(toks)
                for stem in _str_list(spec.get("stems")):
                    self.stems.append((fold_text(stem).replace(" ", ""), group, lang))
                patterns = _str_list(spec.get("regex"))
                if patterns:
                    joined = "|".join(f"(?:{_expand(p)})" for p in patterns)
                    self.regexes.append((re.compile(joined), group, lang))
        for entries in self.phrases.values():
            entries.sort(key=lambda e: -len(e[0]))
        self.words_by_lang = {lang: frozenset(ws) for lang, ws in words_by_lang.items()}
        self.common_words = frozenset(common)
        stop = data.get("STOP", {})
        self.stop_words = frozenset(
            w
            for spec in stop.values()
            if isinstance(spec, dict)
            for w in _str_list(spec.get("words"))
        )
        # Words never read as fuzzy place names; built once, used for every message.
        self.place_stopwords = self.common_words | self.stop_words
        numbers: dict[str, int] = {}
        for table in (data.get("numbers") or {}).values():
            if isinstance(table, dict):
                numbers.update(
                    {fold_text(k): int(v) for k, v in table.items() if isinstance(v, int)}
                )
        self.numbers = numbers
        self.number_words = frozenset(numbers)
        self.multipliers = frozenset(fold_text(w) for w in _str_list(data.get("multipliers")))
        self.joiners = frozenset(fold_text(w) for w in _str_list(data.get("joiners")))
        self.weekdays = _indexed(data.get("weekdays"))
        self.months = _indexed(data.get("months"))
        # Month names written before the day ("August 23"): the English ones only.
        self.months_first = frozenset(
            fold_text(name)
            for lang, names in (data.get("months") or {}).items()
            if lang.startswith("en")
            for name in _str_list(names)
        )
        # Fixed-date holidays: (tokens of a phrase that names it, month, day).
        self.holidays: list[tuple[tuple[str, ...], int, int]] = []
        for key, names in (data.get("holidays") or {}).items():
            month, _, day = str(key).partition("-")
            if month.isdigit() and day.isdigit():
                for name in _str_list(names):
                    toks = tuple(fold_text(name).split())
                    self.holidays.append((toks, int(month), int(day)))
        calendar = data.get("calendar") or {}
        self.ahead_words = frozenset(fold_text(w) for w in _str_list(calendar.get("ahead")))
        self.this_words = frozenset(fold_text(w) for w in _str_list(calendar.get("this")))
        self.night_joiners = frozenset(
            fold_text(w) for w in _str_list(calendar.get("night_joiners"))
        )
        # Phrases naming the day of the message ("aujourd hui", "ce matin", "leo"), as tokens.
        self.today_phrases = tuple(
            tuple(fold_text(w).split()) for w in _str_list(calendar.get("today"))
        )
        abbreviations = data.get("abbreviations") or {}
        self.abbreviations = {
            fold_text(k): fold_text(v) for k, v in abbreviations.items() if isinstance(v, str)
        }

    def find(self, tokens: Sequence[Token]) -> list[Hit]:
        """All entries found in ``tokens``; entries inside a longer event phrase or a MASK are
        dropped (so "cattle raid" is looting only, "auteur en fuite" is nobody fleeing)."""
        norms = [t.norm for t in tokens]
        hits: list[Hit] = []
        n = len(norms)
        for i, word in enumerate(norms):
            for toks, group, lang in self.phrases.get(word, ()):
                k = len(toks)
                if i + k <= n and tuple(norms[i : i + k]) == toks:
                    hits.append(Hit(group, lang, i, i + k, " ".join(toks)))
            for stem, group, lang in self.stems:
                if word.startswith(stem):
                    hits.append(Hit(group, lang, i, i + 1, word))
            if word.isdigit():
                continue
            for pattern, group, lang in self.regexes:
                if pattern.fullmatch(word):
                    hits.append(Hit(group, lang, i, i + 1, word))
        return _prune(hits)


def _prune(hits: list[Hit]) -> list[Hit]:
    masks = [h for h in hits if h.group == "MASK"]
    long_events = [h for h in hits if h.group in HIDING_GROUPS and h.end - h.start > 1]
    kept: list[Hit] = []
    seen: set[tuple[str, int, int]] = set()
    for h in hits:
        key = (h.group, h.start, h.end)
        if key in seen:
            continue
        if h.group != "MASK" and any(m.start < h.end and h.start < m.end for m in masks):
            continue
        if h.group not in EXEMPT_GROUPS and any(
            g.start <= h.start and h.end <= g.end and g.end - g.start > h.end - h.start
            for g in long_events
        ):
            continue
        seen.add(key)
        kept.append(h)
    return kept


@lru_cache(maxsize=8)
def _load(extra: str | None) -> Lexicon:
    data = _read_dir(LEXICON_DIR)
    if extra:
        extra_path = Path(extra)
        if not extra_path.is_dir():
            raise LexiconError(f"{extra}: not a directory (the word lists to add, {ENV_VAR})")
        _merge(data, _read_dir(extra_path))
    return Lexicon(data)


def load_lexicon(extra_dir: str | os.PathLike[str] | None = None) -> Lexicon:
    """The package word lists, with ``extra_dir`` (or $KENGELE_LEXICON_DIR) merged on top;
    LexiconError when a file cannot be read or the directory is not one."""
    extra = os.fspath(extra_dir) if extra_dir is not None else os.environ.get(ENV_VAR)
    return _load(extra or None)


def groups_in(hits: Iterable[Hit], *groups: str) -> list[Hit]:
    """The hits of the given groups, in text order."""
    wanted = set(groups)
    return sorted((h for h in hits if h.group in wanted), key=lambda h: (h.start, h.end))
