"""Deaths of no violence are no ATTACK (TRIAGE.md: ATTACK is armed violence against people): an
accident, a disease, a drowning or a flood, when no armed men, shots or weapons are named. The
review of this session found "the cholera death toll" and a road accident's read as killings
(older words, "5 morts" after "l accident", did the same). Only the dead and wounded counted
in the cause's own sentence are dropped: an attack told beside an accident stays one."""

from __future__ import annotations

import pytest

from app.geo.matcher import Gazetteer
from app.triage.types import Sender
from tests.triage.support import summary

CASES = [
    ("5 morts dans un accident de bus a Beni ce matin", ("OTHER", "low", "beni")),
    ("The cholera death toll in Goma has risen to 12 this week", ("OTHER", "low", "goma")),
    (
        "3 personnes ont perdu la vie dans un accident de circulation a Butembo",
        ("OTHER", "low", "butembo"),
    ),
    ("Watu 5 wamekufa kwa kipindupindu Uvira wiki hii", ("OTHER", "low", "uvira")),
    ("Two children drowned in the river at Kalehe this morning", ("OTHER", "low", "kalehe")),
    # guards: an attack with an accident told in another sentence; armed men, shots or a raid
    # named beside the accident
    (
        "Attaque a la machette a Beni ce matin, 3 morts. Un blesse est mort dans un accident de "
        "moto en route vers l hopital",
        ("ATTACK", "critical", "beni"),
    ),
    (
        "Les ADF ont tue 3 personnes a Mamove, un autre est mort dans un accident en fuyant",
        ("ATTACK", "critical", "mamove"),
    ),
    (
        "Tirs a Oicha ce matin, 2 morts; un camion a aussi fait un accident",
        ("ATTACK", "critical", "oicha"),
    ),
]


@pytest.mark.parametrize(("text", "expected"), CASES)
def test_deaths_of_no_violence(
    text: str, expected: tuple[str, str, str | None], gazetteer: Gazetteer
) -> None:
    assert summary(text, gazetteer, Sender()) == expected
