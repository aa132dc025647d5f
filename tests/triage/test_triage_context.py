"""Issue 13: the sentences that triage got wrong on real reports, named days and dates against
the received time, numbers in words, administrative areas, and names that are not places."""

from __future__ import annotations

from datetime import datetime

import pytest

from app.geo.matcher import Gazetteer
from app.triage.engine import triage_message
from app.triage.types import Sender
from tests.triage.support import MONDAY, summary

MAVIVI_FP = "+243810000101"  # home mavivi (Beni)
RUTSHURU_FP = "+243810000107"
UVIRA_FP = "+243810000114"


def triage(text: str, gazetteer: Gazetteer, sender: Sender, when: datetime = MONDAY):
    return triage_message(text, gazetteer=gazetteer, sender=sender, received_at=when)


@pytest.mark.parametrize(
    ("phone", "text", "expected"),
    [
        # "santé" is a word, not Sange 400 km away: the alert stays at the reporter's home
        (
            MAVIVI_FP,
            "Les ADF ont attaqué le centre de santé cette nuit",
            ("ATTACK", "critical", "mavivi"),
        ),
        # a territoire is a place
        (
            MAVIVI_FP,
            "Viol d'une femme a Nyiragongo cette nuit",
            ("SEXUAL_VIOLENCE", "critical", "territoire-nyiragongo"),
        ),
        # a general strike is no attack, "morte" notwithstanding
        (MAVIVI_FP, "Ville morte a Beni ce lundi, tout est ferme", ("OTHER", "low", "beni")),
        (MAVIVI_FP, "Journee ville morte decretee a Butembo", ("OTHER", "low", "butembo")),
        # cattle killed are property, not people
        (
            UVIRA_FP,
            "Des hommes armes ont abattu 5 vaches et emporte 12 autres pres d'Uvira",
            ("LOOTING", "medium", "uvira"),
        ),
        (
            UVIRA_FP,
            "Mai-Mai wamepora ng'ombe 22 na kuua wengine wawili",
            ("LOOTING", "medium", "uvira"),
        ),
        # death threats are threats
        (
            MAVIVI_FP,
            "Le chef de quartier a recu des menaces de mort des ADF",
            ("THREAT", "medium", "mavivi"),
        ),
        # a named past day and date
        (
            MAVIVI_FP,
            "Les CODECO ont attaque Drodro dimanche 29 decembre, 3 morts",
            ("ATTACK", "high", "drodro"),
        ),
        # people moving are displaced
        (
            RUTSHURU_FP,
            "les gens se deplacent vers Rutshuru centre",
            ("DISPLACEMENT", "medium", "rutshuru"),
        ),
        # reflexive and imperfect forms, passives
        (
            MAVIVI_FP,
            "Les Nyatura et les APCLS se sont affrontes ce matin a Kitshanga",
            ("CLASH", "critical", "kitshanga"),
        ),
        (
            MAVIVI_FP,
            "Les assaillants incendiaient les maisons a Mbau",
            ("ARSON", "high", "mbau"),
        ),
        (
            MAVIVI_FP,
            "Des militaires violent les femmes a Oicha",
            ("SEXUAL_VIOLENCE", "critical", "oicha"),
        ),
        (MAVIVI_FP, "Six hommes ont ete enleves a Kamango", ("ABDUCTION", "critical", "kamango")),
        # English news verbs and their tenses
        (
            MAVIVI_FP,
            "M23 rebels seized the border town of Bunagana",
            ("ARMED_PRESENCE", "high", "bunagana"),
        ),
        (
            MAVIVI_FP,
            "ADF militants stormed a village and hacked fifteen people to death",
            ("ATTACK", "critical", "mavivi"),
        ),
        (
            MAVIVI_FP,
            "Rebels overran army positions around Kiwanja",
            ("CLASH", "critical", "kiwanja"),
        ),
        (
            MAVIVI_FP,
            "Minova: M23 rebels capture the town, residents flee to Goma",
            ("ARMED_PRESENCE", "high", "minova"),
        ),
        (
            MAVIVI_FP,
            "Nord-Kivu : le M23 s'empare de la localite de Kanyabayonga",
            ("ARMED_PRESENCE", "high", "kanyabayonga"),
        ),
        (
            MAVIVI_FP,
            "Many residents fled their homes in Kiwanja",
            ("DISPLACEMENT", "medium", "kiwanja"),
        ),
        # negations and endings
        (MAVIVI_FP, "No fighting reported in Kasindi today", ("OTHER", "low", "kasindi")),
        (
            RUTSHURU_FP,
            "Les 7 agriculteurs kidnappes hier a Kahunga se sont echappes ce matin",
            ("OTHER", "low", "kahunga"),
        ),
        (
            MAVIVI_FP,
            "The hostages taken at Mamove were freed this morning",
            ("OTHER", "low", "mamove"),
        ),
        # armed groups whose names hold trigger words
        (
            MAVIVI_FP,
            "Le Mouvement du 23 mars controle toujours la cite de Bunagana",
            ("ARMED_PRESENCE", "high", "bunagana"),
        ),
        (
            MAVIVI_FP,
            "Les Forces democratiques de liberation du Rwanda appelees a deposer les armes",
            ("OTHER", "low", "mavivi"),
        ),
        # an ambush that only robbed is looting
        (
            UVIRA_FP,
            "Embuscade: trois motards depouilles de leurs telephones et 700 dollars",
            ("LOOTING", "medium", "uvira"),
        ),
    ],
)
def test_words_in_context(
    phone: str,
    text: str,
    expected: tuple[str, str, str | None],
    gazetteer: Gazetteer,
    senders: dict[str, Sender],
) -> None:
    assert summary(text, gazetteer, senders[phone]) == expected


