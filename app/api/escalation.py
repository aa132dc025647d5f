"""Escalation policies (admin)."""

from __future__ import annotations

from fastapi import APIRouter, Response

from app.auth.deps import Admin, Session
from app.escalation import repository as repo
from app.escalation.models import EscalationPolicy
from app.escalation.schemas import PolicyDocument, PolicyRead, PolicyUpdate
from app.kit.errors import Conflict, NotFound, Unprocessable, errors_doc
from app.kit.ids import Id

router = APIRouter(prefix="/api/v1/policies", tags=["escalation"])


def _read(policy: EscalationPolicy) -> PolicyRead:
    return PolicyRead(id=policy.id, **PolicyDocument.model_validate(policy.document).model_dump())


@router.get("", response_model=list[PolicyRead], responses=errors_doc())
async def list_policies(session: Session, _: Admin) -> list[PolicyRead]:
    """Policies in the order they are tried (lowest priority first)."""
    return [_read(p) for p in await repo.policies(session)]


@router.post("", response_model=PolicyRead, status_code=201, responses=errors_doc(409, 422))
async def create_policy(body: PolicyDocument, session: Session, _: Admin) -> PolicyRead:
    """Add a policy; escalations already running keep the policy they started with."""
    if await repo.policy_by_name(session, body.name) is not None:
        raise Conflict(f"a policy named {body.name!r} exists; PUT /api/v1/policies/{{id}}")
    policy = EscalationPolicy(
        name=body.name, priority=body.priority, document=body.model_dump(mode="json")
    )
    session.add(policy)
    await session.flush()
    return _read(policy)


@router.get("/{policy_id}", response_model=PolicyRead, responses=errors_doc(404))
async def get_policy(policy_id: Id, session: Session, _: Admin) -> PolicyRead:
    """One policy."""
    policy = await repo.policy(session, policy_id)
    if policy is None:
        raise NotFound(f"no policy {policy_id}")
    return _read(policy)


@router.put("/{policy_id}", response_model=PolicyRead, responses=errors_doc(404, 409, 422))
async def replace_policy(
    policy_id: Id, body: PolicyUpdate, session: Session, _: Admin
) -> PolicyRead:
    """Replace a policy (running escalations are not changed: they froze their copy)."""
    if body.id is not None and body.id != policy_id:
        raise Unprocessable(f"id: the body is policy {body.id}, the path policy {policy_id}")
    policy = await repo.policy(session, policy_id)
    if policy is None:
        raise NotFound(f"no policy {policy_id}")
    other = await repo.policy_by_name(session, body.name)
    if other is not None and other.id != policy_id:
        raise Conflict(f"a policy named {body.name!r} exists")
    policy.name = body.name
    policy.priority = body.priority
    policy.document = body.model_dump(mode="json", exclude={"id"})
    await session.flush()
    return _read(policy)


@router.delete("/{policy_id}", status_code=204, responses=errors_doc(404))
async def delete_policy(policy_id: Id, session: Session, _: Admin) -> Response:
    """Remove a policy (alerts it no longer matches fall to the next, or the default)."""
    policy = await repo.policy(session, policy_id)
    if policy is None:
        raise NotFound(f"no policy {policy_id}")
    await session.delete(policy)
    return Response(status_code=204)
