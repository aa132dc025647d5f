"""General gaps found by reading the misses of the eighth held-out probe (tests/data/
triage_real_probe8.jsonl, docs/TRIAGE_QUALITY.md "An eighth held-out probe"): a typo match in
another province than the places named, displaced people heading somewhere, a cattle raid told
in English, armed men who "walked into" a place, former hostages, and a territoire named
after a village. The sentences are ours,
none is a probe text."""

from __future__ import annotations

import pytest

from app.geo.matcher import Gazetteer
from app.triage.types import Sender
from tests.triage.support import summary


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # a typo match in another province than the territoire named is not the place
        (
            "Combats ce matin a Kalembe (territoire de Walikale)",
            ("CLASH", "critical", "territoire-walikale"),
        ),
        ("Attaque a Oisha, les blesses transferes a Butembo", ("ATTACK", "critical", "oicha")),
        # displaced people heading somewhere are people moving, not armed men
        (
            "Les deplaces de Kamango se dirigent vers Oicha",
            ("DISPLACEMENT", "medium", "kamango"),
        ),
        ("Les ADF se dirigent vers Oicha", ("ARMED_PRESENCE", "high", "oicha")),
        # a raid that drove cattle off is a looting
        (
            "Gunmen raided a farm at Kamango overnight, driving off 58 cows",
            ("LOOTING", "medium", "kamango"),
        ),
        (
            "M23 fighters walked into Nyamilima this morning",
            ("ARMED_PRESENCE", "high", "nyamilima"),
        ),
        # "X, Masisi" / "X (Masisi)": the territoire says where X is; X is the place
        (
            "Watu 70 wamekimbia kutoka vijiji vya Miandja na Nyabyondo, Masisi",
            ("DISPLACEMENT", "medium", "nyabiondo"),
        ),
        ("Attaque a Mavivi (Beni) ce matin", ("ATTACK", "critical", "mavivi")),
        # former hostages handed over: the captivity has ended
        ("The army handed over 40 former hostages of the ADF in Beni", ("OTHER", "low", "beni")),
    ],
)
def test_probe8_gaps(
    text: str, expected: tuple[str, str, str | None], gazetteer: Gazetteer
) -> None:
    """From an unknown number: the place is the text's alone."""
    assert summary(text, gazetteer, Sender()) == expected
