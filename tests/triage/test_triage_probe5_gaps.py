"""General gaps found by reading the misses of the fifth held-out probe, in the register of
published reports (tests/data/triage_real_probe5.jsonl, docs/TRIAGE_QUALITY.md "A fifth
held-out probe (report style)"): armed men who left with goods, the victims of a rape, a
partial release, an army operation's words, an ambush laid for armed men, English forced
taxes, the month of March, plural areas, and four place rules. The sentences are ours, none
is a probe text."""

from __future__ import annotations

import pytest

from app.geo.matcher import Gazetteer
from app.triage.types import Sender
from tests.triage.support import summary

MINOVA_FP = "+243810000113"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # armed men who left with something took it
        (
            "Des hommes armes ont menace le cure de Kamango et sont repartis avec son telephone",
            ("LOOTING", "medium", "kamango"),
        ),
        # the victims of a rape are the raped, not people killed
        (
            "Trois femmes violees a Kalonge, les victimes sont soignees a l hopital",
            ("SEXUAL_VIOLENCE", "critical", "kalonge"),
        ),
        ("Incendie de 10 maisons a Kamango, 2 victimes", ("ATTACK", "critical", "kamango")),
        # a partial release ends nothing
        (
            "Les ADF ont enleve 10 personnes a Kamango, ils ont relache 3 femmes mais gardent "
            "les autres",
            ("ABDUCTION", "critical", "kamango"),
        ),
        (
            "Gunmen kidnapped 6 traders at Oicha, released two old men but kept the rest",
            ("ABDUCTION", "critical", "oicha"),
        ),
        # an army's "neutralised": a fight; an ambush laid for armed men: a fight
        ("The army neutralised 12 ADF fighters at Mavivi", ("CLASH", "critical", "mavivi")),
        ("Les FARDC ont neutralise 5 miliciens a Mavivi", ("CLASH", "critical", "mavivi")),
        (
            "Soldiers ambushed ADF fighters at Mavivi, no casualties",
            ("CLASH", "critical", "mavivi"),
        ),
        ("Embuscade contre un vehicule a Mavivi", ("ATTACK", "critical", "mavivi")),
        # forced taxes in English
        (
            "Mai-Mai demand a tax of 2000 FC from every household in Mavivi",
            ("THREAT", "medium", "mavivi"),
        ),
        (
            "Wazalendo charge road users 1000 FC at their barriers in Oicha",
            ("THREAT", "medium", "oicha"),
        ),
        # "in March" is a month, not a protest march
        (
            "About 2,000 displaced people arrived in Beni in March",
            ("DISPLACEMENT", "medium", "beni"),
        ),
        ("A peaceful march in Goma was dispersed by police", ("OTHER", "low", "goma")),
        # a plural area word names every area of its list
        (
            "Des deplaces venus des territoires de Rutshuru et Masisi fuient",
            ("DISPLACEMENT", "medium", "territoire-rutshuru"),
        ),
        # where people flee to is not where the attack was, nor where travellers were going
        (
            "Six people were killed in the villages of Katibili and Mala, survivors are fleeing "
            "towards Kalemie",
            ("ATTACK", "critical", None),
        ),
        (
            "Watu 5 wameuawa katika eneo la Beni, walikuwa wasafiri wakielekea Butembo",
            ("ATTACK", "critical", "territoire-beni"),
        ),
        # a tax at a place: the place, not the headline's territoire
        (
            "Rutshuru: a Nyamilima, les Mai-Mai font payer une taxe a chaque adulte",
            ("THREAT", "medium", "nyamilima"),
        ),
        # a group named after a place name is the group
        (
            "Three fighters of the Baraka armed group were killed at Mavivi",
            ("ATTACK", "critical", "mavivi"),
        ),
    ],
)
def test_probe5_gaps(
    text: str, expected: tuple[str, str, str | None], gazetteer: Gazetteer
) -> None:
    """From an unknown number: the place is the text's alone."""
    assert summary(text, gazetteer, Sender()) == expected


def test_a_later_clause_s_area_does_not_outrank_a_distance_anchor(
    gazetteer: Gazetteer, senders: dict[str, Sender]
) -> None:
    """A village the gazetteer lacks, given as a distance from Minova, with fighting spreading
    "into Kalehe" in another clause: Minova (Place rule 6), not Kalehe."""
    text = "Two girls raped in Kalungu, 15 km south of Minova, as fighting spreads into Kalehe"
    assert summary(text, gazetteer, senders[MINOVA_FP])[2] == "minova"
