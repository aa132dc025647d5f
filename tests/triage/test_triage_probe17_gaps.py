"""Rules found missing by probes 15 and 17 (held-out, labelled before the engine ran; each
sentence here is our own, and each the rule is for was wrong before it): "uta tongo" (Lingala:
since this morning) is a time, not the place Tongo; Swahili ultimatums given to "us" ("M23
wametupa masaa 72 tuvunje"), "wilayani X" (in X territory), "mashariki ya X" (east of X)."""

from __future__ import annotations

import pytest

from app.geo.matcher import Gazetteer
from app.triage.types import Sender
from tests.triage.support import summary

CASES = [
    (
        "Kimia ezongi na mboka uta tongo ya lelo, bitumba ya lobi esili",
        ("OTHER", "low", None),
    ),
    ("Depuis tongo ya lelo bato ya mindoki bamonani", ("ARMED_PRESENCE", "high", None)),
    # guards: a place after "uta" / "depuis" with a capital, or a name no common word
    ("Bato ya mindoki bamonani lelo, bauti uta Tongo", ("ARMED_PRESENCE", "high", "tongo")),
    ("Les deplaces arrivent depuis Tongo ce matin", ("DISPLACEMENT", "medium", "tongo")),
    # an ultimatum to "us", and to break down the shelters
    (
        "M23 wametupa masaa 48 tuondoke kambi ya Kanyaruchinya",
        ("THREAT", "medium", "kanyaruchinya"),
    ),
    ("M23 walitupa siku 3 tuvunje vibanda vyetu Kibati", ("THREAT", "medium", "kibati")),
    # "wilayani X": the territoire X
    ("ADF wameua watu 4 kijijini, wilayani Beni", ("ATTACK", "critical", "territoire-beni")),
    # "mashariki ya X": a direction from X, below the place of the event
    ("Mapigano makali Kitshanga mashariki ya Sake leo", ("CLASH", "critical", "kitshanga")),
]


@pytest.mark.parametrize(("text", "expected"), CASES)
def test_probe17_gaps(
    text: str, expected: tuple[str, str, str | None], gazetteer: Gazetteer
) -> None:
    assert summary(text, gazetteer, Sender()) == expected
