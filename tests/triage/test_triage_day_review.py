"""Regressions found by reviewing the day's triage rules with adversarial sentences of our
own (French, Swahili, English; SMS and report style): each case is a message the day's
rules read wrong by TRIAGE.md."""

from __future__ import annotations

import pytest

from app.geo.matcher import Gazetteer
from app.triage.types import Sender
from tests.triage.support import summary


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # A forced tax or a barrier is no announcement: people killed right after the word
        # were killed (the English "tax", "levy", "checkpoint" made them a THREAT).
        ("Tax collectors killed by ADF in Kamango", ("ATTACK", "critical", "kamango")),
        (
            "A trader who refused to pay the levy was shot dead in Kiwanja",
            ("ATTACK", "critical", "kiwanja"),
        ),
        (
            "At an illegal checkpoint militiamen killed a driver near Kiwanja",
            ("ATTACK", "critical", "kiwanja"),
        ),
        ("3 percepteurs de taxes tues par les ADF a Kamango", ("ATTACK", "critical", "kamango")),
        (
            "Kwenye kizuizi Kiwanja wanamgambo wamemuua dereva",
            ("ATTACK", "critical", "kiwanja"),
        ),
        # still a threat: a killing announced by a threat word
        (
            "Menaces de mort contre le chef de Kiwanja, les miliciens exigent une taxe",
            ("THREAT", "medium", "kiwanja"),
        ),
        # An explosion by itself names no weapon (a fuel depot, a tanker): with no one hurt
        # and no fighting it is no attack; with victims or a bomb named it is one.
        (
            "Explosion at a fuel depot in Goma, no casualties",
            ("OTHER", "low", "goma"),
        ),
        ("Explosion d un camion citerne a Goma, pas de victimes", ("OTHER", "low", "goma")),
        ("Explosion entendue pres de Goma ce matin", ("OTHER", "low", "goma")),
        ("Explosion au marche de Beni, 3 blesses", ("ATTACK", "critical", "beni")),
        ("Explosion d une bombe au marche de Beni", ("ATTACK", "critical", "beni")),
        ("Mlipuko sokoni Beni, watu 2 wamejeruhiwa", ("ATTACK", "critical", "beni")),
        # Where people flee to is not where another event is, unless it is said to happen
        # there ("where", "ou", "ambako" right after the name)
        (
            "Displaced people fled to Oicha where ADF attacked them, 4 killed",
            ("ATTACK", "critical", "oicha"),
        ),
        (
            "Les deplaces ont fui vers Oicha ou les ADF les ont attaques, 4 tues",
            ("ATTACK", "critical", "oicha"),
        ),
        (
            "Wakimbizi walikimbia kuelekea Oicha ambako ADF waliwashambulia, watu 4 wameuawa",
            ("ATTACK", "critical", "oicha"),
        ),
        (
            "Apres l attaque les gens ont fui vers Oicha ou Beni, 3 tues",
            ("ATTACK", "critical", None),
        ),
        # A bare "victimes" beside a kidnapping is the kidnapping's: the verb must say they
        # were killed, in its feminine forms too
        (
            "Les ADF ont enleve 5 femmes a Mamove, les victimes ont ete decapitees",
            ("ATTACK", "critical", "mamove"),
        ),
        (
            "Les ADF ont enleve 5 femmes a Mamove, les victimes ont ete executees",
            ("ATTACK", "critical", "mamove"),
        ),
        ("Deux femmes poignardees a Oicha", ("ATTACK", "critical", "oicha")),
        # A threat word reaches only its own clause: a killing after it happened
        ("Warning: ADF killed 4 people in Mavivi last night", ("ATTACK", "high", "mavivi")),
        (
            "Ultimatum expire, les ADF ont tue 3 personnes a Mavivi",
            ("ATTACK", "critical", "mavivi"),
        ),
        ("Menace d attaque sur Oicha", ("THREAT", "medium", "oicha")),
        # French "ouvert le feu" is gunfire, at a crowd an attack
        ("Les militaires ont ouvert le feu sur la foule a Goma", ("ATTACK", "critical", "goma")),
    ],
)
def test_day_review(text: str, expected: tuple[str, str, str | None], gazetteer: Gazetteer) -> None:
    assert summary(text, gazetteer, Sender()) == expected
