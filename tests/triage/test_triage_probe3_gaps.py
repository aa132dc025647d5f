"""General gaps found by reading the misses of the third held-out probe (tests/data/
triage_real_probe3.jsonl, docs/TRIAGE_QUALITY.md "A third held-out probe"): being made to pay
at roadblocks, a direction word after a flight verb, "en direction de" as armed men heading
somewhere, and armed men pushed back by others. The sentences are ours, none is a probe text."""

from __future__ import annotations

import pytest

from app.geo.matcher import Gazetteer
from app.triage.engine import triage_message
from app.triage.types import Sender
from tests.triage.support import MONDAY, summary

RUTSHURU_FP = "+243810000107"
UVIRA_FP = "+243810000114"
KOMANDA_FP = "+243810000112"
UNKNOWN = "+243899000000"

assert MONDAY.weekday() == 0  # the dates below are read on this Monday


@pytest.mark.parametrize(
    ("phone", "text", "expected"),
    [
        (
            UVIRA_FP,
            "Sange: 12 barrieres sur la route, a chacune il faut donner 500 FC",
            ("THREAT", "medium", "sange"),
        ),
        (
            UVIRA_FP,
            "Les militaires font payer 1000 FC a chaque moto qui entre a Kiliba",
            ("THREAT", "medium", "kiliba"),
        ),
        (
            RUTSHURU_FP,
            "A Kiwanja chaque commercant doit payer 2000 FC par semaine aux rebelles",
            ("THREAT", "medium", "kiwanja"),
        ),
    ],
)
def test_being_made_to_pay_is_a_forced_tax(
    phone: str,
    text: str,
    expected: tuple[str, str, str | None],
    gazetteer: Gazetteer,
    senders: dict[str, Sender],
) -> None:
    """Roadblocks where all pay and "font payer / doit payer" are forced taxes (THREAT)."""
    assert summary(text, gazetteer, senders[phone]) == expected


@pytest.mark.parametrize(
    ("phone", "text", "expected"),
    [
        # people fleeing towards a place, with armed men named in the message
        (
            UNKNOWN,
            "Wakazi wa Kibirizi wanakimbia kuelekea Kanyabayonga kwa sababu ya M23",
            ("DISPLACEMENT", "medium", "kibirizi"),
        ),
        # armed men heading somewhere stay a presence
        (UNKNOWN, "Waasi wa M23 wanaelekea Nyanzale", ("ARMED_PRESENCE", "high", "nyanzale")),
        (
            KOMANDA_FP,
            "Une colonne d ADF marche en direction de Mambasa",
            ("ARMED_PRESENCE", "high", "mambasa"),
        ),
        (
            KOMANDA_FP,
            "Les habitants fuient en direction de Komanda, les ADF sont proches",
            ("DISPLACEMENT", "medium", "komanda"),
        ),
    ],
)
def test_heading_towards_is_the_movers_own(
    phone: str,
    text: str,
    expected: tuple[str, str, str | None],
    gazetteer: Gazetteer,
    senders: dict[str, Sender],
) -> None:
    """ "kuelekea" after a flight verb is where people flee; "en direction de" after armed men
    is where they go."""
    assert summary(text, gazetteer, senders.get(phone, Sender())) == expected


@pytest.mark.parametrize(
    "text",
    [
        "Hier les FARDC ont repousse les miliciens a Mboko, aucun blesse",
        "Les casques bleus repoussent les assaillants pres de Baraka hier soir",
    ],
)
def test_armed_men_pushed_back_by_others_is_a_clash(
    text: str, gazetteer: Gazetteer, senders: dict[str, Sender]
) -> None:
    category, severity, _ = summary(text, gazetteer, senders[UVIRA_FP])
    assert (category, severity) == ("CLASH", "high")


BARAKA_FP = "+243810000115"


@pytest.mark.parametrize(
    ("phone", "text", "expected"),
    [
        # where people flee to ranks below an area named as the location...
        (
            UNKNOWN,
            "Territoire de Beni: des hommes armes occupent deux villages, les habitants fuient "
            "vers Oicha",
            ("ARMED_PRESENCE", "high", "territoire-beni"),
        ),
        (
            UNKNOWN,
            "Eneo la Masisi: wakazi wa vijiji viwili wanakimbia tangu jana kuelekea Sake na Goma",
            ("DISPLACEMENT", "medium", "territoire-masisi"),
        ),
        # ...and a list after a name the gazetteer does not hold shares its place word
        (
            BARAKA_FP,
            "Fizi: tirs entendus hier soir a Kalundja et Mboko, pas de victimes",
            ("CLASH", "high", "mboko"),
        ),
    ],
)
def test_flight_destinations_and_lists_of_places(
    phone: str,
    text: str,
    expected: tuple[str, str, str | None],
    gazetteer: Gazetteer,
    senders: dict[str, Sender],
) -> None:
    assert summary(text, gazetteer, senders.get(phone, Sender())) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # a person killed, then animals as another item of the list
        (
            "Deux morts par balle et 40 chevres emportees par des miliciens a Mboko hier",
            ("ATTACK", "high", "mboko"),
        ),
        # animals that are the object of the kill word stay animals
        (
            "Des miliciens ont abattu et emporte 12 vaches a Mboko hier",
            ("LOOTING", "medium", "mboko"),
        ),
    ],
)
def test_animals_listed_after_a_death_are_not_its_victims(
    text: str,
    expected: tuple[str, str, str | None],
    gazetteer: Gazetteer,
    senders: dict[str, Sender],
) -> None:
    assert summary(text, gazetteer, senders[BARAKA_FP]) == expected


MAVIVI_FP = "+243810000101"


@pytest.mark.parametrize(
    "text",
    [
        "Le jour de Noel les ADF ont tue 3 personnes a Mavivi",
        "Siku ya Krismasi watu wawili wameuawa Mavivi",
        "Two farmers were killed near Mavivi on Christmas Day",
    ],
)
def test_a_holiday_before_the_day_of_the_message_is_past(
    text: str, gazetteer: Gazetteer, senders: dict[str, Sender]
) -> None:
    """Christmas read on Monday 30 December is a date before the message: past."""
    assert summary(text, gazetteer, senders[MAVIVI_FP]) == ("ATTACK", "high", "mavivi")


def test_the_holiday_of_the_message_is_not_past(
    gazetteer: Gazetteer, senders: dict[str, Sender]
) -> None:
    christmas = MONDAY.replace(day=25)
    r = triage_message(
        "Le jour de Noel les ADF ont tue 3 personnes a Mavivi",
        gazetteer=gazetteer,
        sender=senders[MAVIVI_FP],
        received_at=christmas,
    )
    assert (r.category, r.severity) == ("ATTACK", "critical")
