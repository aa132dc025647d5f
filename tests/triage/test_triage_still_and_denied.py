"""Armed men said to be still there are not gone, whatever calm or departure the text also
tells; and a report said in its clause to be false tells no event (TRIAGE.md: OTHER covers
"reports that a threat has ended", false alarms). From probe 17: "tumeamka leo kwa utulivu
... Lakini M23 bado wako hapa mjini, hawajaondoka", "M23 walitangaza kwamba wameondoka, lakini
bado wako mjini" were OTHER; "ba foto ete FARDC bakangi ba M23 ezali lokuta" (the photos are a
lie) an ABDUCTION."""

from __future__ import annotations

import pytest

from app.geo.matcher import Gazetteer
from app.triage.types import Sender
from tests.triage.support import summary

CASES = [
    # still there
    (
        "Sake: leo ni shwari, hakuna risasi. Lakini M23 bado wako mjini, hawajaondoka",
        ("ARMED_PRESENCE", "high", "sake"),
    ),
    ("Calme a Sake ce matin, mais les M23 sont toujours la", ("ARMED_PRESENCE", "high", "sake")),
    (
        "M23 said they withdrew from Rubaya, but their fighters are still there today.",
        ("ARMED_PRESENCE", "high", "rubaya"),
    ),
    # guards: gone and calm, with no one still there; people still there are no armed men
    ("Wakazi wa Kiwanja hawajaondoka licha ya vitisho vya M23", ("THREAT", "medium", "kiwanja")),
    ("Les M23 sont partis de Sake, calme total", ("OTHER", "low", "sake")),
    ("Kimia na Kiwanja, bato ya mindoki bakei", ("OTHER", "low", "kiwanja")),
    ("Calme a Oicha, les deplaces sont toujours la", ("OTHER", "low", "oicha")),
    # denied
    (
        "Habari za ADF kushambulia Mamove usiku huu ni uongo, tumeongea na chifu",
        ("OTHER", "low", "mamove"),
    ),
    (
        "Sango ete ba M23 bakoti na Rubaya ezali lokuta, bobanga te",
        ("OTHER", "low", "rubaya"),
    ),
    ("L information d une attaque a Oicha ce matin est fausse", ("OTHER", "low", "oicha")),
    ("Reports of M23 fighters entering Kiwanja today are false.", ("OTHER", "low", "kiwanja")),
    # "la situation est sous controle": calm, nothing seized
    ("La situation est sous controle a Oicha ce soir", ("OTHER", "low", "oicha")),
    # guards: a denial in another clause, a group denying its part, a town under control
    (
        "Les ADF ont tue 3 personnes a Mamove ce matin, les rumeurs sur Beni sont fausses",
        ("ATTACK", "critical", "mamove"),
    ),
    (
        "Des maisons incendiees a Kalehe cette nuit; le groupe Mai-Mai dement toute implication",
        ("ARSON", "high", "kalehe"),
    ),
    (
        "Kanyabayonga est sous controle du M23 depuis ce matin",
        ("ARMED_PRESENCE", "high", "kanyabayonga"),
    ),
]


@pytest.mark.parametrize(("text", "expected"), CASES)
def test_still_there_and_denied(
    text: str, expected: tuple[str, str, str | None], gazetteer: Gazetteer
) -> None:
    assert summary(text, gazetteer, Sender()) == expected
