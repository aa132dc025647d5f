"""Gaps probes 11 and 12 found (real North Kivu, Ituri and South Kivu reports, measured once
before these rules): the sentences are ours."""

from __future__ import annotations

import pytest

from app.geo.matcher import Gazetteer
from app.triage.types import Sender
from tests.triage.support import summary


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # people leaving are no armed men gone: the fight stays (rprobe11_027 was LOOTING)
        (
            "Fighting is under way in Pinga between two militia wings. Many residents have "
            "left the town and sleep in the bush",
            ("CLASH", "critical", "pinga"),
        ),
        (
            "Tirs nourris a Kitshanga ce matin, les habitants sont partis vers Mweso",
            ("CLASH", "critical", "kitshanga"),
        ),
        (
            "Mapigano Kitshanga asubuhi hii, wananchi wameondoka kuelekea Mweso",
            ("CLASH", "critical", "kitshanga"),
        ),
        # armed men gone still end it
        ("Les M23 sont partis de Kiwanja ce matin", ("OTHER", "low", "kiwanja")),
        ("The ADF have left Mavivi, calm is back", ("OTHER", "low", "mavivi")),
        # a release asked for is no release: those it names are still held (rprobe12_027)
        (
            "Bunia: une centaine de CODECO armes entres en ville a l aube, ils exigent la "
            "liberation de leurs camarades",
            ("ARMED_PRESENCE", "high", "bunia"),
        ),
        (
            "Les familles des 6 otages enleves a Oicha reclament leur liberation",
            ("ABDUCTION", "critical", "oicha"),
        ),
        (
            "Families of the 4 traders kidnapped near Kiwanja call for them to be freed",
            ("ABDUCTION", "critical", "kiwanja"),
        ),
        (
            "Ndugu za mateka 3 wa Mavivi wanaomba waachiliwe huru",
            ("ABDUCTION", "critical", "mavivi"),
        ),
        # a release given still ends it
        ("Les 6 otages enleves a Oicha ont ete liberes hier", ("OTHER", "low", "oicha")),
        (
            "The 4 traders kidnapped near Kiwanja were freed after the families paid",
            ("OTHER", "low", "kiwanja"),
        ),
    ],
)
def test_probe_11_and_12_gaps(
    text: str, expected: tuple[str, str, str | None], gazetteer: Gazetteer
) -> None:
    assert summary(text, gazetteer, Sender()) == expected
