"""`kengele import …` end to end: exit codes, summary, rejected lines, nothing written when the
file cannot be read."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import typer
from click.testing import Result
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from typer.testing import CliRunner

from app.cli.importing import register
from app.geo.models import Place
from app.kit.config import get_settings
from app.people.models import Liaison, Reporter
from tests.support import data_file

HEADER = "id,name,alt_names,lat,lon,admin1,admin1_code,admin2,kind\n"


@pytest.fixture
def cli(database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[typer.Typer]:
    """A `kengele`-like app with only the import group, on the test database."""
    monkeypatch.setenv("KENGELE_DATABASE_URL", database_url)
    get_settings.cache_clear()
    app = typer.Typer()
    register(app)
    yield app
    get_settings.cache_clear()


async def run(app: typer.Typer, *args: str) -> Result:
    # The command runs its own event loop (asyncio.run): give it a thread without one.
    return await asyncio.to_thread(CliRunner().invoke, app, ["import", *args])


async def count(sessionmaker: async_sessionmaker[AsyncSession], model: type) -> int:
    async with sessionmaker() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


def summary(result: Result) -> dict[str, int]:
    counts: dict[str, int] = {}
    for line in result.stdout.splitlines():
        cells = [c.strip() for c in line.strip("│┃ ").split("│")]
        if len(cells) == 2 and cells[1].isdigit():
            counts[cells[0]] = int(cells[1])
    return counts


async def test_places_import_then_reimport(
    cli: typer.Typer, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    path = str(data_file("gazetteer_drc_east.csv"))
    first = await run(cli, "places", path)
    assert first.exit_code == 0, first.output
    assert summary(first) == {"created": 150, "updated": 0, "unchanged": 0, "rejected": 0}
    second = await run(cli, "places", path)
    assert second.exit_code == 0, second.output
    assert summary(second) == {"created": 0, "updated": 0, "unchanged": 150, "rejected": 0}
    assert await count(sessionmaker, Place) == 150
    assert "━" not in first.stderr and "Importing" not in first.stdout, "no bar off a terminal"


async def test_rejected_lines_are_printed_and_nothing_imported_unless_partial_is_allowed(
    cli: typer.Typer, sessionmaker: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    path = tmp_path / "places.csv"
    path.write_text(
        HEADER
        + "a,Alpha,,1.0,29.0,,,,\n"
        + "b,Bravo,,north,29.0,,,,\n"
        + "c,Charlie [camp],,1.2,29.2,,,,\n"
        + "d,,,1.3,29.3,,,,\n",
        encoding="utf-8",
    )
    refused = await run(cli, "places", str(path))
    assert refused.exit_code == 1, refused.output
    assert "line 3: bad coordinates: latitude 'north' is not a number" in refused.stdout
    assert "line 5: missing name" in refused.stdout
    assert "Nothing imported: 2 row(s) rejected" in refused.stderr
    assert "--allow-partial" in refused.stderr
    assert await count(sessionmaker, Place) == 0

    result = await run(cli, "places", str(path), "--allow-partial")
    assert result.exit_code == 0, result.output
    assert summary(result)["created"] == 2
    assert "line 3: bad coordinates" in result.stdout
    assert await count(sessionmaker, Place) == 2


async def test_a_header_only_file_is_refused(
    cli: typer.Typer, sessionmaker: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    path = tmp_path / "reporters.csv"
    path.write_text("phone,name,home_place_id,language,role\n", encoding="utf-8")
    result = await run(cli, "reporters", str(path))
    assert result.exit_code == 1
    assert "no reporters in the file" in result.stderr
    assert "created" not in result.stdout


async def test_unknown_roles_and_zones_are_refused_with_their_line(
    cli: typer.Typer, sessionmaker: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    assert (await run(cli, "places", str(data_file("gazetteer_drc_east.csv")))).exit_code == 0
    reporters = tmp_path / "reporters.csv"
    reporters.write_text(
        "phone,name,home_place_id,language,role\n"
        "0810000101,Focal point Mavivi,mavivi,fr,focal_point\n"
        "0810000102,King of Oicha,oicha,fr,king\n",
        encoding="utf-8",
    )
    result = await run(cli, "reporters", str(reporters))
    assert result.exit_code == 1
    assert "line 3: unknown role 'king' (expected focal_point," in result.stdout
    liaisons = tmp_path / "liaisons.csv"
    liaisons.write_text(
        "phone,name,zones,tier,language\n"
        "+243820000201,CLA Beni,Beni|Lubero,liaison,fr\n"
        "+243820000299,CLA Atlantis,Atlantis,liaison,fr\n",
        encoding="utf-8",
    )
    result = await run(cli, "liaisons", str(liaisons))
    assert result.exit_code == 1
    assert "line 3: unknown zone 'Atlantis'" in result.stdout
    assert await count(sessionmaker, Reporter) == 0
    assert await count(sessionmaker, Liaison) == 0


async def test_the_encoding_is_reported_and_far_away_places_are_warned_about(
    cli: typer.Typer, sessionmaker: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    gazetteer = await run(cli, "places", str(data_file("gazetteer_drc_east.csv")))
    assert "encoding: UTF-8)" in gazetteer.stdout
    path = tmp_path / "more.csv"
    path.write_bytes(
        HEADER.encode()
        + b"kanyabayonga,Kanyabayonga,,-0.7126,29.1717,Nord-Kivu,CD-NK,Lubero,village\n"
        # latitude and longitude swapped: a point in the Sahara
        + b"kirumba,Kirumba,,29.2,-0.45,Nord-Kivu,CD-NK,Lubero,village\n"
        + "kipese,Kip\xe8se,,-0.2,29.3,Nord-Kivu,CD-NK,Lubero,village\n".encode("cp1252")
    )
    result = await run(cli, "places", str(path))
    assert result.exit_code == 0, result.output
    assert "encoding: UTF-8, with 1 line(s) read as Windows-1252)" in result.stdout
    [warning] = [line for line in result.stdout.splitlines() if line.startswith("Warning:")]
    assert warning.startswith("Warning: line 3: Kirumba (29.2, -0.45) is ")
    assert "latitude and longitude swapped?" in warning
    counts = summary(result)  # a warning, not a rejection
    assert counts["rejected"] == 0 and counts["created"] + counts["updated"] == 3


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("missing.csv", None, "no such file"),
        ("folder", "dir", "is a directory"),
        ("garbage.csv", bytes(range(256)) * 16, "binary"),
        ("columns.csv", "id,label\nbeni,Beni\n", "missing required column"),
        ("broken.geojson", '{"type": "FeatureCollection", "features": [{"type":', "invalid JSON"),
    ],
)
async def test_an_unreadable_file_imports_nothing(
    cli: typer.Typer,
    sessionmaker: async_sessionmaker[AsyncSession],
    tmp_path: Path,
    name: str,
    content: str | bytes | None,
    message: str,
) -> None:
    path = tmp_path / name
    if content == "dir":
        path.mkdir()
    elif isinstance(content, bytes):
        path.write_bytes(content)
    elif content is not None:
        path.write_text(content, encoding="utf-8")
    result = await run(cli, "places", str(path))
    assert result.exit_code == 1
    assert "Nothing imported" in result.stderr and message in result.stderr
    assert await count(sessionmaker, Place) == 0


async def test_a_reporters_file_given_as_liaisons_imports_nothing(
    cli: typer.Typer, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    result = await run(cli, "liaisons", str(data_file("reporters.csv")))
    assert result.exit_code == 1
    assert "missing required column(s): zones" in result.stderr
    assert await count(sessionmaker, Liaison) == 0


async def test_acled_with_named_columns(
    cli: typer.Typer, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    args = ["--name-col", "Location", "--lat-col", "Latitude", "--lon-col", "Longitude"]
    path = str(data_file("acled_style_drc_2016_2017.csv"))
    result = await run(cli, "places", path, *args)
    assert result.exit_code == 0, result.output
    assert "format: acled" in result.stdout
    assert summary(result) == {
        "created": 76,
        "updated": 0,
        "unchanged": 0,
        "rejected": 0,
        "merged repeats": 29,
        "distinct namesakes": 1,
    }
    assert "Kananga: 10 rows merged into kananga" in result.stdout
    assert "moba-2 (line 88" in result.stdout
    again = await run(cli, "places", path, *args)
    assert summary(again)["unchanged"] == 76
    assert await count(sessionmaker, Place) == 76


async def test_latin1_name_via_the_command(
    cli: typer.Typer, sessionmaker: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    path = tmp_path / "events.csv"
    path.write_bytes(
        b"Event,Location,Latitude,Longitude\n"
        + "1,Kabambaré,-4.70,27.72\n".encode("latin-1")
        + "2,Oïcha,0.70,29.517\n".encode()
    )
    result = await run(
        cli, "places", str(path), "--name-col", "Location", "--lat-col", "Latitude",
        "--lon-col", "Longitude",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    async with sessionmaker() as session:
        kabambare = await session.get(Place, "kabambare")
    assert kabambare is not None and kabambare.name == "Kabambaré"
    assert kabambare.source == "csv-columns"


async def test_geojson_and_geonames_by_detection_and_override(
    cli: typer.Typer, sessionmaker: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    feature = {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [29.6, 0.6]},
        "properties": {"name": "Mbau", "id": "mbau", "admin2": "Beni"},
    }
    collection = json.dumps({"type": "FeatureCollection", "features": [feature]})
    (tmp_path / "points.data").write_text(collection, encoding="utf-8")
    fields = ["217562", "Butembo", "Butembo", "", "0.1337", "29.289", "P", "PPLA2", "CD", "", "19"]
    (tmp_path / "dump.csv").write_text("\t".join(fields + [""] * 8) + "\n", encoding="utf-8")
    assert (await run(cli, "places", str(tmp_path / "points.data"))).exit_code == 0
    result = await run(cli, "places", str(tmp_path / "dump.csv"), "--format", "geonames")
    assert result.exit_code == 0, result.output
    async with sessionmaker() as session:
        sources = {row[0]: row[1] for row in await session.execute(select(Place.id, Place.source))}
    assert sources == {"mbau": "geojson", "gn-217562": "geonames"}


async def test_people_commands_store_e164_and_mask_printed_phones(
    cli: typer.Typer, sessionmaker: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    assert (await run(cli, "places", str(data_file("gazetteer_drc_east.csv")))).exit_code == 0
    path = tmp_path / "reporters.csv"
    path.write_text(
        "phone,name,home_place_id,language,role\n"
        "0810000101,Focal point Mavivi,mavivi,fr,focal_point\n"
        "+24399912,Too short,mavivi,fr,focal_point\n"
        "0810000103,Nowhere,atlantis,fr,focal_point\n",
        encoding="utf-8",
    )
    result = await run(cli, "reporters", str(path), "--allow-partial")
    assert result.exit_code == 0, result.output
    assert "line 3: invalid phone" in result.stdout
    assert "+24399912" not in result.output
    assert "line 4: unknown home place 'atlantis'" in result.stdout
    async with sessionmaker() as session:
        phones = (await session.scalars(select(Reporter.phone))).all()
    assert phones == ["+243810000101"]

    liaisons = await run(cli, "liaisons", str(data_file("liaisons.csv")))
    assert liaisons.exit_code == 0, liaisons.output
    assert summary(liaisons)["created"] == 13


async def test_piped_progress_is_one_line_per_block_of_rows(
    cli: typer.Typer,
    sessionmaker: async_sessionmaker[AsyncSession],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from app.cli import importing

    monkeypatch.setattr(importing, "PROGRESS_LINE_EVERY", 1000)
    rows = [f"p{i},Place {i},,{-1 + i / 10000:.4f},{28 + i / 10000:.4f},,,," for i in range(2500)]
    path = tmp_path / "many.csv"
    path.write_text(HEADER + "\n".join(rows) + "\n")
    result = await run(cli, "places", str(path))
    assert result.exit_code == 0, result.output
    progress = [line for line in result.stderr.splitlines() if line.startswith("Importing")]
    assert [line.split(" rows")[0] for line in progress] == [
        "Importing places: 1,000/2,500",
        "Importing places: 2,000/2,500",
        "Importing places: 2,500/2,500",
    ]
    assert await count(sessionmaker, Place) == 2500


async def test_a_csv_of_cities_recorded_as_an_outside_gazetteer(
    cli: typer.Typer, sessionmaker: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    path = tmp_path / "rg_cities.csv"
    path.write_text(
        "lat,lon,name,admin1,admin2,cc\n"
        "42.57952,1.65362,El Tarter,Canillo,,AD\n"
        "north,1.49129,Sant Julia de Loria,Sant Julia de Loria,,AD\n"
        "0.1337,29.289,Butembo,Nord-Kivu,,CD\n",
        encoding="utf-8",
    )
    columns = ["--name-col", "name", "--lat-col", "lat", "--lon-col", "lon"]
    columns += ["--admin1-col", "admin1", "--admin2-col", "admin2"]
    refused = await run(cli, "places", str(path), *columns, "--source", "geo names")
    assert refused.exit_code == 1
    assert "Nothing imported: source 'geo names' must be" in refused.stderr
    result = await run(cli, "places", str(path), *columns, "--source", "GeoNames")
    assert result.exit_code == 1, "a rejected row refuses the whole file"
    assert "line 3: bad coordinates: latitude 'north' is not a number" in result.stdout
    assert await count(sessionmaker, Place) == 0
    result = await run(
        cli, "places", str(path), *columns, "--source", "GeoNames", "--allow-partial"
    )
    assert result.exit_code == 0, result.output
    assert summary(result) == {"created": 2, "updated": 0, "unchanged": 0, "rejected": 1}
    assert "format: csv-columns" in result.stdout
    assert "Note: places recorded with source 'geonames': an outside gazetteer" in result.stdout
    async with sessionmaker() as session:
        sources = dict((await session.execute(select(Place.id, Place.source))).all())
    assert sources == {"el-tarter": "geonames", "butembo": "geonames"}
