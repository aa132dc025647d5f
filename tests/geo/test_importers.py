"""Gazetteer import: our CSV, named columns (ACLED), GeoNames, GeoJSON; idempotence, rejections,
merged repeats, unreadable files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.geo import service
from app.geo.importers import apply, detect_format, import_places, read_places
from app.geo.importers.csv import named_columns
from app.geo.importers.records import slugify
from app.geo.models import Place
from app.kit.db import unit_of_work
from app.kit.importing import ImportReport, Rejection, UnreadableFile
from app.triage.normalize import tokenize
from tests.support import data_file

HEADER = "id,name,alt_names,lat,lon,admin1,admin1_code,admin2,kind\n"
ACLED_COLUMNS = named_columns("Location", "Latitude", "Longitude")

GEONAMES_LINES = [
    # geonameid name asciiname alternatenames lat lon class code cc cc2 admin1 admin2 ...
    "\t".join(
        [
            "217562",
            "Butembo",
            "Butembo",
            "Butembo,Butémbo,ブテンボ",
            "0.1337",
            "29.2890",
            "P",
            "PPLA2",
            "CD",
            "",
            "19",
            "",
            "",
            "",
            "204568",
            "",
            "1722",
            "Africa/Lubumbashi",
            "2024-01-01",
        ]
    ),
    "\t".join(
        [
            "2314302",
            "Oïcha",
            "Oicha",
            "Oisha",
            "0.7",
            "29.517",
            "P",
            "PPL",
            "CD",
            "",
            "19",
            "",
            "",
            "",
            "0",
            "",
            "1000",
            "Africa/Lubumbashi",
            "2024-01-01",
        ]
    ),
]


def write(tmp_path: Path, name: str, content: str | bytes) -> Path:
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


async def import_file(
    sessionmaker: async_sessionmaker[AsyncSession], path: Path, **kwargs: object
) -> ImportReport:
    async with unit_of_work(sessionmaker) as session:
        return await import_places(session, path, **kwargs)  # type: ignore[arg-type]


async def count_places(sessionmaker: async_sessionmaker[AsyncSession]) -> int:
    async with sessionmaker() as session:
        return int(await session.scalar(select(func.count(Place.id))) or 0)


async def place(sessionmaker: async_sessionmaker[AsyncSession], place_id: str) -> Place | None:
    async with sessionmaker() as session:
        return await session.get(Place, place_id)


# --- parsing ----------------------------------------------------------------------------


def test_the_shared_gazetteer_parses_without_rejections() -> None:
    parsed = read_places(data_file("gazetteer_drc_east.csv"))
    assert parsed.source == "csv"
    assert parsed.rejected == []
    assert len(parsed.records) == 150
    areas = {r.id: r.kind for r in parsed.records if r.kind not in ("city", "town", "village")}
    assert len(areas) == 25 and areas["territoire-nyiragongo"] == "territoire"
    assert {areas["secteur-beni-mbau"], areas["chefferie-bwisha"]} == {"secteur", "chefferie"}
    oicha = next(r for r in parsed.records if r.id == "oicha")
    assert (oicha.name, oicha.alt_names) == ("Oïcha", ["Oicha", "Oisha"])
    assert (oicha.admin1, oicha.admin1_code, oicha.admin2, oicha.kind) == (
        "Nord-Kivu",
        "CD-NK",
        "Beni",
        "town",
    )


def test_bad_rows_are_rejected_with_their_line_number_and_reason(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "places.csv",
        HEADER
        + "beni,Beni,,0.4966,29.4654,Nord-Kivu,CD-NK,Beni,city\n"  # 2 good
        + "x1,Nowhere,,abc,29.4,,,,\n"  # 3 latitude not a number
        + "x2,North,,95,29.4,,,,\n"  # 4 |lat| > 90
        + "x3,East,,1.5,200,,,,\n"  # 5 |lon| > 180
        + "x4,Null Island,,0,0,,,,\n"  # 6 0,0
        + "x5,,,1.2,29.1,,,,\n"  # 7 missing name
        + "\n"  # 8 blank: skipped, still counted
        + "mbau,Mbau,,0.6,29.6,Nord-Kivu,CD-NK,Beni,village\n"  # 9 good
        + "beni,Beni again,,0.5,29.5,,,,\n"  # 10 duplicate id
        + "x6,Nan,,nan,29.1,,,,\n",  # 11 nan is not a coordinate
    )
    parsed = read_places(path)
    assert [r.id for r in parsed.records] == ["beni", "mbau"]
    assert [(r.line, r.reason.split(":")[0]) for r in parsed.rejected] == [
        (3, "bad coordinates"),
        (4, "bad coordinates"),
        (5, "bad coordinates"),
        (6, "bad coordinates"),
        (7, "missing name"),
        (10, "duplicate id 'beni' (first on line 2)"),
        (11, "bad coordinates"),
    ]
    reasons = {r.line: r.reason for r in parsed.rejected}
    assert "'abc' is not a number" in reasons[3]
    assert "latitude 95.0" in reasons[4]
    assert "longitude 200.0" in reasons[5]
    assert "0,0" in reasons[6]


def test_an_area_level_column_is_the_kind(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "areas.csv",
        "id,name,lat,lon,admin1,admin2,level\n"
        "territoire-irumu,Irumu,1.2,29.9,Ituri,Irumu,territoire\n"
        "bunia,Bunia,1.56,30.25,Ituri,Irumu,\n",
    )
    parsed = read_places(path)
    assert parsed.rejected == []
    assert [(r.id, r.kind or None) for r in parsed.records] == [
        ("territoire-irumu", "territoire"),
        ("bunia", None),
    ]


def test_quoted_multiline_cells_keep_the_line_numbers_right(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "places.csv",
        HEADER
        + 'a,"A\nplace",,1.1,29.1,,,,\n'  # lines 2-3
        + "b,B,,bad,29.1,,,,\n",  # line 4
    )
    assert read_places(path).rejected[0].line == 4


def test_mixed_latin1_and_utf8_lines_are_each_decoded_right(tmp_path: Path) -> None:
    data = (
        b"Location,Latitude,Longitude\r\n"
        + "Kabambaré,-4.70,27.72\r\n".encode("latin-1")
        + "Oïcha,0.70,29.517\r\n".encode()
        + "Mwenga – centre,-3.03,28.43\r\n".encode("cp1252")
    )
    parsed = read_places(write(tmp_path, "mixed.csv", data), columns=ACLED_COLUMNS)
    assert [r.name for r in parsed.records] == ["Kabambaré", "Oïcha", "Mwenga – centre"]
    assert parsed.source == "csv-columns"
    assert slugify("Kabambaré") == "kabambare"


def test_the_acled_export_reads_despite_mixed_encodings() -> None:
    raw = data_file("acled_style_drc_2016_2017.csv").read_bytes()
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")  # the point of the exercise
    parsed = read_places(data_file("acled_style_drc_2016_2017.csv"), columns=ACLED_COLUMNS)
    assert parsed.source == "acled"
    assert parsed.rejected == []
    assert len(parsed.records) == 130
    assert all(r.id is None for r in parsed.records), "the ACLED id is an event id, not a place"


def test_geonames_dump(tmp_path: Path) -> None:
    bad = GEONAMES_LINES[0].split("\t")
    bad[4] = "north"
    path = write(
        tmp_path,
        "CD.txt",
        "\n".join([*GEONAMES_LINES, "\t".join(bad), "123\tShort\tline"]) + "\n",
    )
    assert detect_format(path, path.read_text().splitlines()) == "geonames"
    parsed = read_places(path)
    assert parsed.source == "geonames"
    butembo, oicha = parsed.records
    assert (butembo.id, butembo.name, butembo.lat, butembo.lon) == (
        "gn-217562",
        "Butembo",
        0.1337,
        29.289,
    )
    assert butembo.alt_names == ["Butémbo", "ブテンボ"]
    assert (butembo.admin1_code, butembo.kind) == ("CD.19", "town")
    assert (oicha.id, oicha.alt_names, oicha.kind) == ("gn-2314302", ["Oicha", "Oisha"], "village")
    assert [(r.line, r.reason) for r in parsed.rejected] == [
        (3, "bad coordinates: latitude 'north' is not a number"),
        (4, "expected 19 tab-separated fields, found 3"),
    ]


def geojson(*features: object) -> str:
    return json.dumps({"type": "FeatureCollection", "features": list(features)})


def point(lon: float, lat: float, **props: object) -> dict[str, object]:
    return {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [lon, lat]},
        "properties": props,
    }


def test_geojson_points(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "places.geojson",
        geojson(
            point(29.4654, 0.4966, name="Beni", id="beni", alt_names=["Beni-ville"], admin2="Beni"),
            point(29.6, 0.6, name="Mbau", admin1="Nord-Kivu"),
            {"type": "Feature", "geometry": {"type": "Polygon", "coordinates": []}},
            point(29.1, 1.1),
            point(29.1, 91.0, name="Too far north"),
        ),
    )
    parsed = read_places(path)
    assert parsed.source == "geojson"
    beni, mbau = parsed.records
    assert (beni.id, beni.alt_names, beni.admin2, beni.admin1) == (
        "beni",
        ["Beni-ville"],
        "Beni",
        None,
    )
    assert (mbau.id, mbau.lat, mbau.lon, mbau.admin1) == (None, 0.6, 29.6, "Nord-Kivu")
    assert [str(r) for r in parsed.rejected] == [
        "feature 3: geometry is not a Point (Polygon)",
        "feature 4: missing name",
        "feature 5: bad coordinates: latitude 91.0 is beyond ±90",
    ]


def test_format_detection_by_extension_and_content(tmp_path: Path) -> None:
    assert detect_format(Path("x.geojson"), []) == "geojson"
    assert detect_format(Path("x.dat"), ['{"type": "FeatureCollection"}']) == "geojson"
    assert detect_format(Path("x.dat"), [GEONAMES_LINES[0]]) == "geonames"
    assert detect_format(Path("x.txt"), [HEADER]) == "csv"
    # --format overrides detection: a GeoNames dump read as CSV lacks the columns.
    path = write(tmp_path, "dump.txt", "\n".join(GEONAMES_LINES) + "\n")
    with pytest.raises(UnreadableFile, match="missing required column"):
        read_places(path, "csv")


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("missing.csv", None, "no such file"),
        ("folder", "dir", "is a directory"),
        ("garbage.csv", bytes(range(256)) * 8, "binary"),
        ("empty.csv", "", "empty"),
        (
            "nocols.csv",
            "id,label,x,y\nbeni,Beni,1,2\n",
            "missing required column(s): name, lat, lon",
        ),
        ("broken.geojson", '{"type": "FeatureCollection", "features": [', "invalid JSON"),
        ("notfc.geojson", '{"type": "Feature"}', "not a GeoJSON FeatureCollection"),
    ],
)
def test_unreadable_files_raise(
    tmp_path: Path, name: str, content: str | bytes | None, message: str
) -> None:
    path = tmp_path / name
    if content == "dir":
        path.mkdir()
    elif content is not None:
        write(tmp_path, name, content)
    with pytest.raises(UnreadableFile) as raised:
        read_places(path)
    assert message in str(raised.value)
    assert str(path) in str(raised.value)


def test_named_columns_must_exist(tmp_path: Path) -> None:
    path = write(tmp_path, "events.csv", "Location,Latitude,Longitude\nBeni,0.5,29.4\n")
    with pytest.raises(UnreadableFile, match="Admin2"):
        read_places(
            path, columns=named_columns("Location", "Latitude", "Longitude", admin2="Admin2")
        )


# --- applying ---------------------------------------------------------------------------


async def test_a_second_import_changes_nothing(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    path = data_file("gazetteer_drc_east.csv")
    first = await import_file(sessionmaker, path)
    assert first.counts() == {"created": 150, "updated": 0, "unchanged": 0, "rejected": 0}
    second = await import_file(sessionmaker, path)
    assert second.counts() == {"created": 0, "updated": 0, "unchanged": 150, "rejected": 0}
    assert await count_places(sessionmaker) == 150
    oicha = await place(sessionmaker, "oicha")
    assert oicha is not None
    assert (oicha.name, oicha.alt_names, oicha.source) == ("Oïcha", ["Oicha", "Oisha"], "csv")


async def test_a_changed_row_updates_its_place_by_id(
    sessionmaker: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    rows = [
        "beni,Beni,Beni-ville,0.4966,29.4654,Nord-Kivu,CD-NK,Beni,city\n",
        "mbau,Mbau,,0.6,29.6,Nord-Kivu,CD-NK,Beni,village\n",
    ]
    path = write(tmp_path, "p.csv", HEADER + "".join(rows))
    await import_file(sessionmaker, path)
    write(tmp_path, "p.csv", HEADER + rows[0] + "mbau,Mbau,Mbao,0.61,29.6,Nord-Kivu,CD-NK,Beni,\n")
    report = await import_file(sessionmaker, path)
    assert (report.created, report.updated, report.unchanged) == ([], ["mbau"], ["beni"])
    mbau = await place(sessionmaker, "mbau")
    assert mbau is not None
    assert (mbau.lat, mbau.alt_names, mbau.kind) == (0.61, ["Mbao"], None)


async def test_rejected_rows_do_not_stop_the_good_ones(
    sessionmaker: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    path = write(
        tmp_path,
        "p.csv",
        HEADER + "a,A,,1.0,29.0,,,,\nb,B,,0,0,,,,\nc,C,,1.2,29.2,,,,\n",
    )
    report = await import_file(sessionmaker, path)
    assert report.created == ["a", "c"]
    assert report.rejected == [Rejection(3, "bad coordinates: 0,0 (a blank position, not a place)")]
    assert await count_places(sessionmaker) == 2


async def test_rows_without_ids_merge_near_repeats_and_split_far_namesakes(
    sessionmaker: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    path = write(
        tmp_path,
        "events.csv",
        "Location,Latitude,Longitude,Notes\n"
        "Kamango,0.65,29.90,first\n"  # 2
        "Kamango,0.66,29.91,1.5 km away: same place\n"  # 3
        "Moba,-7.04,29.76,Tanganyika\n"  # 4
        "Moba,-4.35,17.03,far west: another Moba\n"  # 5
        "Moba,-7.05,29.77,same as line 4\n",  # 6
    )
    report = await import_file(sessionmaker, path, columns=ACLED_COLUMNS)
    assert sorted(report.created) == ["kamango", "moba", "moba-2"]
    assert report.merged == [
        "Kamango: 2 rows merged into kamango (lines 2, 3)",
        "Moba: 2 rows merged into moba (lines 4, 6)",
    ]
    assert len(report.distinct) == 1 and report.distinct[0].startswith("Moba: 2 distinct")
    moba2 = await place(sessionmaker, "moba-2")
    assert moba2 is not None
    assert (moba2.lat, moba2.lon, moba2.source) == (-4.35, 17.03, "csv-columns")

    again = await import_file(sessionmaker, path, columns=ACLED_COLUMNS)
    assert again.counts() == {"created": 0, "updated": 0, "unchanged": 3, "rejected": 0}
    assert await count_places(sessionmaker) == 3


async def test_acled_import_reports_merges_and_is_idempotent(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    path = data_file("acled_style_drc_2016_2017.csv")
    report = await import_file(sessionmaker, path, columns=ACLED_COLUMNS)
    assert report.source == "acled"
    assert report.counts() == {"created": 76, "updated": 0, "unchanged": 0, "rejected": 0}
    assert len(report.merged) == 29
    assert "Kananga: 10 rows merged into kananga" in "\n".join(report.merged)
    assert len(report.distinct) == 1 and report.distinct[0].startswith("Moba: 2 distinct")
    kananga = await place(sessionmaker, "kananga")
    assert kananga is not None
    assert (kananga.lat, kananga.lon, kananga.source) == (-5.89583, 22.41778, "acled")

    again = await import_file(sessionmaker, path, columns=ACLED_COLUMNS)
    assert again.counts() == {"created": 0, "updated": 0, "unchanged": 76, "rejected": 0}
    assert await count_places(sessionmaker) == 76


async def test_acled_does_not_overwrite_the_curated_gazetteer(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    await import_file(sessionmaker, data_file("gazetteer_drc_east.csv"))
    before = await place(sessionmaker, "goma")
    report = await import_file(
        sessionmaker, data_file("acled_style_drc_2016_2017.csv"), columns=ACLED_COLUMNS
    )
    assert report.updated == []
    assert "goma" in report.unchanged
    assert report.notes and "left as they are" in report.notes[0]
    goma = await place(sessionmaker, "goma")
    assert goma is not None and before is not None
    assert (goma.lat, goma.lon, goma.admin2, goma.source) == (
        before.lat,
        before.lon,
        before.admin2,
        "csv",
    )
    # ACLED's Dungu lies some 1,300 km from the real one: a namesake, not an update.
    dungu2 = await place(sessionmaker, "dungu-2")
    assert dungu2 is not None and dungu2.source == "acled"


async def test_geonames_and_geojson_record_their_source(
    sessionmaker: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    dump = write(tmp_path, "CD.txt", "\n".join(GEONAMES_LINES) + "\n")
    points = write(tmp_path, "p.geojson", geojson(point(29.6, 0.6, name="Mbau", id="mbau")))
    assert (await import_file(sessionmaker, dump)).created == ["gn-217562", "gn-2314302"]
    assert (await import_file(sessionmaker, points)).created == ["mbau"]
    assert (await import_file(sessionmaker, dump)).unchanged == ["gn-217562", "gn-2314302"]
    butembo, mbau = await place(sessionmaker, "gn-217562"), await place(sessionmaker, "mbau")
    assert butembo is not None and mbau is not None
    assert (butembo.source, butembo.admin1_code, mbau.source) == ("geonames", "CD.19", "geojson")


async def test_a_csv_recorded_as_geonames_is_an_outside_gazetteer(
    sessionmaker: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    # rg_cities1000.csv (GeoNames cities as a plain CSV) beside our own gazetteer.
    await import_file(sessionmaker, data_file("gazetteer_drc_east.csv"))
    path = write(
        tmp_path,
        "cities.csv",
        "lat,lon,name,admin1,admin2,cc\n"
        "0.4970,29.4660,Beni,Nord-Kivu,,CD\n"  # our Beni, some 100 m away: ours stays
        "14.0000,-4.0000,Beni,Mopti,,ML\n"  # a namesake far away
        "0.5800,29.5200,Kyavisogho,Nord-Kivu,,CD\n"  # a village we do not have
        "0.5900,29.5300,Kyavisogho,Nord-Kivu,,CD\n",  # the same, written twice
    )
    columns = named_columns("name", "lat", "lon", admin1="admin1", admin2="admin2")
    report = await import_file(sessionmaker, path, columns=columns, source="geonames")
    assert report.counts() == {"created": 2, "updated": 0, "unchanged": 1, "rejected": 0}
    assert report.source == "csv-columns"  # the format read; the places are stored as below
    assert any("outside gazetteer" in note for note in report.notes)
    assert report.warnings == []  # the Beni of Mali is far away, as an outside place may be
    sources = {}
    for place_id in ("beni", "beni-2", "kyavisogho"):
        found = await place(sessionmaker, place_id)
        assert found is not None
        sources[place_id] = found.source
    assert sources == {"beni": "csv", "beni-2": "geonames", "kyavisogho": "geonames"}

    async def served(session: AsyncSession) -> tuple[frozenset[str], tuple[str, ...]]:
        return frozenset({"Beni"}), ()

    async with sessionmaker() as session:
        gazetteer = await service.GazetteerCache(served_area=served).get(session)
    assert len(gazetteer) == 152

    def mentioned(text: str) -> list[str]:
        return [
            gazetteer.resolve(m.places, None)[0].id for m in gazetteer.find_mentions(tokenize(text))
        ]

    assert mentioned("Attaque a Beni") == ["beni"]  # ours outranks the imported namesake
    assert mentioned("Attaque a Kyavisogho") == ["kyavisogho"]  # its exact name, near us
    assert mentioned("Attaque a Kyavisoho") == []  # never by a typo


async def test_a_source_must_be_a_short_label(
    sessionmaker: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    path = write(tmp_path, "places.csv", HEADER + "a,Alpha,,1.0,29.0,,,,\n")
    for bad in ("", "geo names", "GeoNames", "x" * 33):
        with pytest.raises(UnreadableFile, match="source"):
            read_places(path, source=bad)
    assert read_places(path, source="my-list.v2").stored_source == "my-list.v2"
    assert read_places(path).stored_source == "csv"


async def test_a_large_file_of_own_places_suggests_an_outside_gazetteer(
    sessionmaker: async_sessionmaker[AsyncSession],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(apply, "LARGE_OWN_GAZETTEER", 3)
    path = write(
        tmp_path,
        "cities.csv",
        "name,lat,lon\nAlpha,1.0,29.0\nBravo,1.1,29.1\nCharlie,1.2,29.2\n",
    )
    columns = named_columns("name", "lat", "lon")
    report = await import_file(sessionmaker, path, columns=columns)
    assert any("--source geonames" in note for note in report.notes)
    again = await import_file(sessionmaker, path, columns=columns, source="geonames")
    assert not any("--source geonames" in note for note in again.notes)
