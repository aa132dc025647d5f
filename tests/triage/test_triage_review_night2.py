"""The second review of the night, of the rules from probes 13 and 14: a helper wrote 116 messages
of its own at their edges, labelled each from TRIAGE.md first, and compared the engines before
(83815fc) and after (3156216) them: 30 fixed, 14 false alarms. These are the sentences the mends
put right (each wrong at 3156216): armed men who drove people out are no subject of their return,
a return threatened is a THREAT, "apres au moins trois semaines" or a clock time is no part of
the hostages, a calm after "after the fighting," is calm; and from probe 15: Swahili verbs
"when they were" ("walipotekwa", "walipouawa"), Lingala "bitumba" is fighting, not burning,
and arms that "se sont tues" fell silent."""

from __future__ import annotations

import pytest

from app.geo.matcher import Gazetteer
from app.triage.types import Sender
from tests.triage.support import summary

CASES = [
    (
        "Les familles chassees par les miliciens sont rentrees a Pinga hier.",
        ("OTHER", "low", "pinga"),
    ),
    ("ADF wanatishia kurudi Oicha, wameacha barua.", ("THREAT", "medium", "oicha")),
    ("Les familles rentrent puisque Wazalendo sont partis de Rubaya.", ("OTHER", "low", "rubaya")),
    (
        "Les habitants chasses par les ADF sont revenus a Kokola hier, la vie reprend.",
        ("OTHER", "low", "kokola"),
    ),
    ("Families displaced by the rebels returned to Kibati last week.", ("OTHER", "low", "kibati")),
    (
        "Tous les otages ont ete liberes apres au moins trois semaines de captivite a Mambasa.",
        ("OTHER", "low", "mambasa"),
    ),
    (
        "All hostages were released after at least two weeks in captivity near Boga.",
        ("OTHER", "low", "boga"),
    ),
    ("Mateka wote waliotekwa Kalehe wameachiliwa kati ya jana na leo.", ("OTHER", "low", "kalehe")),
    (
        "Des bandits ont enleve 4 commercants a Kasindi lundi. Mercredi vers 14 heures les "
        "commercants ont ete liberes contre rancon.",
        ("OTHER", "low", "kasindi"),
    ),
    (
        "Wanamgambo waliteka wakulima 3 Mutwanga juzi. Jana saa 4 usiku wakulima wale wote "
        "waliachiliwa.",
        ("OTHER", "low", "mutwanga"),
    ),
    (
        "The army freed at least 30 hostages from an ADF camp near Oicha on Sunday.",
        ("OTHER", "low", "oicha"),
    ),
    ("Certaines sources disent otages liberes hier soir a Mandima.", ("OTHER", "low", "mandima")),
    (
        "Mateka wote wa Kibua wameachiliwa baada ya baadhi ya familia kulipa fidia.",
        ("OTHER", "low", "kibua"),
    ),
    ("After the fighting, calm has returned to Rumangabo.", ("OTHER", "low", "rumangabo")),
    ("Apres combats hier, calme a Ntoyo ce matin.", ("OTHER", "low", "ntoyo")),
    (
        "Watu 3 bado wako msituni tangu jana walipotekwa na watu wenye silaha Ishasha",
        ("ABDUCTION", "high", "ishasha"),
    ),
    ("Raia wawili walipouawa Kiwanja jana", ("ATTACK", "high", "kiwanja")),
    ("Bitumba na Kiwanja lelo na ntongo", ("CLASH", "critical", "kiwanja")),
    ("Les armes se sont tues a Kitshanga depuis hier", ("OTHER", "low", "kitshanga")),
]


@pytest.mark.parametrize(("text", "expected"), CASES)
def test_the_second_review(
    text: str, expected: tuple[str, str, str | None], gazetteer: Gazetteer
) -> None:
    assert summary(text, gazetteer, Sender()) == expected
