"""Weapons men carry are not weapons used, and a Swahili raid is an ambush or raid like the
English one (TRIAGE.md: an ATTACK kills or hurts; a LOOTING takes goods; a presence harms no
one). From probes 14 and 15: "hommes armes de fusils, de machettes" beside a rape, "carrying
guns and machetes" beside a sighting, and burglars who "wamevamia nyumba ..., wameiba" were
each an ATTACK."""

from __future__ import annotations

import pytest

from app.geo.matcher import Gazetteer
from app.triage.types import Sender
from tests.triage.support import summary

CASES = [
    # the weapons carried: the event is what the men did
    (
        "Des hommes armes de fusils et de machettes ont viole 3 femmes a Kanyabayonga cette nuit",
        ("SEXUAL_VIOLENCE", "critical", "kanyabayonga"),
    ),
    (
        "Armed men carrying guns and machetes were seen crossing near Oicha this morning",
        ("ARMED_PRESENCE", "high", "oicha"),
    ),
    ("Hommes armes avec machettes vus a Mamove ce matin", ("ARMED_PRESENCE", "high", "mamove")),
    (
        "Men armed with AK 47s and machetes passing through Kibirizi now, going to the hills",
        ("ARMED_PRESENCE", "high", "kibirizi"),
    ),
    # guards: a weapon used, or a killing beside the weapons carried
    (
        "Des hommes armes de machettes ont tue 3 personnes a Oicha ce matin",
        ("ATTACK", "critical", "oicha"),
    ),
    ("Un homme tue a la machette a Mamove ce matin", ("ATTACK", "critical", "mamove")),
    ("They hacked 2 farmers with machetes near Eringeti today", ("ATTACK", "critical", "eringeti")),
    (
        "Machettes: 2 cultivateurs blesses au champ a Kokola ce matin",
        ("ATTACK", "critical", "kokola"),
    ),
    # "wamevamia": a raid that took goods and hurt no one is a LOOTING, an attack otherwise
    (
        "Wezi wenye mapanga wamevamia nyumba 5 Uvira usiku huu, wameiba pesa na simu",
        ("LOOTING", "medium", "uvira"),
    ),
    ("ADF wamevamia kijiji cha Mamove usiku huu", ("ATTACK", "critical", "mamove")),
    (
        "Uvamizi wa ADF Mamove leo asubuhi, watu 3 wameuawa",
        ("ATTACK", "critical", "mamove"),
    ),
    (
        "Majambazi wamevamia duka Butembo leo, wamejeruhi mlinzi na kuiba pesa",
        ("ATTACK", "critical", "butembo"),
    ),
]


@pytest.mark.parametrize(("text", "expected"), CASES)
def test_weapons_carried_and_raids(
    text: str, expected: tuple[str, str, str | None], gazetteer: Gazetteer
) -> None:
    assert summary(text, gazetteer, Sender()) == expected
