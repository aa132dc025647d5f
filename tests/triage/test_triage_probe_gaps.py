"""General gaps found by reading the misses of the held-out probe (tests/data/
triage_real_probe.jsonl, docs/TRIAGE_QUALITY.md): word forms, a night named up to "ce" day, a
count in words before the people taken, a clause boundary between animals and the wounded, a
list of places sharing one place word, and where armed men come from. The sentences are ours,
none is a probe text."""

from __future__ import annotations

import pytest

from app.geo.matcher import Gazetteer
from app.triage.engine import triage_message
from app.triage.types import Sender
from tests.triage.support import MONDAY, summary

MAVIVI_FP = "+243810000101"
DJUGU_FP = "+243810000110"
KASINDI_FP = "+243810000106"


@pytest.mark.parametrize(
    ("phone", "text", "expected"),
    [
        # bodies found are people killed
        (
            MAVIVI_FP,
            "Trois corps retrouves ce matin dans la riviere a Kamango",
            ("ATTACK", "critical", "kamango"),
        ),
        # "sites de deplaces" (plural) names a place where displaced people live, not a flight
        (
            DJUGU_FP,
            "Les miliciens menacent les sites de deplaces de Savo",
            ("THREAT", "medium", "savo"),
        ),
        # an adverb inside "hommes ... armes"; "sejournent" (are staying) is presence
        (
            MAVIVI_FP,
            "Une vingtaine d hommes lourdement armes a Kokola",
            ("ARMED_PRESENCE", "high", "kokola"),
        ),
        (
            MAVIVI_FP,
            "Des rebelles sejournent dans les champs de Ngadi",
            ("ARMED_PRESENCE", "high", "ngadi"),
        ),
        # "vident" (they empty): people leaving
        (
            MAVIVI_FP,
            "Les habitants de Kokola vident le village",
            ("DISPLACEMENT", "medium", "kokola"),
        ),
        # roadblocks and being made to pay: forced taxes
        (
            MAVIVI_FP,
            "Wanamgambo wameweka kizuizi barabarani Kamango",
            ("THREAT", "medium", "kamango"),
        ),
        (
            MAVIVI_FP,
            "Tunalipishwa pesa na askari kila siku hapa Ngadi",
            ("THREAT", "medium", "ngadi"),
        ),
        # feminine and plural participles: a place fallen or occupied, people captured
        (
            MAVIVI_FP,
            "Le village de Mutwanga est tombe aux mains des Mai-Mai",
            ("ARMED_PRESENCE", "high", "mutwanga"),
        ),
        (
            MAVIVI_FP,
            "Les collines de Kibirizi occupees par le M23",
            ("ARMED_PRESENCE", "high", "kibirizi"),
        ),
        (
            MAVIVI_FP,
            "Deux filles capturees par les ADF au champ a Ngadi",
            ("ABDUCTION", "critical", "ngadi"),
        ),
        # "emportees": people taken away are an abduction, goods a looting
        (
            MAVIVI_FP,
            "Cinq personnes emportees en brousse par les ADF a Ngadi",
            ("ABDUCTION", "critical", "ngadi"),
        ),
        (
            MAVIVI_FP,
            "Des chevres et des biens emportes par des hommes armes a Ngadi",
            ("LOOTING", "medium", "ngadi"),
        ),
        # a count in words before the people taken
        (
            KASINDI_FP,
            "Gunmen took three women from the fields near Kasindi",
            ("ABDUCTION", "critical", "kasindi"),
        ),
        (
            MAVIVI_FP,
            "Les bandits ont pris deux commercants a Mbau",
            ("ABDUCTION", "critical", "mbau"),
        ),
        # a comma ends the clause of the animals: the wounded after it are people
        (
            MAVIVI_FP,
            "Des bandits ont pille les chevres a Ngadi, 2 blesses",
            ("ATTACK", "critical", "ngadi"),
        ),
        (MAVIVI_FP, "22 vaches emportees et 2 abattues a Kokola", ("LOOTING", "medium", "kokola")),
    ],
)
def test_word_forms_and_objects(
    phone: str,
    text: str,
    expected: tuple[str, str, str | None],
    gazetteer: Gazetteer,
    senders: dict[str, Sender],
) -> None:
    assert summary(text, gazetteer, senders[phone]) == expected


@pytest.mark.parametrize(
    ("text", "past"),
    [
        # read on Monday: the night up to "ce lundi" is the message's own
        ("Deux motards enleves la nuit de dimanche a ce lundi a Kamango", False),
        # the night before it still names an earlier day
        ("Deux motards enleves la nuit de samedi a dimanche a Kamango", True),
    ],
)
def test_a_night_up_to_this_day(
    text: str, past: bool, gazetteer: Gazetteer, senders: dict[str, Sender]
) -> None:
    r = triage_message(text, gazetteer=gazetteer, sender=senders[MAVIVI_FP], received_at=MONDAY)
    assert r.is_past is past, r.reasons


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # the places listed after "fuit vers" are all destinations of the flight
        (
            "Attaque ADF pres de Ngadi: 2 morts, la population fuit vers Mangina-centre et Beni",
            ("ATTACK", "critical", "ngadi"),
        ),
        # where armed men come from is not where they are
        (
            "Des hommes armes venus de Kitshanga signales dans le territoire de Walikale",
            ("ARMED_PRESENCE", "high", "territoire-walikale"),
        ),
    ],
)
def test_places_of_a_list_and_of_an_origin(
    text: str, expected: tuple[str, str, str | None], gazetteer: Gazetteer
) -> None:
    assert summary(text, gazetteer, Sender()) == expected
