"""Escalation policies for admins: list, add, replace, remove (names are unique)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from app.escalation import repository as repo
from app.escalation.models import EscalationPolicy
from app.escalation.schemas import PolicyDocument, PolicyUpdate
from app.kit.errors import Conflict, Unprocessable
from app.kit.repository import get_or_raise


async def list_policies(session: AsyncSession) -> Sequence[EscalationPolicy]:
    """Policies in the order they are tried (lowest priority first)."""
    return await repo.policies(session)


async def get_policy(session: AsyncSession, policy_id: int) -> EscalationPolicy:
    """The policy with this id, or 404."""
    return await get_or_raise(session, EscalationPolicy, policy_id, "policy")


async def create_policy(session: AsyncSession, body: PolicyDocument) -> EscalationPolicy:
    """Add a policy (409 when one has its name)."""
    if await repo.policy_by_name(session, body.name) is not None:
        raise Conflict(f"a policy named {body.name!r} exists; PUT /api/v1/policies/{{id}}")
    policy = EscalationPolicy(
        name=body.name, priority=body.priority, document=body.model_dump(mode="json")
    )
    session.add(policy)
    await session.flush()
    return policy


async def replace_policy(
    session: AsyncSession, policy_id: int, body: PolicyUpdate
) -> EscalationPolicy:
    """Replace a policy (404 when there is none, 409 when another one has the new name)."""
    if body.id is not None and body.id != policy_id:
        raise Unprocessable(f"id: the body is policy {body.id}, the path policy {policy_id}")
    policy = await get_policy(session, policy_id)
    other = await repo.policy_by_name(session, body.name)
    if other is not None and other.id != policy_id:
        raise Conflict(f"a policy named {body.name!r} exists")
    policy.name = body.name
    policy.priority = body.priority
    policy.document = body.model_dump(mode="json", exclude={"id"})
    await session.flush()
    return policy


async def delete_policy(session: AsyncSession, policy_id: int) -> None:
    """Remove a policy (404 when there is none)."""
    await session.delete(await get_policy(session, policy_id))
