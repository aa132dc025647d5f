"""An inbound number is looked up among focal points and liaisons at once: either, both (a
liaison who is also a registered focal point), or neither."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.people import repository as repo
from app.people.models import Liaison, Reporter


async def test_a_number_is_found_as_reporter_liaison_both_or_neither(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    async with sessionmaker() as session, session.begin():
        session.add_all(
            [
                Reporter(phone="+243810000001", name="Amani", role="focal_point"),
                Liaison(phone="+243810000002", name="Baraka", tier="liaison", zones=["Beni"]),
                Reporter(phone="+243810000003", name="Chance", role="focal_point"),
                Liaison(phone="+243810000003", name="Chance", tier="joc", zones=[]),
            ]
        )
    async with sessionmaker() as session:
        reporter, liaison = await repo.people_by_phone(session, "+243810000001")
        assert reporter is not None and reporter.name == "Amani" and liaison is None

        reporter, liaison = await repo.people_by_phone(session, "+243810000002")
        assert reporter is None and liaison is not None and liaison.name == "Baraka"

        reporter, liaison = await repo.people_by_phone(session, "+243810000003")
        assert reporter is not None and liaison is not None
        assert (reporter.phone, liaison.tier) == ("+243810000003", "joc")

        assert await repo.people_by_phone(session, "+243810000004") == (None, None)
