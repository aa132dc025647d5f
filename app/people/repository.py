"""SQL for reporters and liaisons."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TypeVar

from sqlalchemy import ColumnElement, bindparam, func, literal, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.kit.crypto import lookup_hash
from app.kit.repository import by_keys, oldest_first
from app.people.models import Liaison, Reporter

Person = TypeVar("Person", Reporter, Liaison)


# Built once: the number's lookup hash is bound. Every inbound message asks for both kinds
# of person at once, in one round trip: one row (phone_hash is unique in each table), None
# where the number is not that kind of person.
_REPORTER_BY_HASH = select(Reporter).where(Reporter.phone_hash == bindparam("phone_hash"))
_ASKED = select(literal(1).label("asked")).subquery("asked")
_PEOPLE_BY_HASH = (
    select(Reporter, Liaison)
    .select_from(_ASKED)
    .outerjoin(Reporter, Reporter.phone_hash == bindparam("phone_hash"))
    .outerjoin(Liaison, Liaison.phone_hash == bindparam("phone_hash"))
)


async def people_by_phone(
    session: AsyncSession, phone: str
) -> tuple[Reporter | None, Liaison | None]:
    """The reporter and the liaison with this E.164 number (None where there is none)."""
    row = (await session.execute(_PEOPLE_BY_HASH, {"phone_hash": lookup_hash(phone)})).one()
    return row[0], row[1]


async def reporter_by_phone(session: AsyncSession, phone: str) -> Reporter | None:
    """The reporter registered (or first seen) with this E.164 number."""
    return await session.scalar(_REPORTER_BY_HASH, {"phone_hash": lookup_hash(phone)})


async def active_liaisons(session: AsyncSession) -> Sequence[Liaison]:
    """Every active liaison and JOC officer."""
    return (await session.scalars(select(Liaison).where(Liaison.active.is_(True)))).all()


async def reporters_by_phones(session: AsyncSession, phones: Iterable[str]) -> dict[str, Reporter]:
    """The reporters having any of these E.164 numbers, by number."""
    return await by_keys(session, Reporter, Reporter.phone, phones)


async def liaisons_by_phones(session: AsyncSession, phones: Iterable[str]) -> dict[str, Liaison]:
    """The liaisons having any of these E.164 numbers, by number."""
    return await by_keys(session, Liaison, Liaison.phone, phones)


async def add_people(session: AsyncSession, people: Iterable[Reporter | Liaison]) -> None:
    """Stage new reporters or liaisons and flush them (the caller's unit of work commits)."""
    session.add_all(list(people))
    await session.flush()


async def count_reporters(session: AsyncSession) -> int:
    """Number of reporters, registered or not."""
    return int(await session.scalar(select(func.count(Reporter.id))) or 0)


async def count_liaisons(session: AsyncSession) -> int:
    """Number of liaisons and JOC officers."""
    return int(await session.scalar(select(func.count(Liaison.id))) or 0)


async def get_person(session: AsyncSession, model: type[Person], person_id: int) -> Person | None:
    """The reporter or liaison with this id."""
    return await session.get(model, person_id)


async def person_by_phone(session: AsyncSession, model: type[Person], phone: str) -> Person | None:
    """The reporter or liaison with this E.164 number."""
    found: Person | None = await session.scalar(select(model).where(model.phone == phone))
    return found


async def list_people(
    session: AsyncSession,
    model: type[Person],
    *,
    q: str | None = None,
    after: int | None = None,
    limit: int = 50,
    where: Sequence[ColumnElement[bool]] = (),
    phone: str | None = None,
) -> Sequence[Person]:
    """Reporters or liaisons by id, after the id `after`; `q` is part of a name, or a whole
    number (`phone`, its E.164 form: numbers are encrypted, found by their keyed hash only)."""
    query = oldest_first(select(model).where(*where), model.id, after, limit)
    if q:
        by_name = model.name.icontains(q, autoescape=True)
        query = query.where(or_(by_name, model.phone == phone) if phone else by_name)
    return (await session.scalars(query)).all()


async def count_home(session: AsyncSession, place_id: str) -> int:
    """Number of reporters whose home is this place."""
    query = select(func.count(Reporter.id)).where(Reporter.home_place_id == place_id)
    return int(await session.scalar(query) or 0)


async def home_place_ids(session: AsyncSession) -> set[str]:
    """The home places of the registered focal points."""
    rows = await session.scalars(
        select(Reporter.home_place_id).where(Reporter.home_place_id.is_not(None)).distinct()
    )
    return {r for r in rows if r}


async def on_duty(session: AsyncSession, tier: str) -> Sequence[Liaison]:
    """Active, on-duty liaisons of a tier (`liaison`, `joc`), in a stable order."""
    if any(isinstance(row, Liaison) for row in (*session.new, *session.dirty, *session.deleted)):
        # A liaison changed in this transaction: flush it first, so the roster shows it.
        return (await session.scalars(_ON_DUTY, {"tier": tier})).all()
    # Nothing else pending (alerts, events, pages) changes the roster: no flush for it, so
    # a new alert's rows go in with the transaction's last flush, together.
    with session.no_autoflush:
        return (await session.scalars(_ON_DUTY, {"tier": tier})).all()


_ON_DUTY = (
    select(Liaison)
    .where(Liaison.tier == bindparam("tier"), Liaison.active.is_(True), Liaison.on_duty.is_(True))
    .order_by(Liaison.id)
)
