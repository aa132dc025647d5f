"""Rules found missing by probes 15 and 17 (held-out, labelled before the engine ran; each
sentence here is our own, and each the rule is for was wrong before it): "uta tongo" (Lingala:
since this morning) is a time, not the place Tongo."""

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
]


@pytest.mark.parametrize(("text", "expected"), CASES)
def test_probe17_gaps(
    text: str, expected: tuple[str, str, str | None], gazetteer: Gazetteer
) -> None:
    assert summary(text, gazetteer, Sender()) == expected
