"""Escalation policies (admin)."""

from __future__ import annotations

from fastapi import APIRouter, Response

from app.api.deps import Admin, SessionDep
from app.escalation import policies as service
from app.escalation.models import EscalationPolicy
from app.escalation.schemas import PolicyDocument, PolicyRead, PolicyUpdate
from app.kit.errors import errors_doc
from app.kit.ids import Id

router = APIRouter(prefix="/api/v1/policies", tags=["escalation"])


def _read(policy: EscalationPolicy) -> PolicyRead:
    return PolicyRead(id=policy.id, **PolicyDocument.model_validate(policy.document).model_dump())


@router.get("", response_model=list[PolicyRead], responses=errors_doc())
async def list_policies(session: SessionDep, _: Admin) -> list[PolicyRead]:
    """Policies in the order they are tried (lowest priority first)."""
    return [_read(p) for p in await service.list_policies(session)]


@router.post("", response_model=PolicyRead, status_code=201, responses=errors_doc(409, 422))
async def create_policy(body: PolicyDocument, session: SessionDep, _: Admin) -> PolicyRead:
    """Add a policy; escalations already running keep the policy they started with."""
    return _read(await service.create_policy(session, body))


@router.get("/{policy_id}", response_model=PolicyRead, responses=errors_doc(404))
async def get_policy(policy_id: Id, session: SessionDep, _: Admin) -> PolicyRead:
    """One policy."""
    return _read(await service.get_policy(session, policy_id))


@router.put("/{policy_id}", response_model=PolicyRead, responses=errors_doc(404, 409, 422))
async def replace_policy(
    policy_id: Id, body: PolicyUpdate, session: SessionDep, _: Admin
) -> PolicyRead:
    """Replace a policy (running escalations are not changed: they froze their copy)."""
    return _read(await service.replace_policy(session, policy_id, body))


@router.delete("/{policy_id}", status_code=204, responses=errors_doc(404))
async def delete_policy(policy_id: Id, session: SessionDep, _: Admin) -> Response:
    """Remove a policy (alerts it no longer matches fall to the next, or the default)."""
    await service.delete_policy(session, policy_id)
    return Response(status_code=204)
