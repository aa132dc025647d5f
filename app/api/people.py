"""Reporters and liaisons API (admin), and revealing a reporter's number (operator).

Reporters and liaisons are never deleted through the API: DELETE deactivates them (their past
alerts and pages keep pointing at them) and PATCH active=true brings them back."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated

from fastapi import APIRouter, Depends, Query

from app.alerts import reliability
from app.alerts.reliability import Reliability
from app.api.deps import Admin, Gazetteers, Operator, SessionDep, SettingsDep
from app.flows import roster
from app.kit.errors import errors_doc
from app.kit.ids import Id
from app.kit.pagination import Page, decode_id, next_id_cursor
from app.kit.text import NO_CONTROL
from app.people import service
from app.people.models import Liaison, Reporter
from app.people.schemas import (
    DutyUpdate,
    LiaisonCreate,
    LiaisonRead,
    LiaisonUpdate,
    PhoneRevealed,
    ReliabilityRead,
    ReporterCreate,
    ReporterRead,
    ReporterUpdate,
    Tier,
)

router = APIRouter(prefix="/api/v1", tags=["people"])


def _region(settings: SettingsDep) -> str:
    # Local numbers ("0810000101") are read in the gateway's region, as the importers do.
    return str(settings.default_region)


Region = Annotated[str, Depends(_region)]
Limit = Annotated[int, Query(ge=1, le=500)]
Search = Annotated[
    str | None,
    Query(
        max_length=200,
        pattern=NO_CONTROL,
        description="part of a name, or a whole number (numbers are encrypted)",
    ),
]


def _after(cursor: str | None) -> int | None:
    return decode_id(cursor) if cursor else None


# --- reporters --------------------------------------------------------------------------


@router.get("/reporters", response_model=Page[ReporterRead], responses=errors_doc(400))
async def list_reporters(
    session: SessionDep,
    _: Admin,
    q: Search = None,
    active: bool | None = None,
    place: Annotated[
        str | None, Query(max_length=64, pattern=NO_CONTROL, description="home place id")
    ] = None,
    cursor: str | None = None,
    limit: Limit = 50,
) -> Page[ReporterRead]:
    """Focal points (and numbers first seen by texting, role "unregistered"), oldest first."""
    equals = {"active": active, "home_place_id": place}
    rows = await service.list_people(
        session, Reporter, q=q, equals=equals, after=_after(cursor), limit=limit
    )
    return Page[ReporterRead](
        items=await _with_reliability(session, rows), next_cursor=next_id_cursor(rows, limit)
    )


@router.get("/reporters/{reporter_id}", response_model=ReporterRead, responses=errors_doc(404))
async def get_reporter(reporter_id: Id, session: SessionDep, _: Admin) -> ReporterRead:
    """One focal point, with how often its alerts were confirmed."""
    [read] = await _with_reliability(
        session, [await service.get_person(session, Reporter, reporter_id)]
    )
    return read


async def _with_reliability(
    session: SessionDep, reporters: Sequence[Reporter]
) -> list[ReporterRead]:
    histories = await reliability.of_reporters(session, [r.id for r in reporters])
    reads = []
    for reporter in reporters:
        read = ReporterRead.model_validate(reporter)
        read.reliability = ReliabilityRead.model_validate(histories.get(reporter.id, Reliability()))
        reads.append(read)
    return reads


@router.post(
    "/reporters", response_model=ReporterRead, status_code=201, responses=errors_doc(409, 422)
)
async def create_reporter(
    body: ReporterCreate, session: SessionDep, principal: Admin, region: Region
) -> ReporterRead:
    """Register a focal point (phone normalised to E.164). A number that texted before
    becomes this focal point; a number already registered is a 409."""
    reporter = await service.create_reporter(session, body, region=region, actor=principal.actor)
    [read] = await _with_reliability(session, [reporter])
    return read


@router.patch(
    "/reporters/{reporter_id}", response_model=ReporterRead, responses=errors_doc(404, 409, 422)
)
async def update_reporter(
    reporter_id: Id, body: ReporterUpdate, session: SessionDep, principal: Admin, region: Region
) -> ReporterRead:
    """Change the fields given; the others stay as they are."""
    reporter = await service.update_person(
        session, Reporter, reporter_id, body, region=region, actor=principal.actor
    )
    [read] = await _with_reliability(session, [reporter])
    return read


@router.delete("/reporters/{reporter_id}", response_model=ReporterRead, responses=errors_doc(404))
async def deactivate_reporter(
    reporter_id: Id, session: SessionDep, principal: Admin
) -> ReporterRead:
    """Deactivate a focal point (their texts then count as from an unknown number)."""
    reporter = await service.deactivate(session, Reporter, reporter_id, actor=principal.actor)
    [read] = await _with_reliability(session, [reporter])
    return read


@router.post(
    "/reporters/{reporter_id}/reveal", response_model=PhoneRevealed, responses=errors_doc(404)
)
async def reveal_phone(reporter_id: Id, session: SessionDep, principal: Operator) -> PhoneRevealed:
    """A focal point's full number, to call them back; who asked is kept in the audit log."""
    reporter = await service.reveal_phone(session, reporter_id, actor=principal.actor)
    return PhoneRevealed(id=reporter.id, phone=reporter.phone)


