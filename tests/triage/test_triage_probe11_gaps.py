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
        # villages emptied, people sleeping away from home (rprobe11_036, _037)
        (
            "Sud Lubero: Alimbongo et Katondi desertes depuis ce matin, par peur du M23",
            ("DISPLACEMENT", "medium", "alimbongo"),
        ),
        (
            "Villages fantomes autour de Kiwanja, tout le monde est parti",
            ("DISPLACEMENT", "medium", "kiwanja"),
        ),
        (
            "Families of Mavivi now spend their nights inside the FARDC camp for fear of the ADF",
            ("DISPLACEMENT", "medium", "mavivi"),
        ),
        # seeking refuge is a flight; where they seek it, its destination
        (
            "Les habitants de Kiwanja cherchent refuge a Rutshuru depuis ce matin",
            ("DISPLACEMENT", "medium", "kiwanja"),
        ),
        # a deadline given to leave: an ultimatum (rprobe12_002); a clock time is none
        (
            "Minembwe: ce lundi le general a donne 72h aux Twirwaneho pour quitter Minembwe",
            ("THREAT", "medium", "minembwe"),
        ),
        ("M23 gave the residents of Kiwanja 48 hours to leave", ("THREAT", "medium", "kiwanja")),
        ("M23 wamewapa wakazi wa Kiwanja masaa 48 kuondoka", ("THREAT", "medium", "kiwanja")),
        ("Reunion a 10h pour quitter ensemble Kiwanja", ("OTHER", "low", "kiwanja")),
        # made to pay; a token's name is no calm (rprobe12_043); "lala salama" is good night
        (
            "At Kalehe the Wazalendo commander makes every resident pay 3000 FC for a Lala "
            "Salama token",
            ("THREAT", "medium", "kalehe"),
        ),
        ("ADF wameonekana Mavivi jioni hii. Lala salama", ("ARMED_PRESENCE", "high", "mavivi")),
        # afraid to move about is no flight: the tax stays the event
        (
            "Wazalendo make every resident of Kiwanja pay 2000 FC, people afraid to move around",
            ("THREAT", "medium", "kiwanja"),
        ),
        # armed men still there (rprobe11_035)
        ("Kibumba M23 bado wako nasi, hawajaondoka", ("ARMED_PRESENCE", "high", "kibumba")),
        # a town taken by armed men: a place seized (rprobe12_023)
        ("M23 took the town of Sake yesterday", ("ARMED_PRESENCE", "high", "sake")),
        ("Les M23 ont pris la cite de Sake hier", ("ARMED_PRESENCE", "high", "sake")),
        (
            "Uvira: M23 fighters went through the streets today, two days after taking the city",
            ("ARMED_PRESENCE", "high", "uvira"),
        ),
        # taking part, taking place, people who took their own: no one abducted
        ("Villagers took part in the peace meeting at Kiwanja", ("OTHER", "low", "kiwanja")),
        ("Women took their children to Kiwanja hospital", ("OTHER", "low", "kiwanja")),
        ("Unknown men took two girls at Kiwanja", ("ABDUCTION", "critical", "kiwanja")),
        ("Bato ya ADF bakamati moto moko na Mutwanga", ("ABDUCTION", "critical", "mutwanga")),
        # a place inside an area's hyphenated name is the area's (rprobe12_032)
        (
            "Bwanga, Banyali-Kilo sector, Djugu terr: CODECO attacked the miners this morning, "
            "5 dead",
            ("ATTACK", "critical", "territoire-djugu"),
        ),
        ("Attaque ADF a Beni-Mbau ce matin", ("ATTACK", "critical", "secteur-beni-mbau")),
        # "la direction de X": where the displaced go, not where the fight is
        (
            "Masisi : combats ce matin entre deux groupes armes, les deplaces prennent la "
            "direction de Kalehe",
            ("CLASH", "critical", "masisi"),
        ),
    ],
)
def test_probe_11_and_12_gaps(
    text: str, expected: tuple[str, str, str | None], gazetteer: Gazetteer
) -> None:
    assert summary(text, gazetteer, Sender()) == expected