@pytest.mark.parametrize(
    ("text", "received", "past"),
    [
        ("Les ADF ont attaque Mamove dimanche 29 decembre", "2024-12-30T08:00:00+02:00", True),
        ("Les ADF ont attaque Mamove dimanche 29 decembre", "2024-12-29T20:00:00+02:00", False),
        ("Attaque a Mamove samedi, 3 morts", "2024-12-30T08:00:00+02:00", True),
        ("Attaque a Mamove ce lundi, 3 morts", "2024-12-30T08:00:00+02:00", False),
        ("Attaque a Mamove la nuit de samedi a dimanche", "2024-12-30T08:00:00+02:00", True),
        ("Attaque a Mamove la nuit de dimanche a lundi", "2024-12-30T08:00:00+02:00", False),
        ("Il y a une semaine les ADF ont tue 2 personnes", "2024-12-30T08:00:00+02:00", True),
        ("Depuis samedi dernier les ADF occupent Mamove", "2024-12-30T08:00:00+02:00", True),
        ("ADF attacked Mamove early on Monday, 3 killed", "2024-12-31T08:00:00+02:00", True),
        ("ADF attacked Mamove early on Monday, 3 killed", "2024-12-30T08:00:00+02:00", False),
        ("Jumatatu iliyopita ADF waliua watu Mamove", "2024-12-30T08:00:00+02:00", True),
        ("ADF waliua watu Mamove Jumapili", "2024-12-30T08:00:00+02:00", True),
        ("Leo ADF wameua watu Mamove", "2024-12-30T08:00:00+02:00", False),
        ("On August 23, 17 civilians were killed in Mamove", "2022-09-07T09:00:00+02:00", True),
        ("Les ADF menacent d'attaquer Mamove samedi prochain", "2024-12-30T08:00:00+02:00", False),
        # received just after midnight UTC is already the next day in Kivu
        ("Attaque a Mamove dimanche", "2024-12-29T22:30:00+00:00", True),
    ],
)
def test_named_days_and_dates_against_received_time(
    text: str, received: str, past: bool, gazetteer: Gazetteer, senders: dict[str, Sender]
) -> None:
    r = triage(text, gazetteer, senders[MAVIVI_FP], datetime.fromisoformat(received))
    assert r.is_past is past, r.reasons