# --- liaisons ---------------------------------------------------------------------------
# Writes invalidate the gazetteer: the territoires liaisons serve are part of it.


@router.get("/liaisons", response_model=Page[LiaisonRead], responses=errors_doc(400))
async def list_liaisons(
    session: SessionDep,
    _: Admin,
    q: Search = None,
    active: bool | None = None,
    on_duty: bool | None = None,
    tier: Tier | None = None,
    cursor: str | None = None,
    limit: Limit = 50,
) -> Page[LiaisonRead]:
    """Liaisons and JOC officers, oldest first."""
    equals = {"active": active, "on_duty": on_duty, "tier": tier}
    rows = await service.list_people(
        session, Liaison, q=q, equals=equals, after=_after(cursor), limit=limit
    )
    items = [LiaisonRead.model_validate(r) for r in rows]
    return Page[LiaisonRead](items=items, next_cursor=next_id_cursor(rows, limit))


@router.get("/liaisons/{liaison_id}", response_model=LiaisonRead, responses=errors_doc(404))
async def get_liaison(liaison_id: Id, session: SessionDep, _: Admin) -> LiaisonRead:
    """One liaison."""
    return LiaisonRead.model_validate(await service.get_person(session, Liaison, liaison_id))


@router.post(
    "/liaisons", response_model=LiaisonRead, status_code=201, responses=errors_doc(409, 422)
)
async def create_liaison(
    body: LiaisonCreate,
    session: SessionDep,
    principal: Admin,
    region: Region,
    gazetteers: Gazetteers,
    settings: SettingsDep,
) -> LiaisonRead:
    """Add a liaison; zones must be territoires or provinces of the gazetteer. An alert of
    their zone still new that nobody was paged for is paged to them."""
    liaison = await roster.create(session, settings, body, region=region, actor=principal.actor)
    gazetteers.invalidate_on_commit(session)
    return LiaisonRead.model_validate(liaison)


@router.patch(
    "/liaisons/{liaison_id}", response_model=LiaisonRead, responses=errors_doc(404, 409, 422)
)
async def update_liaison(
    liaison_id: Id,
    body: LiaisonUpdate,
    session: SessionDep,
    principal: Admin,
    region: Region,
    gazetteers: Gazetteers,
    settings: SettingsDep,
) -> LiaisonRead:
    """Change the fields given; the others stay as they are (one put off duty or deactivated
    has their pages still queued passed on to the next liaison)."""
    liaison = await roster.update(
        session, settings, liaison_id, body, region=region, actor=principal.actor
    )
    gazetteers.invalidate_on_commit(session)
    return LiaisonRead.model_validate(liaison)


@router.patch(
    "/liaisons/{liaison_id}/duty", response_model=LiaisonRead, responses=errors_doc(404, 422)
)
async def set_duty(
    liaison_id: Id,
    body: DutyUpdate,
    session: SessionDep,
    principal: Operator,
    region: Region,
    settings: SettingsDep,
) -> LiaisonRead:
    """Put a liaison on or off duty (operators may: it is the duty roster of the operations
    room, not administration). Only on-duty liaisons are paged: the pages still queued for
    one put off duty go to the next liaison of the zone."""
    change = LiaisonUpdate(on_duty=body.on_duty)
    liaison = await roster.update(
        session, settings, liaison_id, change, region=region, actor=principal.actor
    )
    return LiaisonRead.model_validate(liaison)


@router.delete("/liaisons/{liaison_id}", response_model=LiaisonRead, responses=errors_doc(404))
async def deactivate_liaison(
    liaison_id: Id,
    session: SessionDep,
    principal: Admin,
    gazetteers: Gazetteers,
    settings: SettingsDep,
) -> LiaisonRead:
    """Deactivate a liaison: never paged again (their pages still queued go to the next
    liaison of the zone), their SMS commands refused."""
    liaison = await roster.deactivate(session, settings, liaison_id, actor=principal.actor)
    gazetteers.invalidate_on_commit(session)
    return LiaisonRead.model_validate(liaison)
