"""Who sent a message: a registered focal point, a liaison, or an unknown number; and the
administration of focal points and liaisons (every change recorded in the audit log)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit import service as audit
from app.channels import service as channels
from app.geo import service as places
from app.geo.matcher import Gazetteer
from app.kit.errors import Conflict, Unprocessable
from app.kit.importing import assign_changed
from app.kit.phones import InvalidPhone, mask, to_e164, try_e164
from app.kit.repository import get_or_raise
from app.people import repository as repo
from app.people.importers import canonical_zones
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
    # Whether the sender is a number (app.kit.phones.reply_number): one that is not gets no
    # reply and is not remembered as a reporter.
    numbered: bool = True

    @property
    def registered(self) -> bool:
        """A registered focal point or a liaison (not a number first seen by texting)."""
        return self.sender.known


def nobody(sender: str) -> Identity:
    """A sender that is no number (empty, spaces, a name): nobody the database knows, nobody
    to answer or to remember; its message is filed all the same."""
    return Identity(sender, None, None, Sender(known=False, verified=False), numbered=False)


def is_registered(reporter: Reporter | None) -> bool:
    """Whether this reporter was registered (imported), not just seen."""
    return reporter is not None and reporter.role != UNREGISTERED and reporter.active


async def identify(session: AsyncSession, phone: str, gazetteer: Gazetteer) -> Identity:
    """Look the E.164 `phone` up among reporters and liaisons."""
    reporter, liaison = await repo.people_by_phone(session, phone)
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


def kind_of(person: Reporter | Liaison | type[Reporter] | type[Liaison]) -> str:
    """ "reporter" or "liaison": how errors and the audit log name the kind."""
    model = person if isinstance(person, type) else type(person)
    return "reporter" if model is Reporter else "liaison"


def _e164(raw: str, region: str) -> str:
    try:
        return to_e164(raw, region)
    except InvalidPhone as exc:
        raise Unprocessable(f"phone: {exc}") from None  # the message masks the number


async def _check_home(session: AsyncSession, values: dict[str, Any]) -> None:
    place_id = values.get("home_place_id")
    if place_id is not None and await places.find_place(session, place_id) is None:
        raise Unprocessable(f"home_place_id: no place {place_id!r} in the gazetteer")


async def _check_zones(session: AsyncSession, values: dict[str, Any]) -> None:
    # A misspelt zone would silently page nobody: zones must be names of the gazetteer,
    # and are stored as the gazetteer spells them.
    if "zones" not in values:
        return
    zones, unknown = canonical_zones(await places.admin_names(session), values["zones"])
    if unknown:
        listed = ", ".join(map(repr, unknown))
        raise Unprocessable(f"zones: {listed} is no territoire or province of the gazetteer")
    values["zones"] = zones


async def _check_channels(session: AsyncSession, values: dict[str, Any]) -> None:
    # A misspelt channel would be skipped by every page: the names must exist.
    if not values.get("channels"):
        return
    values["channels"] = list(dict.fromkeys(values["channels"]))
    unknown = [n for n in values["channels"] if await channels.find(session, n) is None]
    if unknown:
        raise Unprocessable(f"channels: no channel named {', '.join(unknown)}")


def _check_coverage(tier: str, zones: list[str]) -> None:
    # A liaison with no zone would never be paged for any alert: a silent gap in the roster.
    if tier == "liaison" and not zones:
        raise Unprocessable("zones: a liaison needs at least one territoire or province")


async def _flush(session: AsyncSession, person: Reporter | Liaison) -> None:
    # Two requests may register one number at once: the unique index settles it.
    try:
        await session.flush()
    except IntegrityError:
        number = mask(person.phone)
        raise Conflict(f"another {kind_of(person)} already has the number {number}") from None


def _audit(
    session: AsyncSession,
    actor: str,
    action: str,
    person: Reporter | Liaison,
    fields: Iterable[str],
) -> None:
    kind = kind_of(person)
    audit.record(
        session,
        actor=actor,
        action=f"{kind}.{action}",
        target_type=kind,
        target_id=person.id,
        detail={"fields": sorted(fields)},  # names only: values may be phone numbers
    )


async def _take_phone(
    session: AsyncSession, model: type[Person], values: dict[str, Any], region: str
) -> Person | None:
    """Normalise values["phone"] (when given); the person of `model` who has it already."""
    if "phone" not in values:
        return None
    values["phone"] = _e164(values["phone"], region)
    return await repo.person_by_phone(session, model, values["phone"])


def _taken(other: Reporter | Liaison) -> Conflict:
    return Conflict(f"{kind_of(other)} {other.id} already has the number {mask(other.phone)}")


async def list_people(
    session: AsyncSession,
    model: type[Person],
    *,
    q: str | None,
    equals: Mapping[str, object],
    after: int | None,
    limit: int,
) -> list[Person]:
    """Reporters or liaisons in the order they were added; `equals` filters on columns (None
    values are no filter)."""
    where = [getattr(model, name) == value for name, value in equals.items() if value is not None]
    # Numbers are encrypted: a search finds one by its whole number, in any local writing.
    phone = try_e164(q) if q else None
    rows = await repo.list_people(
        session, model, q=q, after=after, limit=limit, where=where, phone=phone
    )
    return list(rows)


async def get_person(session: AsyncSession, model: type[Person], person_id: int) -> Person:
    """The reporter or liaison with this id (404 otherwise)."""
    return await get_or_raise(session, model, person_id, kind_of(model))


async def create_reporter(
    session: AsyncSession, body: ReporterCreate, *, region: str, actor: str
) -> Reporter:
    """Register a focal point; a number first seen by texting becomes this focal point
    (its row, and the alerts it sent, are kept); any other known number is a 409."""
    values = body.model_dump()
    reporter = await _take_phone(session, Reporter, values, region)
    if reporter is not None and reporter.role != UNREGISTERED:
        raise _taken(reporter)
    await _check_home(session, values)
    if reporter is None:
        reporter = Reporter(**values)
        session.add(reporter)
    else:
        assign_changed(reporter, values)
    await _flush(session, reporter)
    _audit(session, actor, "create", reporter, values)
    return reporter


async def create_liaison(
    session: AsyncSession, body: LiaisonCreate, *, region: str, actor: str
) -> Liaison:
    """Add a liaison or JOC officer (409 when the number is another liaison's)."""
    values = body.model_dump()
    other = await _take_phone(session, Liaison, values, region)
    if other is not None:
        raise _taken(other)
    await _check_zones(session, values)
    await _check_channels(session, values)
    _check_coverage(values.get("tier") or "liaison", values.get("zones") or [])
    liaison = Liaison(**values)
    session.add(liaison)
    await _flush(session, liaison)
    _audit(session, actor, "create", liaison, values)
    return liaison


async def update_person(
    session: AsyncSession,
    model: type[Person],
    person_id: int,
    body: ReporterUpdate | LiaisonUpdate,
    *,
    region: str,
    actor: str,
) -> Person:
    """Change the fields given (409 when the new number is another person's of the kind)."""
    person = await get_person(session, model, person_id)
    values = body.model_dump(exclude_unset=True)
    other = await _take_phone(session, model, values, region)
    if other is not None and other.id != person.id:
        raise _taken(other)
    await _check_home(session, values)
    await _check_zones(session, values)
    await _check_channels(session, values)
    if isinstance(person, Liaison):
        _check_coverage(values.get("tier", person.tier), values.get("zones", person.zones))
    changed = [name for name, value in values.items() if getattr(person, name) != value]
    if changed:
        assign_changed(person, values)
        await _flush(session, person)
        _audit(session, actor, "update", person, changed)
    return person


async def deactivate(
    session: AsyncSession, model: type[Person], person_id: int, *, actor: str
) -> Person:
    """Deactivate a reporter (their texts then count as from an unknown number) or a
    liaison (never paged again); their past alerts and pages keep them."""
    person = await get_person(session, model, person_id)
    if person.active:
        person.active = False
        await session.flush()
        _audit(session, actor, "deactivate", person, ["active"])
    return person


async def reveal_phone(session: AsyncSession, reporter_id: int, *, actor: str) -> Reporter:
    """A focal point's full number; who asked is recorded in the audit log."""
    reporter = await get_person(session, Reporter, reporter_id)
    audit.record(
        session, actor=actor, action="reveal_phone", target_type="reporter", target_id=reporter.id
    )
    await session.flush()
    return reporter


async def served_area(session: AsyncSession) -> tuple[frozenset[str], tuple[str, ...]]:
    """The zones the active liaisons serve, and the focal points' home places (sorted): what
    the place index favours (app.geo.service.GazetteerCache)."""
    liaisons = await repo.active_liaisons(session)
    served = frozenset(zone for liaison in liaisons for zone in liaison.zones)
    return served, tuple(sorted(await repo.home_place_ids(session)))


async def check_not_home(session: AsyncSession, place_id: str) -> None:
    """A 409 while the place is a focal point's home (move them first: it locates their
    reports)."""
    homes = await repo.count_home(session, place_id)
    if homes:
        raise Conflict(
            f"place {place_id!r} is the home of {homes} focal point(s); "
            "change their home_place_id first"
        )


async def find_person(session: AsyncSession, model: type[Person], person_id: int) -> Person | None:
    """The reporter or liaison with this id, or None."""
    return await repo.get_person(session, model, person_id)


async def reporter_by_phone(session: AsyncSession, phone: str) -> Reporter | None:
    """The reporter registered (or first seen) with this E.164 number."""
    return await repo.reporter_by_phone(session, phone)


async def on_duty(session: AsyncSession, tier: str) -> Sequence[Liaison]:
    """Active, on-duty liaisons of a tier (`liaison`, `joc`), in a stable order."""
    return await repo.on_duty(session, tier)


async def liaisons_by_phones(session: AsyncSession, phones: Iterable[str]) -> dict[str, Liaison]:
    """The liaisons and JOC officers (on duty or not, active or not) having these E.164
    numbers, by number."""
    return await repo.liaisons_by_phones(session, phones)


def pageable(liaison: Liaison) -> bool:
    """Whether the liaison may be paged: active and on duty (as `on_duty` lists them)."""
    return liaison.active and liaison.on_duty


async def find_reporter(session: AsyncSession, reporter_id: int) -> Reporter | None:
    """The reporter with this id, or None."""
    return await repo.get_person(session, Reporter, reporter_id)