@pytest.mark.parametrize(
    ("text", "field", "count"),
    [
        ("Dix-huit personnes enlevees par les ADF", "abducted", 18),
        ("Une dizaine de civils tues a Mavivi", "killed", 10),
        ("Watu kumi wameuawa na ADF", "killed", 10),
        ("Une vingtaine d'assaillants signales a Mbau", "attackers", 20),
        ("Les CODECO ont attaque Drodro dimanche 29 decembre, 3 morts", "killed", 3),
        ("29 civils tues et 50 enleves les 30 et 31 mars", "abducted", 50),
        ("On August 23 and 30, at least 17 civilians were killed", "killed", 17),
        ("Mai-Mai: 2 morts a Baraka", "killed", 2),
    ],
)
def test_numbers_in_words(
    text: str, field: str, count: int, gazetteer: Gazetteer, senders: dict[str, Sender]
) -> None:
    r = triage(text, gazetteer, senders[MAVIVI_FP])
    assert getattr(r.numbers, field) == count


@pytest.mark.parametrize(
    ("text", "place", "level"),
    [
        ("Attaque au village Konge Pwendi, territoire de Beni", "territoire-beni", "territoire"),
        ("CODECO killed 15 people in Djugu territory", "territoire-djugu", "territoire"),
        (
            "Watu 85,000 wamekimbia mapigano katika eneo la Masisi",
            "territoire-masisi",
            "territoire",
        ),
        ("secteur de Beni-Mbau: 3 morts", "secteur-beni-mbau", "secteur"),
        (
            "Deux personnes kidnappees a Rangira, chefferie de Bwisha",
            "chefferie-bwisha",
            "chefferie",
        ),
        # a bare name is the town; a more precise place beats the area
        ("Attaque a Beni, 3 morts", "beni", None),
        ("Attaque a Kamango, territoire de Beni", "kamango", None),
        # "near X" counts only when the event's own place is not named
        ("Attaque au site de Plaine Savo pres de Bule", "savo", None),
        ("Un medecin enleve a Maboya, a 25 km au nord de Butembo", "butembo", None),
    ],
)
def test_administrative_areas(
    text: str, place: str, level: str | None, gazetteer: Gazetteer, senders: dict[str, Sender]
) -> None:
    r = triage(text, gazetteer, senders[MAVIVI_FP])
    assert r.place is not None and r.place.id == place, r.reasons
    assert r.place.area_level == level
    if level:
        assert any("centroid" in reason for reason in r.reasons)


@pytest.mark.parametrize(
    "text",
    [
        "8 blesses evacues vers les centres de sante",  # sante ≈ Sange
        "Mai-Mai Mulumba raided herders, cows taken",  # a group's name ≈ Mulamba
        "Le chef Kasereka a ete enleve",  # a person's name
        "colonel Mavivi a parle a la radio",  # a title names a person, even as a place's name
        "ADF wameua watu porini",
        "emmenes dans la brousse par les ADF",
    ],
)
def test_names_and_words_are_not_places(
    text: str, gazetteer: Gazetteer, senders: dict[str, Sender]
) -> None:
    r = triage(text, gazetteer, senders[RUTSHURU_FP])
    assert (r.place.id if r.place else None, r.location_source) == ("rutshuru", "reporter_home")
    r = triage(text, gazetteer, Sender())
    assert r.place is None


def test_reasons_stay_short(gazetteer: Gazetteer, senders: dict[str, Sender]) -> None:
    text = (
        "URGENT hier soir les ADF ont attaque Mavivi et Mbau, 12 morts, 5 blesses, 7 enleves, "
        "maisons brulees et betail pille, la population fuit vers Beni et Oicha, territoire "
        "de Beni, colonel Kasereka dit que les combats continuent"
    )
    r = triage(text, gazetteer, senders[MAVIVI_FP])
    assert len(r.reasons) <= 10, r.reasons
