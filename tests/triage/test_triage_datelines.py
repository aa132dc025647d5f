"""A dateline ("Beni :", "Habari za Beni:") is where a report comes from: the place the event
is said to be in outranks it (TRIAGE.md, Place rule 2). Probes 5 to 10 each lost places to one;
the sentences are ours."""

from __future__ import annotations

import pytest

from app.geo.matcher import Gazetteer
from app.triage.types import Sender
from tests.triage.support import summary


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # the place named with the event, in a way the place rules did not rank above the
        # dateline: a village's name after "the villages of", an area, a raided village
        (
            "Habari za Beni: watu sita wameuawa na ADF katika vijiji vya Mamove usiku wa leo",
            ("ATTACK", "critical", "mamove"),
        ),
        (
            "Oicha : deuil ce lundi apres l'incursion des ADF dans le groupement de "
            "Batangi-Mbau, 12 morts",
            ("ATTACK", "critical", "groupement-batangi-mbau"),
        ),
        (
            "Fizi: mapigano makali tangu asubuhi katika sekta ya Lulenge, eneo la Fizi",
            ("CLASH", "critical", "territoire-fizi"),
        ),
        ("Irumu: ADF raided Boga this morning, 7 killed", ("ATTACK", "critical", "boga")),
        (
            "RUTSHURU - combats entre M23 et Wazalendo ce matin, chefferie de Bwito",
            ("CLASH", "critical", "chefferie-bwito"),
        ),
        (
            "Butembo (Nord-Kivu) : des hommes armes ont enleve 3 commercants sur la route "
            "Kirumba-Kayna",
            ("ABDUCTION", "critical", "kirumba"),
        ),
        # the dateline keeps its place against where people fled to, where the wounded were
        # taken and where the attackers came from
        (
            "Oicha: les ADF ont attaque le quartier ce matin, 4 morts, les blesses evacues a Beni",
            ("ATTACK", "critical", "oicha"),
        ),
        (
            "Kitshanga: combats ce matin entre M23 et FARDC, la population fuit vers Mweso",
            ("CLASH", "critical", "kitshanga"),
        ),
        (
            "Kiwanja: des hommes armes venus de Rutshuru ont pille les boutiques ce matin",
            ("LOOTING", "medium", "kiwanja"),
        ),
        # the only place, or named again after: the dateline's
        ("Mavivi: ADF wameua watu 3 leo asubuhi", ("ATTACK", "critical", "mavivi")),
        ("Beni : attaque des ADF ce matin a Beni, 2 morts", ("ATTACK", "critical", "beni")),
        # a place the event is compared with, and its day, are not this event's
        (
            "Oicha: ADF wameua watu 3 leo asubuhi kama yale ya Mavivi",
            ("ATTACK", "critical", "oicha"),
        ),
        ("Attaque ADF a Mavivi ce matin comme hier", ("ATTACK", "critical", "mavivi")),
        (
            "Une lettre de menace trouvee a Butembo promet des tueries comme celles de Beni",
            ("THREAT", "medium", "butembo"),
        ),
        # no dateline: a road's dash, a name not opening the text
        (
            "Kibirizi-Kirina: M23 fighters seen on the road this morning",
            ("ARMED_PRESENCE", "high", "kibirizi"),
        ),
        (
            "Attaque ce matin a Mavivi : 3 morts, la population fuit vers Oicha",
            ("ATTACK", "critical", "mavivi"),
        ),
    ],
)
def test_a_dateline_yields_to_the_place_of_the_event(
    text: str, expected: tuple[str, str, str | None], gazetteer: Gazetteer
) -> None:
    assert summary(text, gazetteer, Sender()) == expected
