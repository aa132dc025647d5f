"""The review of this session's rules: a helper wrote 120 messages of its own at their edges,
labelled each from TRIAGE.md first, and compared the engines before (e7f19eb) and after
(269968f) them: 22 fixed, 23 broken. These are the broken ones, each wrong at 269968f and right
again after the mends: a source's place only when its word of saying is its own ("the hospital
in Mangina ..., staff said" is no source); "depuis kilo" is a place ("uta tongo" is a time); a
pluperfect needs a participle ("qui avait cinq enfants"), ends at the next main verb ("... a ete
tue") and is no background when it names today ("avaient tue ... ce matin"); two taxi drivers
who "se sont battus" are no clash; armed men still there, not the army or aid teams; a denial
covers what is told before it; a death toll or a burial today does not make a killing of
Saturday today's."""

from __future__ import annotations

import pytest

from app.geo.matcher import Gazetteer
from app.triage.types import Sender
from tests.triage.support import summary

CASES = [
    (
        "Gunmen stormed the hospital in Mangina this morning, killing two patients, staff said. "
        "The attackers came from the forest near Mamove.",
        ("ATTACK", "critical", "mangina"),
    ),
    (
        "Des ADF ont attaque l hopital general de Oicha cette nuit et tue 3 malades, selon un "
        "infirmier. Ils venaient de Mamove.",
        ("ATTACK", "critical", "oicha"),
    ),
    (
        "Des miliciens venus de Mbau ont incendie la radio de Kamango hier soir, a rapporte un "
        "temoin",
        ("ARSON", "high", "kamango"),
    ),
    (
        "Le secretaire de Kalunguta a ete tue par les ADF cette nuit a son domicile, a declare "
        "un habitant de Beni",
        ("ATTACK", "critical", "kalunguta"),
    ),
    (
        "les deplaces arrivent a bunia depuis kilo, ils fuient les codeco",
        ("DISPLACEMENT", "medium", "kilo"),
    ),
    (
        "Les ADF avaient tue 4 personnes a Mavivi ce matin. La population fuit vers Oicha.",
        ("ATTACK", "critical", "mavivi"),
    ),
    (
        "Wanamgambo walikuwa wameteka watu 5 Pinga leo asubuhi. Wakazi wanakimbia kuelekea Kibua.",
        ("ABDUCTION", "critical", "pinga"),
    ),
    (
        "Gunmen had abducted two nurses in Lolwa this morning. Health workers are fleeing to "
        "Mambasa.",
        ("ABDUCTION", "critical", "lolwa"),
    ),
    (
        "Armed men were seen in Mavivi last night. In Kokola, a farmer who had children at the "
        "school was shot dead this morning.",
        ("ATTACK", "critical", "kokola"),
    ),
    (
        "Un enseignant qui avait cinq enfants a ete tue par les ADF a Kamango ce matin. Hier des "
        "hommes armes ont ete vus a Mamove.",
        ("ATTACK", "critical", "kamango"),
    ),
    (
        "Une fillette qui avait seulement 12 ans a ete violee par des militaires a Minova cette "
        "nuit. Ils ont aussi pille des boutiques au marche.",
        ("SEXUAL_VIOLENCE", "critical", "minova"),
    ),
    (
        "A boy who had just turned 15 was abducted by ADF in Mangina today. The same men also "
        "looted shops.",
        ("ABDUCTION", "critical", "mangina"),
    ),
    (
        "Mama mmoja ambaye alikuwa amebeba mtoto ameuawa na ADF Eringeti leo. Wanamgambo pia "
        "wameiba mbuzi.",
        ("ATTACK", "critical", "eringeti"),
    ),
    (
        "Le chef de village, qui avait recu des menaces, a ete enleve a Mutanda ce matin. Les "
        "miliciens ont aussi vole des chevres.",
        ("ABDUCTION", "critical", "mutanda"),
    ),
    (
        "Deux taximen se sont battus au marche de Beni ce matin pour un client, la police les a "
        "separes",
        ("OTHER", "low", "beni"),
    ),
    ("Les FARDC ne sont pas partis de Kamango, calme ce matin", ("OTHER", "low", "kamango")),
    (
        "Les M23 ont quitte Kibati hier soir et le calme est revenu. Les equipes de MSF sont "
        "toujours la.",
        ("OTHER", "low", "kibati"),
    ),
    (
        "M23 withdrew from Kiwanja yesterday and calm has returned; aid convoys are still there.",
        ("OTHER", "low", "kiwanja"),
    ),
    (
        "Mai-Mai leaders say accusations are baseless after 4 women were raped in Shabunda "
        "yesterday",
        ("SEXUAL_VIOLENCE", "high", "shabunda"),
    ),
    (
        "Des habitants de Mavivi disent que les infos de l armee sont fausses et que 9 civils "
        "ont ete tues ce matin",
        ("ATTACK", "critical", "mavivi"),
    ),
    (
        "ADF killed 6 civilians in Mangina on Saturday 28 December. On Monday 30 December the "
        "death toll rose to 9.",
        ("ATTACK", "high", "mangina"),
    ),
    (
        "Les ADF ont tue 7 personnes a Eringeti samedi 28 decembre. Ce lundi 30 decembre, les "
        "corps des victimes ont ete enterres.",
        ("ATTACK", "high", "eringeti"),
    ),
]


@pytest.mark.parametrize(("text", "expected"), CASES)
def test_the_review_of_the_session(
    text: str, expected: tuple[str, str, str | None], gazetteer: Gazetteer
) -> None:
    assert summary(text, gazetteer, Sender()) == expected
