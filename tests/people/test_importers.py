"""Import of focal points and liaisons: E.164 phones, idempotence, rejections, registration of
unknown senders, consent kept across re-imports, the demo data loader."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.demo import load_demo_data
from app.geo.importers import import_places
from app.kit.db import unit_of_work
from app.kit.importing import ImportReport
from app.people.importers import import_liaisons, import_reporters, read_reporters
from app.people.models import Liaison, Reporter
from tests.support import data_file

REPORTERS = "phone,name,home_place_id,language,role\n"
LIAISONS = "phone,name,zones,tier,language\n"


def write(tmp_path: Path, name: str, content: str) -> Path:
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    return path


async def load_gazetteer(sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    async with unit_of_work(sessionmaker) as session:
        await import_places(session, data_file("gazetteer_drc_east.csv"))


async def reporters_from(
    sessionmaker: async_sessionmaker[AsyncSession], path: Path
) -> ImportReport:
    async with unit_of_work(sessionmaker) as session:
        return await import_reporters(session, path, "CD")


async def liaisons_from(sessionmaker: async_sessionmaker[AsyncSession], path: Path) -> ImportReport:
    async with unit_of_work(sessionmaker) as session:
        return await import_liaisons(session, path, "CD")


async def reporter(sessionmaker: async_sessionmaker[AsyncSession], phone: str) -> Reporter | None:
    async with sessionmaker() as session:
        return await session.scalar(select(Reporter).where(Reporter.phone == phone))


async def count(sessionmaker: async_sessionmaker[AsyncSession], model: type) -> int:
    async with sessionmaker() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def test_shared_rosters_import_once_then_stay_unchanged(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    await load_gazetteer(sessionmaker)
    reporters, liaisons = data_file("reporters.csv"), data_file("liaisons.csv")
    first = await reporters_from(sessionmaker, reporters)
    assert first.counts() == {"created": 20, "updated": 0, "unchanged": 0, "rejected": 0}
    assert (await liaisons_from(sessionmaker, liaisons)).counts()["created"] == 13
    again = await reporters_from(sessionmaker, reporters)
    assert again.counts() == {"created": 0, "updated": 0, "unchanged": 20, "rejected": 0}
    assert (await liaisons_from(sessionmaker, liaisons)).counts()["unchanged"] == 13
    assert (await count(sessionmaker, Reporter), await count(sessionmaker, Liaison)) == (20, 13)

    oicha = await reporter(sessionmaker, "+243810000102")
    assert oicha is not None
    assert (oicha.home_place_id, oicha.language, oicha.role, oicha.verified) == (
        "oicha",
        "sw",
        "focal_point",
        True,
    )
    async with sessionmaker() as session:
        joc = await session.scalar(select(Liaison).where(Liaison.phone == "+243830000302"))
    assert joc is not None
    assert (joc.tier, joc.zones) == ("joc", ["Irumu", "Djugu", "Mambasa", "Mahagi", "Aru"])


async def test_local_and_international_spellings_become_e164(
    sessionmaker: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    await load_gazetteer(sessionmaker)
    path = write(
        tmp_path,
        "r.csv",
        REPORTERS
        + "0810000101,Mavivi,mavivi,fr,focal_point\n"
        + "00243 81 000 0102,Oicha,oicha,sw,focal_point\n"
        + '"+243 (0)81-000-0103",Eringeti,eringeti,sw,focal_point\n'
        + "810000104,Mbau,mbau,fr,focal_point\n",
    )
    report = await reporters_from(sessionmaker, path)
    assert report.rejected == []
    assert report.created == ["+243810000101", "+243810000102", "+243810000103", "+243810000104"]
    # The same people written in E.164 are the same rows.
    same = write(tmp_path, "r2.csv", REPORTERS + "+243810000101,Mavivi,mavivi,fr,focal_point\n")
    assert (await reporters_from(sessionmaker, same)).unchanged == ["+243810000101"]


async def test_bad_rows_are_rejected_with_line_numbers_and_masked_phones(
    sessionmaker: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    await load_gazetteer(sessionmaker)
    path = write(
        tmp_path,
        "r.csv",
        "phone,name,home_place_id,language,role,opted_out\n"
        + "+243810000101,Mavivi,mavivi,fr,focal_point,\n"  # 2 good
        + "+2438100,Short,mavivi,fr,focal_point,\n"  # 3 invalid phone
        + "+243810000103,Nowhere,atlantis,fr,focal_point,\n"  # 4 unknown home place
        + "+243810000104,German,mbau,de,focal_point,\n"  # 5 unknown language
        + "+243810000105,,kamango,fr,focal_point,\n"  # 6 missing name
        + "0810000101,Mavivi twice,mavivi,fr,focal_point,\n"  # 7 same phone as line 2
        + "+243810000107,Maybe,rutshuru,fr,focal_point,perhaps\n"  # 8 bad yes/no
        + "+243810000108,Ghost,sake,fr,unregistered,\n"  # 9 cannot import unregistered
        + ",No phone,sake,fr,focal_point,\n"  # 10 empty phone
        + "+243810000110,Djugu,djugu,SW,Focal point,oui\n",  # 11 good, spelled loosely
    )
    report = await reporters_from(sessionmaker, path)
    assert report.created == ["+243810000101", "+243810000110"]
    assert [(r.line, r.reason.split(" (")[0].split(":")[0]) for r in report.rejected] == [
        (3, "invalid phone"),
        (4, "unknown home place 'atlantis'"),
        (5, "unknown language 'de'"),
        (6, "missing name"),
        (7, "duplicate phone +243••••••101"),
        (8, "opted_out"),
        (9, "role 'unregistered' cannot be imported"),
        (10, "invalid phone"),
    ]
    text = "\n".join(str(r) for r in report.rejected)
    assert "+2438100" not in text.replace("•", ""), "phone numbers are masked"
    assert "+243810000101" not in text
    djugu = await reporter(sessionmaker, "+243810000110")
    assert djugu is not None
    assert (djugu.language, djugu.role, djugu.opted_out) == ("sw", "focal_point", True)
    assert await count(sessionmaker, Reporter) == 2


async def test_an_unknown_sender_becomes_a_registered_focal_point(
    sessionmaker: async_sessionmaker[AsyncSession], session: AsyncSession, tmp_path: Path
) -> None:
    await load_gazetteer(sessionmaker)
    session.add(Reporter(phone="+243810000101", name="", role="unregistered", verified=False))
    await session.commit()
    path = write(tmp_path, "r.csv", REPORTERS + "0810000101,Focal point Mavivi,mavivi,sw,\n")
    report = await reporters_from(sessionmaker, path)
    assert (report.created, report.updated) == ([], ["+243810000101"])
    registered = await reporter(sessionmaker, "+243810000101")
    assert registered is not None
    assert (registered.name, registered.role, registered.verified) == (
        "Focal point Mavivi",
        "focal_point",
        True,
    )
    assert (registered.home_place_id, registered.language) == ("mavivi", "sw")
    assert await count(sessionmaker, Reporter) == 1


async def test_reimporting_a_roster_keeps_an_opt_out_and_duty_changes(
    sessionmaker: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    await load_gazetteer(sessionmaker)
    reporters = write(tmp_path, "r.csv", REPORTERS + "+243810000101,Mavivi,mavivi,fr,focal_point\n")
    liaisons = write(
        tmp_path, "l.csv", LIAISONS + "+243820000201,CLA Beni,Beni|Lubero,liaison,fr\n"
    )
    await reporters_from(sessionmaker, reporters)
    await liaisons_from(sessionmaker, liaisons)
    async with unit_of_work(sessionmaker) as session:
        found = await session.scalar(select(Reporter))
        cla = await session.scalar(select(Liaison))
        assert found is not None and cla is not None
        found.opted_out = True  # texted STOP
        cla.on_duty = False  # texted OFF
    assert (await reporters_from(sessionmaker, reporters)).unchanged == ["+243810000101"]
    assert (await liaisons_from(sessionmaker, liaisons)).unchanged == ["+243820000201"]
    kept = await reporter(sessionmaker, "+243810000101")
    assert kept is not None and kept.opted_out is True
    async with sessionmaker() as session:
        cla = await session.scalar(select(Liaison))
    assert cla is not None and cla.on_duty is False


async def test_liaison_rows_are_checked(
    sessionmaker: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    await load_gazetteer(sessionmaker)
    path = write(
        tmp_path,
        "l.csv",
        "phone,name,zones,tier,language,on_duty\n"
        + "0820000201,CLA Beni, Beni | Lubero ||,liaison,fr,no\n"  # 2 good
        + "+243820000202,CLA Oicha,Beni,boss,sw,\n"  # 3 unknown tier
        + "+243820000203,CLA Rutshuru,Rutshuru,liaison,kl,\n"  # 4 unknown language
        + "12,CLA Masisi,Masisi,liaison,sw,\n"  # 5 invalid phone
        + "+243830000301,JOC,beni|nord-kivu,JOC,fr,\n"  # 6 good
        + "+243820000209,CLA Atlantis,Beni|Atlantis,liaison,fr,\n",  # 7 unknown zone
    )
    report = await liaisons_from(sessionmaker, path)
    assert report.created == ["+243820000201", "+243830000301"]
    assert [(r.line, r.reason.split(" (")[0]) for r in report.rejected] == [
        (3, "unknown tier 'boss'"),
        (4, "unknown language 'kl'"),
        (5, "invalid phone"),
        (7, "unknown zone 'Atlantis': no territoire or province of the gazetteer"),
    ]
    async with sessionmaker() as session:
        joc = await session.scalar(select(Liaison).where(Liaison.phone == "+243830000301"))
    assert joc is not None and joc.zones == ["Beni", "Nord-Kivu"]  # as the gazetteer spells them
    async with sessionmaker() as session:
        cla = await session.scalar(select(Liaison).where(Liaison.phone == "+243820000201"))
    assert cla is not None
    assert (cla.zones, cla.on_duty, cla.tier) == (["Beni", "Lubero"], False, "liaison")


def test_a_roster_without_its_columns_is_unreadable(tmp_path: Path) -> None:
    path = write(tmp_path, "r.csv", "telephone,nom\n+243810000101,Mavivi\n")
    try:
        read_reporters(path)
    except Exception as exc:
        assert "missing required column(s): phone, name, home_place_id" in str(exc)
    else:
        raise AssertionError("a file without the phone column must not import")


async def test_demo_data_loads_idempotently(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    first = await load_demo_data(sessionmaker)
    assert {kind: r.counts()["created"] for kind, r in first.items()} == {
        "places": 150,
        "reporters": 20,
        "liaisons": 13,
    }
    assert all(not r.rejected for r in first.values())
    second = await load_demo_data(sessionmaker)
    assert all(r.created == [] and r.updated == [] for r in second.values())
    assert await count(sessionmaker, Reporter) == 20
