"""General gaps found by reading the misses of the tenth held-out probe (tests/data/
triage_real_probe10.jsonl, docs/TRIAGE_QUALITY.md "A tenth held-out probe"). The sentences are
ours, none is a probe text."""

from __future__ import annotations

import pytest

from app.geo.matcher import Gazetteer
from app.triage.types import Sender
from tests.triage.support import summary


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # what a verb takes ends with its sentence: goats taken, then people who slept out
        (
            "Incursion a Kiwanja, 2 maisons incendiees et des chevres emportees. Les gens ont "
            "dormi en brousse",
            ("ARSON", "high", "kiwanja"),
        ),
        # armed men pushed back by the army: a fight ("les ont repousses"), not only gone
        (
            "Les ADF voulaient atteindre l hopital de Lolwa mais les FARDC les ont repousses",
            ("CLASH", "critical", "lolwa"),
        ),
        ("Les ADF ont ete repousses de Lolwa ce matin", ("OTHER", "low", "lolwa")),
        # a name after a religious title is a person's, not a place
        (
            "Deux factions Mai-Mai, celle du cheikh Kabala et celle d Imani, s affrontent",
            ("CLASH", "critical", None),
        ),
        # Swahili "kuondoka na" (and left with) takes what follows
        (
            "Watu wenye silaha wameingia hospitali ya Kiwanja na kuondoka na wafanyakazi wanne",
            ("ABDUCTION", "critical", "kiwanja"),
        ),
        # a day of a background event in another sentence does not make today's past
        (
            "Kiwanja: un garcon enleve ce soir par des hommes armes. La femme enlevee samedi a "
            "ete retrouvee morte aujourd hui",
            ("ATTACK", "critical", "kiwanja"),
        ),
        ("Les ADF ont attaque Mavivi samedi", ("ATTACK", "high", "mavivi")),
        # a passive taking by armed men: what was named before it was taken
        (
            "Kiwanja: 2 girls of the same family, 4 n 16 yrs old, taken from their home by armed "
            "bandits tonight",
            ("ABDUCTION", "critical", "kiwanja"),
        ),
        (
            "Three cows taken from the farm by armed men in Kiwanja",
            ("LOOTING", "medium", "kiwanja"),
        ),
        (
            "Le chef de milice a ete arrete samedi par les FARDC a Kiwanja",
            ("OTHER", "low", "kiwanja"),
        ),
        # a release told as a week earlier ends an earlier captivity, not today's
        (
            "Deux chauffeurs ont ete enleves a Kiwanja ce matin. Une semaine plus tot, un "
            "commercant enleve a Rutshuru avait ete relache",
            ("ABDUCTION", "critical", "kiwanja"),
        ),
        (
            "Three aid workers were abducted in Kiwanja last week. Earlier today they were "
            "released",
            ("OTHER", "low", "kiwanja"),
        ),
        # armed men taking over a place are there
        ("M23 took over Kiwanja", ("ARMED_PRESENCE", "high", "kiwanja")),
    ],
)
def test_probe10_gaps(
    text: str, expected: tuple[str, str, str | None], gazetteer: Gazetteer
) -> None:
    """From an unknown number: the place is the text's alone."""
    assert summary(text, gazetteer, Sender()) == expected
