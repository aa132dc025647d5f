"""API keys (admin), the calling key (any role), and the audit log (admin)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from app.api.deps import Admin, SessionDep, Viewer
from app.audit import service as audit
from app.audit.schemas import AuditEntryRead
from app.auth import service
from app.auth.schemas import ApiKeyCreate, ApiKeyCreated, ApiKeyRead, Me
from app.kit.errors import errors_doc
from app.kit.ids import Id
from app.kit.pagination import Page, decode_id, next_id_cursor
from app.kit.text import NO_CONTROL

router = APIRouter(prefix="/api/v1", tags=["api keys"])

Filter = Annotated[str | None, Query(max_length=64, pattern=NO_CONTROL)]


@router.get("/apikeys", response_model=list[ApiKeyRead], responses=errors_doc())
async def list_keys(session: SessionDep, _: Admin) -> list[ApiKeyRead]:
    """Every key, revoked ones included, oldest first."""
    return [ApiKeyRead.model_validate(k) for k in await service.list_keys(session)]


@router.post("/apikeys", response_model=ApiKeyCreated, status_code=201, responses=errors_doc(422))
async def create_key(body: ApiKeyCreate, session: SessionDep, principal: Admin) -> ApiKeyCreated:
    """Create a key; the key itself is in this answer only (the database keeps its hash)."""
    key, plain = await service.issue_key(session, name=body.name, role=body.role, by=principal)
    return ApiKeyCreated(**ApiKeyRead.model_validate(key).model_dump(), key=plain)


@router.delete("/apikeys/{key_id}", response_model=ApiKeyRead, responses=errors_doc(404, 409))
async def revoke_key(key_id: Id, session: SessionDep, principal: Admin) -> ApiKeyRead:
    """Revoke a key: it gets 401 from now on. Revoking again answers the same (first time
    kept); a key cannot revoke itself (409): use another admin key or the command line."""
    return ApiKeyRead.model_validate(await service.revoke_key(session, key_id, by=principal))


@router.get("/me", response_model=Me, responses=errors_doc())
async def me(principal: Viewer) -> Me:
    """The calling key: what the operations page may offer follows its role."""
    return Me(id=principal.key_id, name=principal.name, role=principal.role)


@router.get(
    "/audit", response_model=Page[AuditEntryRead], responses=errors_doc(400), tags=["audit"]
)
async def list_audit(
    session: SessionDep,
    _: Admin,
    action: Filter = None,
    target_type: Filter = None,
    target_id: Filter = None,
    cursor: str | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> Page[AuditEntryRead]:
    """Accountable actions (phone number reveals, administration), newest first."""
    entries = await audit.recent(
        session,
        before=decode_id(cursor) if cursor else None,
        limit=limit,
        action=action,
        target_type=target_type,
        target_id=target_id,
    )
    return Page[AuditEntryRead](
        items=[AuditEntryRead.model_validate(e) for e in entries],
        next_cursor=next_id_cursor(entries, limit),
    )
