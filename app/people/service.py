"""Who sent a message: a registered focal point, a liaison, or an unknown number; and the
administration of focal points and liaisons (every change recorded in the audit log)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit import service as audit
from app.geo import repository as places_repo
from app.geo.matcher import Gazetteer
from app.kit.errors import Conflict, NotFound, Unprocessable
from app.kit.importing import assign_changed
from app.kit.phones import InvalidPhone, mask, to_e164
from app.people import repository as repo
from app.people.models import Liaison, Reporter
from app.people.repository import Person
from app.people.schemas import LiaisonCreate, LiaisonUpdate, ReporterCreate, ReporterUpdate
from app.triage.types import Sender

UNREGISTERED = "unregistered"


@dataclass(frozen=True)
class Identity:
    """The sender as the database knows it, and what triage may know of them."""

    phone: str
    reporter: Reporter | None
    liaison: Liaison | None
    sender: Sender

    @property
    def registered(self) -> bool:
        """A registered focal point or a liaison (not a number first seen by texting)."""
        return self.sender.known


def is_registered(reporter: Reporter | None) -> bool:
    """Whether this reporter was registered (imported), not just seen."""
    return reporter is not None and reporter.role != UNREGISTERED and reporter.active


async def identify(session: AsyncSession, phone: str, gazetteer: Gazetteer) -> Identity:
    """Look the E.164 `phone` up among reporters and liaisons."""
    reporter = await repo.reporter_by_phone(session, phone)
    liaison = await repo.liaison_by_phone(session, phone)
    if liaison is not None and not liaison.active:
        liaison = None
    if reporter is not None and is_registered(reporter):
        home = gazetteer.get(reporter.home_place_id) if reporter.home_place_id else None
        sender = Sender(
            known=True, verified=reporter.verified, home=home, language=reporter.language
        )
        return Identity(phone, reporter, liaison, sender)
    if liaison is not None:
        sender = Sender(known=True, verified=True, language=liaison.language)
        return Identity(phone, reporter, liaison, sender)
    return Identity(phone, reporter, None, Sender(known=False, verified=False))


def add_unregistered(session: AsyncSession, phone: str, language: str | None) -> Reporter:
    """Remember a number first seen by texting (for its language and opt-out)."""
    reporter = Reporter(
        phone=phone[:20],
        name="",
        language=language or "fr",
        role=UNREGISTERED,
        verified=False,
        active=True,
        opted_out=False,
    )
    session.add(reporter)
    return reporter


# --- administration ---------------------------------------------------------------------


def _e164(raw: str, region: str) -> str:
    try:
        return to_e164(raw, region)
    except InvalidPhone as exc:
        raise Unprocessable(f"phone: {exc}") from None  # the message masks the number


async def _check_home(session: AsyncSession, place_id: str | None) -> None:
    if place_id is not None and await places_repo.get(session, place_id) is None:
        raise Unprocessable(f"home_place_id: no place {place_id!r} in the gazetteer")


async def _known_zones(session: AsyncSession, zones: list[str]) -> list[str]:
    # A misspelt zone would silently page nobody: zones must be names of the gazetteer.
    names = await places_repo.admin_names(session)
    unknown = [zone for zone in zones if zone.lower() not in names]
    if unknown:
        listed = ", ".join(map(repr, unknown))
        raise Unprocessable(f"zones: {listed} is no territoire or province of the gazetteer")
    return list(dict.fromkeys(names[zone.lower()] for zone in zones))


async def _flush(session: AsyncSession, kind: str, phone: str) -> None:
    # Two requests may register one number at once: the unique index settles it.
    try:
        await session.flush()
    except IntegrityError:
        raise Conflict(f"another {kind} already has the number {mask(phone)}") from None


def _audit(
    session: AsyncSession,
    actor: str,
    action: str,
    person: Reporter | Liaison,
    fields: Iterable[str],
) -> None:
    kind = "reporter" if isinstance(person, Reporter) else "liaison"
    audit.record(
        session,
        actor=actor,
        action=f"{kind}.{action}",
        target_type=kind,
        target_id=person.id,
        detail={"fields": sorted(fields)},  # names only: values may be phone numbers
    )


async def _changed_phone(
    session: AsyncSession,
    values: dict[str, Any],
    region: str,
    lookup: Callable[[AsyncSession, str], Awaitable[Reporter | Liaison | None]],
    person_id: int | None,
) -> None:
    """Normalise values["phone"] in place; 409 when another person of the kind has it."""
    if "phone" not in values:
        return
    values["phone"] = phone = _e164(values["phone"], region)
    other = await lookup(session, phone)
    if other is not None and other.id != person_id:
        if isinstance(other, Reporter) and person_id is None and other.role == UNREGISTERED:
            return  # registering a number first seen by texting: the caller takes that row
        kind = "reporter" if isinstance(other, Reporter) else "liaison"
        raise Conflict(f"{kind} {other.id} already has the number {mask(phone)}")


async def list_reporters(
    session: AsyncSession,
    *,
    q: str | None,
    active: bool | None,
    place: str | None,
    after: int | None,
    limit: int,
) -> Sequence[Reporter]:
    """Focal points (and numbers first seen by texting) in the order they were added."""
    where: list[ColumnElement[bool]] = []
    if active is not None:
        where.append(Reporter.active.is_(active))
    if place is not None:
        where.append(Reporter.home_place_id == place)
    return await repo.list_people(session, Reporter, q=q, after=after, limit=limit, where=where)


async def get_reporter(session: AsyncSession, reporter_id: int) -> Reporter:
    """The reporter with this id (404 otherwise)."""
    reporter = await repo.get_reporter(session, reporter_id)
    if reporter is None:
        raise NotFound(f"no reporter {reporter_id}")
    return reporter


async def create_reporter(
    session: AsyncSession, body: ReporterCreate, *, region: str, actor: str
) -> Reporter:
    """Register a focal point; a number first seen by texting becomes this focal point
    (its row, and the alerts it sent, are kept); any other known number is a 409."""
    values = body.model_dump()
    await _changed_phone(session, values, region, repo.reporter_by_phone, None)
    await _check_home(session, body.home_place_id)
    reporter = await repo.reporter_by_phone(session, values["phone"])
    if reporter is None:
        reporter = Reporter(**values)
        session.add(reporter)
    else:
        assign_changed(reporter, values)
    await _flush(session, "reporter", values["phone"])
    _audit(session, actor, "create", reporter, values)
    return reporter


async def update_reporter(
    session: AsyncSession, reporter_id: int, body: ReporterUpdate, *, region: str, actor: str
) -> Reporter:
    """Change the fields given (409 when the new number is another reporter's)."""
    reporter = await get_reporter(session, reporter_id)
    values = body.model_dump(exclude_unset=True)
    await _changed_phone(session, values, region, repo.reporter_by_phone, reporter.id)
    if "home_place_id" in values:
        await _check_home(session, values["home_place_id"])
    return await _apply(session, reporter, values, actor)


async def _apply(
    session: AsyncSession, person: Person, values: dict[str, Any], actor: str
) -> Person:
    changed = [name for name, value in values.items() if getattr(person, name) != value]
    if changed:
        assign_changed(person, values)
        await _flush(session, type(person).__name__.lower(), person.phone)
        _audit(session, actor, "update", person, changed)
    return person


async def deactivate_reporter(session: AsyncSession, reporter_id: int, *, actor: str) -> Reporter:
    """Deactivate a focal point: their texts are treated as from an unknown number, their
    past alerts keep them; PATCH active=true brings them back."""
    reporter = await get_reporter(session, reporter_id)
    if reporter.active:
        reporter.active = False
        _audit(session, actor, "deactivate", reporter, ["active"])
        await session.flush()
    return reporter


async def reveal_phone(session: AsyncSession, reporter_id: int, *, actor: str) -> Reporter:
    """A focal point's full number; who asked is recorded in the audit log."""
    reporter = await get_reporter(session, reporter_id)
    audit.record(
        session,
        actor=actor,
        action="reveal_phone",
        target_type="reporter",
        target_id=reporter.id,
    )
    await session.flush()
    return reporter


async def list_liaisons(
    session: AsyncSession,
    *,
    q: str | None,
    active: bool | None,
    on_duty: bool | None,
    tier: str | None,
    after: int | None,
    limit: int,
) -> Sequence[Liaison]:
    """Liaisons and JOC officers in the order they were added."""
    where: list[ColumnElement[bool]] = []
    if active is not None:
        where.append(Liaison.active.is_(active))
    if on_duty is not None:
        where.append(Liaison.on_duty.is_(on_duty))
    if tier is not None:
        where.append(Liaison.tier == tier)
    return await repo.list_people(session, Liaison, q=q, after=after, limit=limit, where=where)


async def get_liaison(session: AsyncSession, liaison_id: int) -> Liaison:
    """The liaison with this id (404 otherwise)."""
    liaison = await repo.get_liaison(session, liaison_id)
    if liaison is None:
        raise NotFound(f"no liaison {liaison_id}")
    return liaison


async def create_liaison(
    session: AsyncSession, body: LiaisonCreate, *, region: str, actor: str
) -> Liaison:
    """Add a liaison or JOC officer (409 when the number is another liaison's)."""
    values = body.model_dump()
    await _changed_phone(session, values, region, repo.liaison_by_phone, None)
    values["zones"] = await _known_zones(session, values["zones"])
    liaison = Liaison(**values)
    session.add(liaison)
    await _flush(session, "liaison", values["phone"])
    _audit(session, actor, "create", liaison, values)
    return liaison


async def update_liaison(
    session: AsyncSession, liaison_id: int, body: LiaisonUpdate, *, region: str, actor: str
) -> Liaison:
    """Change the fields given, duty included (409 when the new number is another's)."""
    liaison = await get_liaison(session, liaison_id)
    values = body.model_dump(exclude_unset=True)
    await _changed_phone(session, values, region, repo.liaison_by_phone, liaison.id)
    if "zones" in values:
        values["zones"] = await _known_zones(session, values["zones"])
    return await _apply(session, liaison, values, actor)


async def deactivate_liaison(session: AsyncSession, liaison_id: int, *, actor: str) -> Liaison:
    """Deactivate a liaison: never paged again, their SMS commands no longer accepted."""
    liaison = await get_liaison(session, liaison_id)
    if liaison.active:
        liaison.active = False
        _audit(session, actor, "deactivate", liaison, ["active"])
        await session.flush()
    return liaison
