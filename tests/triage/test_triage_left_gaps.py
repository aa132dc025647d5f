"""Gaps the earlier notes left open, mended on 7 December (evening): the sentences are ours."""

from __future__ import annotations

import pytest

from app.geo.matcher import Gazetteer
from app.triage.types import Sender
from tests.triage.support import summary


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # a kill word's object is its victim, even after an animal taken or named before it
        (
            "Gunmen driving off cattle killed 2 herders near Kiwanja this morning",
            ("ATTACK", "critical", "kiwanja"),
        ),
        ("Bandits who took cows killed three people at Kiwanja", ("ATTACK", "critical", "kiwanja")),
        (
            "Armed men stealing goats shot dead a farmer in Kiwanja today",
            ("ATTACK", "critical", "kiwanja"),
        ),
        (
            "M23 fighters looted cattle and killed the owner at Kiwanja",
            ("ATTACK", "critical", "kiwanja"),
        ),
        # people in the list of what was killed
        (
            "Cattle rustlers killed 4 cows and 2 herders near Kiwanja",
            ("ATTACK", "critical", "kiwanja"),
        ),
        (
            "Wanamgambo wameiba ng'ombe na kumuua mfugaji Kiwanja leo",
            ("ATTACK", "critical", "kiwanja"),
        ),
        # animals killed stay a looting: their owners named after them, the doers of a passive
        (
            "Militiamen killed two cows belonging to villagers at Kiwanja",
            ("LOOTING", "medium", "kiwanja"),
        ),
        ("Two cows were killed by herders at Kiwanja", ("LOOTING", "medium", "kiwanja")),
        ("Deux vaches tuees par des eleveurs a Kiwanja", ("LOOTING", "medium", "kiwanja")),
        (
            "Les miliciens ont tue 5 vaches et emporte 10 chevres a Kiwanja",
            ("LOOTING", "medium", "kiwanja"),
        ),
        # armed men who took a name: a place seized, or a person when people are listed with it
        ("Les M23 ont pris Rubaya hier", ("ARMED_PRESENCE", "high", "rubaya")),
        ("M23 wamechukua Rubaya", ("ARMED_PRESENCE", "high", "rubaya")),
        ("Les ADF ont pris Kambale et sa femme a Mavivi", ("ABDUCTION", "critical", "mavivi")),
        ("Les ADF ont pris la fuite a Mavivi", ("DISPLACEMENT", "medium", "mavivi")),
        # fear of what is dated as heard or going on: it happened
        (
            "People are afraid of the gunshots heard since this morning in Kiwanja",
            ("CLASH", "critical", "kiwanja"),
        ),
        ("People fear an attack on Kiwanja tonight", ("THREAT", "medium", "kiwanja")),
        # a rumour a few words before the attack it names (TRIAGE.md: "rumeurs d'attaque")
        (
            "Rumours of an ADF attack on Mavivi, people fleeing",
            ("DISPLACEMENT", "medium", "mavivi"),
        ),
        # announced as done ("annoncent avoir tue", "claim to have killed"): it happened
        ("Les FARDC annoncent avoir tue 5 ADF a Mavivi", ("ATTACK", "critical", "mavivi")),
        ("M23 claim to have killed 10 soldiers at Kiwanja", ("ATTACK", "critical", "kiwanja")),
        ("Les ADF annoncent une attaque sur Mavivi", ("THREAT", "medium", "mavivi")),
    ],
)
def test_left_gaps(text: str, expected: tuple[str, str, str | None], gazetteer: Gazetteer) -> None:
    """From an unknown number: the place is the text's alone."""
    assert summary(text, gazetteer, Sender()) == expected
