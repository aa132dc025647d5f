"""General gaps found by reading the misses of the seventh held-out probe (tests/data/
triage_real_probe7.jsonl, docs/TRIAGE_QUALITY.md "A seventh held-out probe"): armed men
feared rather than seen, English words for the wounded being treated elsewhere, hostages of an
ambush released, "have advanced", Swahili "forcing to pay", where attackers went back to,
Lingala "teritware", and what "neutralised" is said of. The sentences are ours, none is a
probe text."""

from __future__ import annotations

import pytest

from app.geo.matcher import Gazetteer
from app.triage.types import Sender
from tests.triage.support import summary


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # an incursion feared is no sighting: the flight is the event
        (
            "Les habitants de Kamango fuient par peur d une incursion des ADF",
            ("DISPLACEMENT", "medium", "kamango"),
        ),
        ("Panique: ADF signales a Mavivi", ("ARMED_PRESENCE", "high", "mavivi")),
        # where the wounded were treated is not where they were shot
        (
            "Three people were shot dead near Oicha; two wounded were taken for treatment in Beni",
            ("ATTACK", "critical", "oicha"),
        ),
        # hostages of an ambush released: the threat has ended
        (
            "Three aid workers kidnapped near Mweso after gunmen ambushed their car have been "
            "released",
            ("OTHER", "low", "mweso"),
        ),
        ("M23 rebels have advanced towards Kitshanga", ("ARMED_PRESENCE", "high", "kitshanga")),
        (
            "Mai-Mai wanalazimisha wakulima wa Kamango kulipa 1000 FC kila mwezi",
            ("THREAT", "medium", "kamango"),
        ),
        # where the attackers went back to is not where they killed
        (
            "Mai-Mai wameua watu 3 huko Kasave, eneo la Rutshuru, kisha wamerudi Nyanzale",
            ("ATTACK", "critical", "territoire-rutshuru"),
        ),
        ("Ba ADF babomi bato 3 na teritware ya Beni", ("ATTACK", "critical", "territoire-beni")),
        # "neutralised" fighters are a fight, a bomb made safe is none
        ("Les FARDC ont neutralise un engin explosif a Beni", ("OTHER", "low", "beni")),
        ("Les FARDC ont neutralise 5 miliciens a Mavivi", ("CLASH", "critical", "mavivi")),
        ("Twelve militiamen neutralised by the army at Mavivi", ("CLASH", "critical", "mavivi")),
        ("12 miliciens ont ete neutralises a Mavivi", ("CLASH", "critical", "mavivi")),
    ],
)
def test_probe7_gaps(
    text: str, expected: tuple[str, str, str | None], gazetteer: Gazetteer
) -> None:
    """From an unknown number: the place is the text's alone."""
    assert summary(text, gazetteer, Sender()) == expected
