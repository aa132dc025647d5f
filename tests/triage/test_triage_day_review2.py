"""Regressions found by the second review of the rules added since 267dc9f (the sixth probe's
gaps): sentences of ours, in the styles of SMS and of reports."""

from __future__ import annotations

import pytest

from app.geo.matcher import Gazetteer
from app.triage.types import Sender
from tests.triage.support import MONDAY, summary

assert (MONDAY.month, MONDAY.day) == (12, 30)  # the months below are read in late December


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # a month without a day starts a period when the message names its own day: the event
        # is today's
        (
            "Since March the ADF have killed 40 people in Oicha, and today 3 more",
            ("ATTACK", "critical"),
        ),
        (
            "Depuis janvier les ADF ont tue 200 civils a Oicha; ce matin encore 5 tues",
            ("ATTACK", "critical"),
        ),
        (
            "Tangu mwezi wa machi ADF wameua watu 50 Oicha, leo wameua wengine 4",
            ("ATTACK", "critical"),
        ),
        # "the worst ... since August" compares, it does not date the event
        ("ADF killed 6 in Oicha, the worst attack since August", ("ATTACK", "critical")),
        ("Pire massacre depuis juin: 20 tues a Oicha", ("ATTACK", "critical")),
        # still past: a month that dates the event
        ("In November 12 people were killed in Oicha", ("ATTACK", "high")),
        ("Since early April armed men have raped 12 women in Kalonge", ("SEXUAL_VIOLENCE", "high")),
    ],
)
def test_a_bare_month_that_does_not_date_the_event(
    text: str, expected: tuple[str, str], gazetteer: Gazetteer
) -> None:
    assert summary(text, gazetteer, Sender())[:2] == expected


MAVIVI_FP = "+243810000101"


@pytest.mark.parametrize(
    ("text", "place"),
    [
        # where the victims had fled to is where they were harmed (Place rule 2 is about people
        # fleeing after the event, not about the people it hit)
        ("ADF attacked displaced people who had taken refuge in Eringeti, 8 killed", "eringeti"),
        ("Les deplaces qui se sont refugies a Eringeti ont ete massacres par les ADF", "eringeti"),
        ("Des deplaces refugies a Eringeti ont ete attaques par les ADF, 4 morts", "eringeti"),
        ("ADF wameshambulia wakimbizi waliokimbilia Eringeti, watu 8 wameuawa", "eringeti"),
        # people who fled there but were not the ones harmed: still not the place
        ("ADF wameua watu 3 Manzati; wakazi waliokimbilia Eringeti wanaomba msaada", "mavivi"),
        (
            "ADF killed 4 in Manzati, residents who fled to Eringeti say the attackers took 3 "
            "children",
            "mavivi",
        ),
    ],
)
def test_where_the_victims_had_fled_to(
    text: str, place: str, gazetteer: Gazetteer, senders: dict[str, Sender]
) -> None:
    assert summary(text, gazetteer, senders[MAVIVI_FP])[2] == place


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # people taken after a release, in a clause of their own: a new abduction
        ("Les ADF ont libere 3 otages, mais ont emporte 2 enfants", ("ABDUCTION", "critical")),
        ("Hostages released, but the militia took 4 more people", ("ABDUCTION", "critical")),
        ("Watu 3 wameachiliwa, lakini ADF wamewateka wengine 5", ("ABDUCTION", "critical")),
        # the release's own story, and goods kept: as before
        ("Les 10 otages ont ete liberes. Ils avaient ete enleves a Oicha", ("OTHER", "low")),
        ("Les 5 otages ont ete liberes, apres avoir ete enleves lundi", ("OTHER", "low")),
        ("Hostages freed, but the militiamen also left with goats", ("LOOTING", "medium")),
    ],
)
def test_people_taken_after_a_release(
    text: str, expected: tuple[str, str], gazetteer: Gazetteer
) -> None:
    assert summary(text, gazetteer, Sender())[:2] == expected
