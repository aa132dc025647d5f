"""Value types shared by triage and the geotagger, and the place matcher triage is given;
plain data, no I/O."""

from __future__ import annotations

from collections.abc import Container, Sequence
from dataclasses import dataclass, field
from typing import Literal, Protocol

from app.triage.normalize import Token

Category = Literal[
    "ATTACK",
    "ABDUCTION",
    "SEXUAL_VIOLENCE",
    "CLASH",
    "ARSON",
    "LOOTING",
    "ARMED_PRESENCE",
    "DISPLACEMENT",
    "THREAT",
    "OTHER",
    "FLASH",
]
Severity = Literal["low", "medium", "high", "critical"]
# "human": given by an operator or a liaison, not read by triage.
LocationSource = Literal["text", "reporter_home", "human", "none"]
AREA_LEVELS = ("territoire", "secteur", "chefferie", "groupement")


@dataclass(frozen=True, slots=True)
class GazPlace:
    """A gazetteer entry as the matcher sees it."""

    id: str
    name: str
    lat: float
    lon: float
    admin1: str | None = None
    admin2: str | None = None
    alt_names: tuple[str, ...] = ()
    kind: str | None = None  # "town", "village", ... or an area level ("territoire", ...)
    admin1_code: str | None = None  # ISO 3166-2 ("CD-NK") or GeoNames ("CD.11")
    imported: bool = False  # from a large outside gazetteer (GeoNames): local names outrank it

    @property
    def area_level(self) -> str | None:
        """ "territoire", "secteur", "chefferie" or "groupement" for an administrative area."""
        return self.kind if self.kind in AREA_LEVELS else None


@dataclass(frozen=True, slots=True)
class Sender:
    """What triage may know of who sent the message."""

    known: bool = False
    verified: bool = False
    home: GazPlace | None = None
    language: str | None = None


@dataclass(frozen=True, slots=True)
class Numbers:
    """Counts stated in the text (None when not stated)."""

    killed: int | None = None
    wounded: int | None = None
    abducted: int | None = None
    attackers: int | None = None


@dataclass(frozen=True, slots=True)
class TriageResult:
    """Everything triage decides about one message."""

    category: Category
    severity: Severity
    score: float
    cap_urgency: str
    cap_severity: str
    cap_certainty: str
    language: str
    is_past: bool
    is_ongoing: bool
    numbers: Numbers
    place: GazPlace | None
    location_source: LocationSource
    location_confidence: float
    reasons: tuple[str, ...] = field(default_factory=tuple)


@dataclass(frozen=True, slots=True)
class Mention:
    """A place name found in tokens [start, end)."""

    start: int
    end: int
    text: str
    places: tuple[GazPlace, ...]
    kind: str  # "name", "alt" or "fuzzy"
    distance: int
    common: bool  # the word is also a common word (needs a capital or a preposition)
    matched: str  # the gazetteer name it matched


class PlaceMatcher(Protocol):
    """What triage asks of a gazetteer (app.geo.matcher.Gazetteer is the one in use)."""

    def find_mentions(
        self,
        tokens: Sequence[Token],
        *,
        stopwords: frozenset[str] = ...,
        fuzzy_at: Container[int] | None = None,
    ) -> list[Mention]:
        """Place names in `tokens`, left to right."""

    def resolve(self, places: Sequence[GazPlace], home: GazPlace | None) -> tuple[GazPlace, str]:
        """One place for a name several places share, and why."""
