"""The map's derived landmarks agree with the gazetteer they were derived from."""

from __future__ import annotations

import csv
import itertools
import json
import math
from collections import defaultdict

from tests.support import REPO_ROOT

LANDMARKS = REPO_ROOT / "app" / "web" / "static" / "landmarks.json"
GAZETTEER = REPO_ROOT / "app" / "demo" / "data" / "gazetteer_drc_east.csv"


def _places() -> list[dict[str, str]]:
    with GAZETTEER.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def test_territoire_lines_run_halfway_between_places_of_two_territoires() -> None:
    places = _places()
    by_zone: dict[str, list[dict[str, str]]] = defaultdict(list)
    for p in places:
        by_zone[p["admin2"]].append(p)
    villes = {z for z, ps in by_zone.items() if all(p["kind"] == "city" for p in ps)}
    sites: dict[str, list[tuple[tuple[float, float], str]]] = defaultdict(list)
    for p in places:
        if p["admin2"] not in villes:
            sites[p["admin1"]].append(((float(p["lon"]), float(p["lat"])), p["admin2"]))

    def halfway(point: tuple[float, float]) -> bool:
        """In a province, the nearest place (within 3 degrees) ties with the nearest place
        of another territoire."""
        for province in sites.values():
            ranked = sorted(province, key=lambda s: math.dist(s[0], point))
            near, zone = ranked[0]
            other = next((s for s in ranked if s[1] != zone), None)
            if other is None or math.dist(near, point) > 3:
                continue
            if abs(math.dist(other[0], point) - math.dist(near, point)) < 0.005:
                return True
        return False

    lines = json.loads(LANDMARKS.read_text(encoding="utf-8"))["territoires"]
    assert len(lines) >= 20
    for line in lines:
        for (x0, y0), (x1, y1) in itertools.pairwise(line):
            assert halfway(((x0 + x1) / 2, (y0 + y1) / 2)), line


def test_roads_pass_through_the_gazetteers_towns_in_order() -> None:
    at: dict[str, list[list[float]]] = defaultdict(list)  # a name may be several places
    for p in _places():
        at[p["name"]].append([round(float(p["lon"]), 3), round(float(p["lat"]), 3)])
    roads = json.loads(LANDMARKS.read_text(encoding="utf-8"))["roads"]
    for road in roads:
        assert road["name"].startswith("RN") and len(road["via"]) >= 2
        assert len(road["line"]) == len(road["via"])
        for name, point in zip(road["via"], road["line"], strict=True):
            assert point in at[name], (road["name"], name)
