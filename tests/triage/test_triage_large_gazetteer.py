"""A large imported gazetteer (GeoNames cities1000, 144k places) beside ours must not invent
places: matching stays inside the served region and our names outrank imported ones."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from app.geo.matcher import Gazetteer
from app.triage.engine import triage_message
from app.triage.types import GazPlace, Sender
from tests.triage.conftest import (
    geonames_cities,
    read_homes,
    read_places,
    read_senders,
    read_served,
)

# Under -n, one process runs this module: the 144k places are read once.
pytestmark = pytest.mark.xdist_group("large-gazetteer")

MAVIVI_FP = "+243810000101"
WALUNGU_FP = "+243810000119"


@pytest.fixture(scope="module")
def geonames() -> list[GazPlace]:
    return geonames_cities()


@pytest.fixture(scope="module")
def big(data_dir: Path, geonames: list[GazPlace]) -> Gazetteer:
    return Gazetteer(
        read_places(data_dir / "gazetteer_drc_east.csv") + geonames,
        served_admin2=read_served(data_dir / "liaisons.csv"),
        homes=read_homes(data_dir / "reporters.csv"),
    )


def results(path: Path, gazetteer: Gazetteer, data_dir: Path) -> dict[str, tuple[object, ...]]:
    senders = read_senders(data_dir / "reporters.csv", gazetteer)
    out = {}
    for item in map(json.loads, path.read_text(encoding="utf-8").splitlines()):
        r = triage_message(
            item["body"],
            gazetteer=gazetteer,
            sender=senders.get(item["from"], Sender()),
            received_at=None,
        )
        out[item["id"]] = (r.category, r.severity, r.place.id if r.place else None)
    return out


def test_geonames_is_large_and_real(geonames: list[GazPlace]) -> None:
    assert len(geonames) > 140_000
    names = {p.name for p in geonames}
    assert {"Bousse", "Kabare", "Matadi", "Dodoma", "Goma"} <= names


@pytest.mark.parametrize("name", ["alerts_dev.jsonl", "triage_real_dev.jsonl"])
def test_places_unchanged_with_geonames_beside(
    name: str, big: Gazetteer, gazetteer: Gazetteer, data_dir: Path
) -> None:
    path = data_dir / name
    alone, beside = results(path, gazetteer, data_dir), results(path, big, data_dir)
    assert beside == alone
    expected = {
        item["id"]: item["expect"]
        for item in map(json.loads, path.read_text(encoding="utf-8").splitlines())
    }
    if name == "alerts_dev.jsonl":  # labels without received_at: today is fine
        for i, field in enumerate(("category", "severity", "place")):
            right = sum(beside[k][i] == expected[k][field] for k in expected)
            assert right / len(expected) >= 0.95, field


def test_no_invented_places(big: Gazetteer, data_dir: Path) -> None:
    senders = read_senders(data_dir / "reporters.csv", big)
    r = triage_message("5 personnes emmenées dans la brousse", gazetteer=big, sender=Sender())
    assert r.place is None, r.reasons  # Bousse (Burkina Faso) is outside the served region
    r = triage_message("emmenés dans la brousse", gazetteer=big, sender=senders[MAVIVI_FP])
    assert r.place is not None and r.place.id == "mavivi"
    # the local Kabare outranks GeoNames' one, from a reporter and from an unknown number
    for sender in (senders[WALUNGU_FP], Sender()):
        r = triage_message("Kabare: hommes armes signales", gazetteer=big, sender=sender)
        assert r.place is not None and r.place.id == "kabare-sk" and not r.place.imported
    # a place only GeoNames knows, inside the region, is found by its exact name, not a typo
    r = triage_message("Attaque a Kisoro, 2 morts", gazetteer=big, sender=Sender())
    assert r.place is not None and (r.place.name, r.place.imported) == ("Kisoro", True)
    r = triage_message("Affrontements a Rukonge", gazetteer=big, sender=senders[MAVIVI_FP])
    assert r.place is not None and r.place.id == "mavivi", r.reasons  # not Rumonge, Burundi


def test_region_setting_limits_matching(geonames: list[GazPlace], data_dir: Path) -> None:
    local = read_places(data_dir / "gazetteer_drc_east.csv")
    far = next(p for p in geonames if p.name == "Dodoma")  # Tanzania
    text = "Attaque a Dodoma, 3 morts"
    everywhere = Gazetteer([*local, far], region=("TZ", "CD"))
    assert triage_message(text, gazetteer=everywhere, sender=Sender()).place == far
    congo = Gazetteer([*local, far], region=("CD",))
    assert triage_message(text, gazetteer=congo, sender=Sender()).place is None
    north_kivu = Gazetteer(local, region=("CD-NK",))
    assert triage_message("Attaque a Uvira", gazetteer=north_kivu, sender=Sender()).place is None
    assert north_kivu.get("uvira") is not None  # still known by id (a focal point's home)


def test_alerts_dev_with_the_119_original_places(gazetteer: Gazetteer, data_dir: Path) -> None:
    original = read_places(data_dir / "gazetteer_drc_east.csv")[:119]  # before the areas
    assert not any(p.area_level for p in original)
    small = Gazetteer(original, served_admin2=read_served(data_dir / "liaisons.csv"))
    path = data_dir / "alerts_dev.jsonl"
    got = results(path, small, data_dir)
    assert got == results(path, gazetteer, data_dir)
    expected = [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines()]
    for i, (field, floor) in enumerate((("category", 0.95), ("severity", 0.95), ("place", 0.9))):
        right = sum(got[e["id"]][i] == e["expect"][field] for e in expected)
        assert right / len(expected) >= floor, field
