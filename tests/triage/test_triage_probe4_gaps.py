"""General gaps found by reading the misses of the fourth held-out probe (tests/data/
triage_real_probe4.jsonl, docs/TRIAGE_QUALITY.md "A fourth held-out probe"): goods taken in
English, Swahili beheadings and "wiki iliyopita", an intention in another clause, a now-word
in another sentence or a "still" that is no now-word, "le week-end passe", Lingala "tongo"
(morning), and an ultimatum told without the word. The sentences are ours, none is a probe
text."""

from __future__ import annotations

import pytest

from app.geo.matcher import Gazetteer
from app.triage.types import Sender
from tests.triage.support import MONDAY, summary

assert MONDAY.weekday() == 0  # the days below are read on this Monday


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # goods taken, in English
        ("The bandits took all the goats at Kamango", ("LOOTING", "medium", "kamango")),
        ("Gunmen made off with 12 goats at Kamango", ("LOOTING", "medium", "kamango")),
        ("Militiamen left with two women from Kamango", ("ABDUCTION", "critical", "kamango")),
        # beheadings in the active voice; "wiki iliyopita" is last week, not armed men passing
        (
            "Wiki iliyopita Mbororo walikata vichwa watu wawili huko Dungu",
            ("ATTACK", "high", "dungu"),
        ),
        # an intention reaches the words of its own clause only
        ("Walimu wanapanga mgomo: wezi wameiba vitu vya shule Beni", ("LOOTING", "medium", "beni")),
        ("ADF wanapanga kushambulia Oicha", ("THREAT", "medium", "oicha")),
        # a now-word in a sentence without the event does not make a past event go on
        (
            "Mapigano makali huko Kamango alhamisi. Jeshi linadhibiti eneo hilo sasa",
            ("CLASH", "high", "kamango"),
        ),
        (
            "Attaque hier a Mavivi. Les combats continuent maintenant",
            ("ATTACK", "critical", "mavivi"),
        ),
        # "still" held is no now-word (TRIAGE.md's now-words); "le week-end passe" is past
        (
            "Trois eleves enleves le week-end passe a Kamango. Toujours detenus",
            ("ABDUCTION", "high", "kamango"),
        ),
        (
            "Wanafunzi 3 waliotekwa jumamosi Kamango bado wako mikononi mwa watekaji",
            ("ABDUCTION", "high", "kamango"),
        ),
        # Lingala "na tongo": in the morning, not the town of Tongo
        ("Babomi bato mibale na tongo ya lelo", ("ATTACK", "critical", None)),
        ("Attaque na Tongo lelo", ("ATTACK", "critical", "tongo")),
        # a release gives the people back, not the goods taken with them
        (
            "The chief kidnapped by Mai-Mai was freed, but the militiamen left with goats "
            "from Kamango",
            ("LOOTING", "medium", "kamango"),
        ),
        (
            "Des bandits ont emmene 3 commercants et leurs marchandises a Kamango, les "
            "commercants ont ete relaches",
            ("LOOTING", "medium", "kamango"),
        ),
        (
            "Gunmen grabbed two Kamango fishermen with their phones and nets. The fishermen "
            "were let go",
            ("LOOTING", "medium", "kamango"),
        ),
        ("Les otages de Kamango ont ete liberes", ("OTHER", "low", "kamango")),
        # an ambush whose harm is a rape, no one killed or wounded
        (
            "Embuscade pres de Kamango: 3 passagers emmenes en brousse puis relaches, une femme "
            "violee",
            ("SEXUAL_VIOLENCE", "critical", "kamango"),
        ),
        ("Embuscade a Kamango, une femme violee et 2 blesses", ("ATTACK", "critical", "kamango")),
        # "heavily armed men" are armed men, not people moving, when an attack is feared
        (
            "Kamango: un groupe d hommes lourdement armes signale dans la foret. La population "
            "a peur d une attaque",
            ("ARMED_PRESENCE", "high", "kamango"),
        ),
        # an ultimatum without the word
        (
            "Les miliciens donnent 3 jours aux habitants de Kamango, passe ce delai ils vont "
            "bruler le village",
            ("THREAT", "medium", "kamango"),
        ),
        (
            "The militia gave residents of Kamango three days to leave",
            ("THREAT", "medium", "kamango"),
        ),
    ],
)
def test_probe4_gaps(
    text: str, expected: tuple[str, str, str | None], gazetteer: Gazetteer
) -> None:
    """From an unknown number: the place is the text's alone."""
    assert summary(text, gazetteer, Sender()) == expected
