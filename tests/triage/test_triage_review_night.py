"""The night's review of the rules from probes 11 and 12: a helper wrote 185 messages of its own
aimed at their edges, labelled each from TRIAGE.md first, and ran the engines before and after
them. These are the ones the mends of its findings put right (each wrong on the engine at
45aca5c): datelines that gave way to a name merely mentioned ("Le maire de Butembo"), deadlines
given by a doctor, "the children are taking exams", "les jeunes ont pris 2 femmes", new words
that fired on ordinary sentences, and holes beside the rules."""

from __future__ import annotations

import pytest

from app.geo.matcher import Gazetteer
from app.triage.types import Sender
from tests.triage.support import summary

CASES = [
    (
        "Beni: 3 morts dans une attaque des ADF ce matin. Le maire de Butembo condamne",
        ("ATTACK", "critical", "beni"),
    ),
    (
        "Kiwanja: attaque des M23 ce matin, 3 morts. Les blesses sont a l hopital de Rutshuru",
        ("ATTACK", "critical", "kiwanja"),
    ),
    (
        "Mweso : combats entre FARDC et M23 ce matin, les M23 viennent de Kitshanga",
        ("CLASH", "critical", "mweso"),
    ),
    (
        "Mutwanga - 2 enseignants enleves ce matin par des hommes armes, originaires de Kasindi",
        ("ABDUCTION", "critical", "mutwanga"),
    ),
    (
        "Komanda: les ADF ont brule 20 maisons ce matin; aide attendue de Bunia",
        ("ARSON", "high", "komanda"),
    ),
    (
        "La societe civile demande la liberation des 3 motards kidnappes sur l axe "
        "Rutshuru-Kiwanja",
        ("ABDUCTION", "critical", "rutshuru"),
    ),
    (
        "Beaucoup d habitants ont quitte Kitshanga apres l arrivee des M23",
        ("ARMED_PRESENCE", "high", "kitshanga"),
    ),
    (
        "Les villageois ont quitte Pinga, les Mai-Mai sont toujours la",
        ("ARMED_PRESENCE", "high", "pinga"),
    ),
    ("M23 wamewapa wakazi wa Bunagana siku tatu kuondoka", ("THREAT", "medium", "bunagana")),
    (
        "Les ADF ont laisse 72h a la population de Mangina pour partir",
        ("THREAT", "medium", "mangina"),
    ),
    ("Waasi wamepewa masaa 24 kuondoka Kamituga", ("THREAT", "medium", "kamituga")),
    (
        "Le medecin lui a donne 2 jours pour quitter l hopital de Mwenga, il va mieux",
        ("OTHER", "low", "mwenga"),
    ),
    (
        "Les ADF donnent 48 heures pour quitter Eringeti sinon ils attaquent",
        ("THREAT", "medium", "eringeti"),
    ),
    ("Wanamgambo wametoa siku mbili kwa wakazi wa Mulamba kuhama", ("THREAT", "medium", "mulamba")),
    (
        "Le chef a donne 3 jours de conge aux enseignants pour partir voter a Walungu",
        ("OTHER", "low", "walungu"),
    ),
    (
        "M23 took positions in the village of Kalengera last night",
        ("ARMED_PRESENCE", "high", "kalengera"),
    ),
    ("Les M23 ont conquis la ville de Bunagana", ("ARMED_PRESENCE", "high", "bunagana")),
    (
        "Vijana walichukua wasichana wawili msituni Kalunguta",
        ("ABDUCTION", "critical", "kalunguta"),
    ),
    ("Herders took their cattle to Mahagi", ("OTHER", "low", "mahagi")),
    ("Rue deserte a Goma, tout le monde est au stade pour le match", ("OTHER", "low", "goma")),
    ("The tanker emptied its fuel at Kasindi depot, no incident", ("OTHER", "low", "kasindi")),
    ("Students spend their nights studying for exams in Bunia", ("OTHER", "low", "bunia")),
    ("The rain makes every road to Walikale impassable", ("OTHER", "low", "walikale")),
    ("Wakazi wa Bunagana hawajaondoka licha ya vitisho vya M23", ("THREAT", "medium", "bunagana")),
    (
        "Les infirmiers passent leurs nuits a l hopital de Butembo a cause d Ebola",
        ("OTHER", "low", "butembo"),
    ),
    ("The children are taking exams in Butembo today", ("OTHER", "low", "butembo")),
    (
        "Les jeunes ont pris 2 femmes a Kamango et les ont amenees en brousse",
        ("ABDUCTION", "critical", "kamango"),
    ),
    ("Farmers taking their harvest to Oicha market", ("OTHER", "low", "oicha")),
    ("Women are taking their goats to the market in Mangina", ("OTHER", "low", "mangina")),
    ("ADF wamewapa wakazi wa Eringeti masaa 48 kuondoka", ("THREAT", "medium", "eringeti")),
    (
        "Kamango: le calme est revenu, les ADF ont quitte la zone. Le chef de Mutwanga confirme",
        ("OTHER", "low", "kamango"),
    ),
    (
        "Butembo: un enseignant enleve ce matin, il revenait de Musienene",
        ("ABDUCTION", "critical", "butembo"),
    ),
    (
        "Eringeti: ADF wameua watu 3 leo asubuhi, mmoja ni mwalimu wa shule ya Oicha",
        ("ATTACK", "critical", "eringeti"),
    ),
    (
        "Drodro: hommes armes entres ce matin au village, des gens de Bule sont venus se "
        "refugier ici",
        ("ARMED_PRESENCE", "high", "drodro"),
    ),
    (
        "Students are taking shelter in a school in Kiwanja as M23 and FARDC exchange fire",
        ("CLASH", "critical", "kiwanja"),
    ),
]


@pytest.mark.parametrize(("text", "expected"), CASES)
def test_the_night_review(
    text: str, expected: tuple[str, str, str | None], gazetteer: Gazetteer
) -> None:
    assert summary(text, gazetteer, Sender()) == expected
