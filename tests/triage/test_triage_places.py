"""Place rules of TRIAGE.md against the shared gazetteer, and the accuracy on alerts_dev."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from app.geo.matcher import Gazetteer
from app.triage.engine import triage_message
from app.triage.types import Sender

MAVIVI_FP = "+243810000101"  # home mavivi (Beni)
MOBA_FP = "+243810000117"  # home moba (Tanganyika)
WALUNGU_FP = "+243810000119"  # home walungu (Sud-Kivu)


def place_of(text: str, gazetteer: Gazetteer, sender: Sender) -> tuple[str | None, str]:
    r = triage_message(text, gazetteer=gazetteer, sender=sender)
    return (r.place.id if r.place else None), r.location_source


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # a place named in the text wins over the reporter's home
        ("Attaque a Kamango", "kamango"),
        ("wameua watu huko Kokola", "kokola"),
        ("Bato ya mindoki bakoti na Komanda", "komanda"),
        ("armed men seen near Kasindi border post", "kasindi"),
        # alternative names, accents, case, multi-word and hyphenated names
        ("Oisha: maadui wanaiba mali", "oicha"),
        ("attaque a OÏCHA", "oicha"),
        ("Kitchanga: watu wenye silaha", "kitshanga"),
        ("pillage a Mayi-Moya", "mayimoya"),
        ("pillage a mayi moya", "mayimoya"),
        ("hommes armés a Piana Mwanga", "piana-mwanga"),
        ("incursion a Kasindi-Lubiriha", "kasindi"),
        # small typos
        ("kidnapping hier a Erengeti", "eringeti"),
        ("attaque a Kanyabayoga", "kanyabayonga"),
        ("wameua watu Mutwanaga", "mutwanga"),
        # short names written as names
        ("Attaque a Boga", "boga"),
        ("Mapigano huko Savo", "savo"),
        ("Kilo: hommes armés signalés", "kilo"),
        ("PILLAGE A NIZI", "nizi"),
        ("Gety: tirs entendus", "gety"),
        # armed men moving from X to Y: Y
        ("M23 wanaelekea Kiwanja kutoka Rutshuru", "kiwanja"),
        ("Les ADF quittent Mavivi et se dirigent vers Oicha", "oicha"),
        ("armed men moving from Mbau towards Kamango", "kamango"),
        # people fleeing from X to Y: X
        ("Watu wanakimbia kutoka Kamango kwenda Beni", "kamango"),
        ("Milliers de déplacés arrivent a Sake depuis Mushaki", "mushaki"),
        ("Wakimbizi wengi wanafika Baraka kutoka Yungu", "yungu"),
        ("families fleeing from Kokola to Oicha", "kokola"),
        ("La population de Kamango fuit vers Beni", "kamango"),
        # a road X-Y or between X and Y: X
        ("Enlèvement d'un commerçant sur la route Uvira-Sange", "uvira"),
        ("embuscade sur l'axe Beni - Kasindi", "beni"),
        ("coups de feu entre Mbau et Kamango", "mbau"),
        ("mapigano kati ya Mbau na Oicha", "mbau"),
        ("fighting between Mutwanga and Kasindi", "mutwanga"),
        # otherwise where the event happens
        ("Attaque a Mbau, les blessés évacués vers Beni", "mbau"),
        ("Les ADF venus de Mbau ont attaqué Kamango", "kamango"),
    ],
)
def test_place_in_text(text: str, expected: str, gazetteer: Gazetteer, senders: dict[str, Sender]):
    assert place_of(text, gazetteer, senders[MAVIVI_FP]) == (expected, "text")


def test_common_words_are_not_places(gazetteer: Gazetteer, senders: dict[str, Sender]) -> None:
    sender = senders[MAVIVI_FP]
    assert place_of("ameuawa na panga jana", gazetteer, sender) == ("mavivi", "reporter_home")
    assert place_of("wameiba kilo kumi za unga", gazetteer, sender) == ("mavivi", "reporter_home")
    assert place_of("hommes armes vus pres de la riviere", gazetteer, Sender()) == (None, "none")
    assert place_of("watu moja kati sana vers pres", gazetteer, Sender()) == (None, "none")


def test_ambiguous_names(gazetteer: Gazetteer, senders: dict[str, Sender]) -> None:
    text = "Kabare: watu wenye silaha wameonekana"
    assert place_of(text, gazetteer, senders[MOBA_FP]) == ("kabare-ta", "text")
    assert place_of(text, gazetteer, senders[WALUNGU_FP]) == ("kabare-sk", "text")
    binza = "Binza: shooting and houses burned"
    assert place_of(binza, gazetteer, Sender()) == ("binza-rutshuru", "text")
    r = triage_message(binza, gazetteer=gazetteer, sender=Sender())
    assert any("ambiguous" in x for x in r.reasons)
    assert place_of("Binza Ma Campagne: vol", gazetteer, Sender()) == ("binza-kinshasa", "text")


def test_no_place(gazetteer: Gazetteer, senders: dict[str, Sender]) -> None:
    assert place_of("attaque", gazetteer, senders[MAVIVI_FP]) == ("mavivi", "reporter_home")
    assert place_of("attaque", gazetteer, Sender()) == (None, "none")
    r = triage_message("attaque", gazetteer=gazetteer, sender=Sender())
    assert r.location_confidence == 0.0
    assert "no place named, unknown sender → no place" in r.reasons


def test_accuracy_on_alerts_dev(
    data_dir: Path, gazetteer: Gazetteer, senders: dict[str, Sender]
) -> None:
    rows = [json.loads(x) for x in (data_dir / "alerts_dev.jsonl").read_text().splitlines() if x]
    hits = {"category": 0, "severity": 0, "place": 0, "language": 0}
    misses: list[str] = []
    for row in rows:
        r = triage_message(
            row["body"], gazetteer=gazetteer, sender=senders.get(row["from"], Sender())
        )
        got = {
            "category": r.category,
            "severity": r.severity,
            "place": r.place.id if r.place else None,
            "language": r.language,
        }
        want = {**row["expect"], "language": row.get("lang")}
        for key in hits:
            if got[key] == want[key]:
                hits[key] += 1
            else:
                misses.append(f"{row['id']} {key}: got {got[key]!r}, want {want[key]!r}")
    n = len(rows)
    print(f"\nalerts_dev ({n} messages): " + ", ".join(f"{k} {v / n:.1%}" for k, v in hits.items()))
    for m in misses:
        print("  miss", m)
    assert hits["category"] / n >= 0.95
    assert hits["place"] / n >= 0.95
    assert hits["severity"] / n >= 0.90
