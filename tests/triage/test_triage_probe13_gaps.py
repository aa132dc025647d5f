"""Gaps probe 13 found (real reports from North Kivu, Ituri, South Kivu, Tanganyika, Maniema and
the Uele, measured once at 45aca5c): the sentences are ours."""

from __future__ import annotations

import pytest

from app.geo.matcher import Gazetteer
from app.triage.types import Sender
from tests.triage.support import summary


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # people going home: the flight told with it is over (rprobe13_023, _044, _008)
        (
            "Plus de 500 familles ont regagne Kiwanja cette semaine, elles avaient fui en janvier",
            ("OTHER", "low", "kiwanja"),
        ),
        (
            "About 3,000 people have returned to Mavivi; they had fled in March",
            ("OTHER", "low", "mavivi"),
        ),
        ("Wakimbizi wanarudi Kiwanja leo", ("OTHER", "low", "kiwanja")),
        # armed men back are there (rprobe13_040); a return ends no attack
        ("Les ADF sont de retour a Mavivi ce matin", ("ARMED_PRESENCE", "high", "mavivi")),
        (
            "Kamanda wa kivita amerudi Kiwanja leo, watu wanahama",
            ("ARMED_PRESENCE", "high", "kiwanja"),
        ),
        ("ADF wameua watu 2 Mavivi leo, wakimbizi wanarudi", ("ATTACK", "critical", "mavivi")),
        # the nearest subject decides, and armed men after a noun of return are its subject
        (
            "Retour des ADF a Mavivi ce matin, la population fuit",
            ("ARMED_PRESENCE", "high", "mavivi"),
        ),
        ("Watu wanakimbia Mavivi, ADF wamerudi", ("ARMED_PRESENCE", "high", "mavivi")),
        (
            "Les M23 sont revenus a Kiwanja, la population fuit vers Rutshuru",
            ("ARMED_PRESENCE", "high", "kiwanja"),
        ),
        ("Les habitants sont revenus a Kiwanja", ("OTHER", "low", "kiwanja")),
        # idioms: a "dead city" is a strike (rprobe13_036), "crime de guerre" no fight (_018),
        # deaths feared "avant qu il y ait des morts" have not happened (_004), Lingala
        # "ekangami" (closed) is said of things, not people (_021)
        ("Kiwanja: dead city today, shops closed", ("OTHER", "low", "kiwanja")),
        (
            "Un crime de guerre selon la societe civile: l ecole de Kiwanja incendiee par des "
            "miliciens",
            ("ARSON", "high", "kiwanja"),
        ),
        (
            "Le chef demande d intervenir avant qu il y ait des morts a Kiwanja",
            ("THREAT", "medium", "kiwanja"),
        ),
        ("Ba ecole ekangami na Kiwanja", ("OTHER", "low", "kiwanja")),
        # a release of some ends nothing (rprobe13_037, _042); "one of them called me" is no part
        (
            "Les ADF ont enleve 20 personnes a Mavivi, au moins cinq ont ete liberees",
            ("ABDUCTION", "critical", "mavivi"),
        ),
        (
            "Gunmen abducted 6 traders near Kiwanja yesterday; two women were later released",
            ("ABDUCTION", "high", "kiwanja"),
        ),
        (
            "The 14 staff kidnapped yesterday in Kiwanja have been freed, one of them called me",
            ("OTHER", "low", "kiwanja"),
        ),
        # heavily armed men are armed men, not heavy-weapons fire (rprobe13_019)
        (
            "Wanamgambo wenye silaha nzito wameingia Kiwanja usiku",
            ("ARMED_PRESENCE", "high", "kiwanja"),
        ),
        ("Milio ya silaha nzito inasikika Kiwanja", ("CLASH", "critical", "kiwanja")),
    ],
)
def test_probe_13_gaps(
    text: str, expected: tuple[str, str, str | None], gazetteer: Gazetteer
) -> None:
    assert summary(text, gazetteer, Sender()) == expected
