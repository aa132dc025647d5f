"""What a report tells in the pluperfect came before the event it reports: it decides neither
the category nor the place when another event is told (TRIAGE.md: the event the message
reports). From probes 16 and 17: "Ce meme groupe avait mene le 2 mai une incursion : ...
jeunes enleves" beside today's rapes, "qui avaient d abord attaque Lengwe" beside a flight,
"En fevrier deja, 62 civils avaient peri a Bule" beside the attack of the day. And a past date
in another sentence does not make today's event past when the event's sentence names the day
of the message ("Des combats depuis ce lundi 2 octobre ... Vendredi 29 septembre, ...")."""

from __future__ import annotations

import pytest

from app.geo.matcher import Gazetteer
from app.triage.types import Sender
from tests.triage.support import summary

# Received on Monday 30 December 2024 (tests.triage.support.MONDAY).
CASES = [
    # the event reported decides, the pluperfect's does not
    (
        "Les deplaces fuient vers Beni. Les miliciens avaient attaque Mamove la semaine passee.",
        ("DISPLACEMENT", "medium", "beni"),
    ),
    (
        "Ce matin des hommes armes ont ete vus a Kokola. En mai deja, les ADF avaient tue 9 "
        "personnes a Mavivi.",
        ("ARMED_PRESENCE", "high", "kokola"),
    ),
    (
        "ADF fighters looted shops in Oicha today. Last month they had killed 11 people at Mamove.",
        ("LOOTING", "medium", "oicha"),
    ),
    (
        "Wakazi wanakimbia Oicha leo. ADF walikuwa wameua watu 5 Mamove mwezi uliopita.",
        ("DISPLACEMENT", "medium", "oicha"),
    ),
    (
        "Les miliciens ont viole 4 femmes a Kalehe ce matin. Le meme groupe avait mene en "
        "novembre une incursion a Mwenga : 20 jeunes enleves.",
        ("SEXUAL_VIOLENCE", "critical", "kalehe"),
    ),
    # the place of the event reported over the pluperfect's
    (
        "Douze personnes tuees ce lundi dans le territoire de Djugu. En novembre deja, 62 "
        "civils avaient peri a Bule.",
        ("ATTACK", "critical", "territoire-djugu"),
    ),
    # guards: a pluperfect alone is the event; "il y avait", "had guns" are no pluperfect
    ("Les ADF avaient tue 3 personnes a Mamove", ("ATTACK", "critical", "mamove")),
    (
        "Il y avait des hommes armes a Mamove ce matin, ils ont tue 2 personnes",
        ("ATTACK", "critical", "mamove"),
    ),
    (
        "The militia had guns and killed 3 people in Mamove today",
        ("ATTACK", "critical", "mamove"),
    ),
    # today's date or "ce lundi" in the event's sentence, a past date in another's
    (
        "Des combats opposent depuis ce lundi 30 decembre les FARDC aux miliciens a Bitale, "
        "territoire de Kalehe. Vendredi 27 decembre, deux personnes avaient ete tuees a Bunyakiri.",
        ("CLASH", "critical", "territoire-kalehe"),
    ),
    (
        "Fighting between FARDC and the militia since this Monday at Minova. On 20 December "
        "the army had retaken Kalehe.",
        ("CLASH", "critical", "minova"),
    ),
]


@pytest.mark.parametrize(("text", "expected"), CASES)
def test_background_in_the_pluperfect(
    text: str, expected: tuple[str, str, str | None], gazetteer: Gazetteer
) -> None:
    assert summary(text, gazetteer, Sender()) == expected
