"""Gaps probes 14 and 15 found (real reports, measured once at 192871d and 3156216): the sentences
are ours."""

from __future__ import annotations

import pytest

from app.geo.matcher import Gazetteer
from app.triage.types import Sender
from tests.triage.support import summary


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # hit by a bullet is hurt (rprobe14_028 was a LOOTING, medium)
        (
            "Bandits ont pille deux kiosques a Uvira ce soir, un commercant touche par balle",
            ("ATTACK", "critical", "uvira"),
        ),
        ("Une femme atteinte par balle a Kiwanja ce matin", ("ATTACK", "critical", "kiwanja")),
        # after a lull, what follows goes on (rprobe14_042 was OTHER, low)
        (
            "After a short lull, fighting resumed at Kitshanga this morning",
            ("CLASH", "critical", "kitshanga"),
        ),
        (
            "Mapigano yameanza tena Kitshanga baada ya utulivu mfupi",
            ("CLASH", "critical", "kitshanga"),
        ),
        ("Apres les combats, le calme est revenu a Kitshanga", ("OTHER", "low", "kitshanga")),
        # a typo match outside the territoire the text names is not the place (rprobe13_022,
        # rprobe15_006); inside it, it is
        (
            "Plus de 30 maisons incendiees cette nuit a Kishaje, groupement de Muhungu, "
            "territoire d Uvira",
            ("ARSON", "high", "territoire-uvira"),
        ),
        (
            "Attaque des miliciens cette nuit a Mulungo, territoire de Shabunda",
            ("ATTACK", "critical", "mulungu"),
        ),
        # a dateline with its date after a comma (rprobe14_041)
        (
            "Lubero, Julai 24: ADF wameua watu 5 katika kijiji cha Kasiki, wilaya ya Lubero",
            ("ATTACK", "critical", "territoire-lubero"),
        ),
    ],
)
def test_probe_14_gaps(
    text: str, expected: tuple[str, str, str | None], gazetteer: Gazetteer
) -> None:
    assert summary(text, gazetteer, Sender()) == expected
