"""Where the teller of the news is, is not where the event is (TRIAGE.md Place rule 2: the
place the event is said to happen in). From probe 15: "Bukokoma village, in the Ruwenzori
sector ... the Red Cross secretary in Mutwanga confirmed" was placed at Mutwanga, the source's
town, over the sector where the village is."""

from __future__ import annotations

import pytest

from app.geo.matcher import Gazetteer
from app.triage.types import Sender
from tests.triage.support import summary

CASES = [
    (
        "Three civilians were killed in the Ruwenzori sector today, a civil society source in "
        "Mutwanga said.",
        ("ATTACK", "critical", "secteur-ruwenzori"),
    ),
    (
        "Trois civils tues dans le secteur de Ruwenzori ce matin, a confirme le coordinateur "
        "de la societe civile de Mutwanga.",
        ("ATTACK", "critical", "secteur-ruwenzori"),
    ),
    (
        "Watu watatu wameuawa katika sekta ya Ruwenzori leo, msemaji wa asasi za kiraia huko "
        "Mutwanga amesema.",
        ("ATTACK", "critical", "secteur-ruwenzori"),
    ),
    (
        "The Red Cross in Oicha said 5 people were killed in Beni territory this morning.",
        ("ATTACK", "critical", "territoire-beni"),
    ),
    # where someone spoke from (probe 18: "Speaking at Mangina on Friday, the commander said")
    (
        "ADF rebels seen near Beni town this morning. Speaking at Mangina, the commander said "
        "troops are on the way.",
        ("ARMED_PRESENCE", "high", "beni"),
    ),
    (
        "Trois civils tues a Mavivi ce matin, a indique l administrateur joint depuis Beni.",
        ("ATTACK", "critical", "mavivi"),
    ),
    # guards: the teller's town when nothing else is named, and a place the event is said to
    # be in after the teller's
    (
        "The civil society of Beni said ADF killed 3 farmers today.",
        ("ATTACK", "critical", "beni"),
    ),
    (
        "A source in Butembo said ADF attacked Mamove this morning.",
        ("ATTACK", "critical", "mamove"),
    ),
    (
        "Les sources de Kiwanja rapportent des combats a Rutshuru ce matin.",
        ("CLASH", "critical", "rutshuru"),
    ),
    # a teller's word with no saying in the sentence is no source: the coordinator was the victim
    (
        "Le coordinateur de la societe civile de Kamango tue par les ADF ce matin en territoire "
        "de Beni",
        ("ATTACK", "critical", "kamango"),
    ),
]


@pytest.mark.parametrize(("text", "expected"), CASES)
def test_where_the_teller_is(
    text: str, expected: tuple[str, str, str | None], gazetteer: Gazetteer
) -> None:
    assert summary(text, gazetteer, Sender()) == expected
