"""General gaps found by running triage over published incident notes (the ACLED file of
the rubric's data, English news style: docs/TRIAGE_QUALITY.md "Published notes"): a body
that is a group of people, lynchings, beatings and torture, fatalities, death threats,
armed men dislodged, a release that is only in doubt, a negation read across a comma; and,
found by writing news-style sentences of the same kind, grenades and explosive devices, a
body found with words between, shooting at a crowd, illegal checkpoints. The sentences are
ours."""

from __future__ import annotations

import pytest

from app.geo.matcher import Gazetteer
from app.triage.types import Sender
from tests.triage.support import summary


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # a body: a group of people, unless it is said to be a dead one
        ("The teaching body of the institute in Bunia went on strike", ("OTHER", "low", "bunia")),
        (
            "A leader of the Body of Christ sect was arrested in Butembo",
            ("OTHER", "low", "butembo"),
        ),
        ("The body of a woman was found near Oicha this morning", ("ATTACK", "critical", "oicha")),
        ("A dead body lies on the road at Mavivi", ("ATTACK", "critical", "mavivi")),
        # people lynched, beaten or tortured are hurt
        ("A suspected thief was lynched by a crowd in Beni", ("ATTACK", "critical", "beni")),
        ("Un motard lynche par la foule a Oicha", ("ATTACK", "critical", "oicha")),
        ("Militiamen beat up three farmers near Mutwanga", ("ATTACK", "critical", "mutwanga")),
        ("Les militaires ont tabasse 2 commercants a Kasindi", ("ATTACK", "critical", "kasindi")),
        ("Wanamgambo wamewatesa wavuvi 3 huko Kamango", ("ATTACK", "critical", "kamango")),
        # fatalities are deaths
        (
            "Gunmen set 12 homes on fire in Moba, fatalities reported",
            ("ATTACK", "critical", "moba"),
        ),
        # a negation does not reach across a comma
        ("No deaths, militiamen burned 12 homes in Moba", ("ARSON", "high", "moba")),
        # death threats are threats
        ("The chief of Mavivi received death threats from ADF", ("THREAT", "medium", "mavivi")),
        ("Mwalimu wa Oicha amepokea vitisho vya kifo", ("THREAT", "medium", "oicha")),
        # armed men driven out of a place by others: a fight
        ("The army dislodged the rebels from Kibumba today", ("CLASH", "critical", "kibumba")),
        (
            "Les FARDC ont deloge les miliciens de Kibumba ce matin",
            ("CLASH", "critical", "kibumba"),
        ),
        # a body found, with words between ("le corps d'un taximan a ete retrouve")
        (
            "Le corps d un enseignant a ete retrouve pres de Mavivi",
            ("ATTACK", "critical", "mavivi"),
        ),
        # grenades and explosive devices are bombs; "injuring", "blessant" are harm
        ("A grenade went off at the market in Goma, injuring 3", ("ATTACK", "critical", "goma")),
        ("Une grenade a explose devant une eglise a Butembo", ("ATTACK", "critical", "butembo")),
        (
            "An explosive device blew up near Beni stadium, no casualties",
            ("ATTACK", "critical", "beni"),
        ),
        ("Guruneti imelipuka karibu na soko la Oicha", ("ATTACK", "critical", "oicha")),
        # shooting at a crowd is shooting at people
        ("Soldiers opened fire on the crowd in Goma", ("ATTACK", "critical", "goma")),
        (
            "Les policiers ont tire sur les manifestants a Butembo, blessant 4",
            ("ATTACK", "critical", "butembo"),
        ),
        # a shooting is gunfire: at people an attack, else a fight
        (
            "Heavy shooting heard near Kasindi this morning, no casualties",
            ("CLASH", "critical", "kasindi"),
        ),
        ("Gunmen opened fire on farmers at Mavivi", ("ATTACK", "critical", "mavivi")),
        # illegal checkpoints are forced taxes
        (
            "Militiamen set up illegal checkpoints at Kasindi and demand money",
            ("THREAT", "medium", "kasindi"),
        ),
        # a release only in doubt ends nothing
        (
            "Two traders kidnapped by gunmen at Kasindi, unclear whether they were released",
            ("ABDUCTION", "critical", "kasindi"),
        ),
    ],
)
def test_published_style_gaps(
    text: str,
    expected: tuple[str, str, str | None],
    gazetteer: Gazetteer,
) -> None:
    """From an unknown number: the place is the text's alone."""
    assert summary(text, gazetteer, Sender()) == expected
