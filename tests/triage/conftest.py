"""Fixtures for triage tests: the shared data set beside the repository (../shared/data)."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from app.geo.matcher import Gazetteer
from app.triage.types import GazPlace, Sender
from tests.support import SHARED_DATA


def shared_data_dir() -> Path | None:
    """`<repo root>/../shared/data`, or None when it is absent."""
    return SHARED_DATA if SHARED_DATA.is_dir() else None


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
            )
            for row in csv.DictReader(fh)
        ]


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
def shared_dir() -> Path:
    found = shared_data_dir()
    if found is None:
        pytest.skip("shared data directory ../shared/data not found")
    return found


@pytest.fixture(scope="session")
def gazetteer(shared_dir: Path) -> Gazetteer:
    places = read_places(shared_dir / "gazetteer_drc_east.csv")
    return Gazetteer(places, served_admin2=read_served(shared_dir / "liaisons.csv"))


@pytest.fixture(scope="session")
def senders(shared_dir: Path, gazetteer: Gazetteer) -> dict[str, Sender]:
    return read_senders(shared_dir / "reporters.csv", gazetteer)
