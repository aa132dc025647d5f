"""API keys: created once, stored as a hash, checked on every request."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from app.audit import service as audit
from app.auth import repository as repo
from app.auth.models import ROLES, ApiKey
from app.kit.clock import utcnow
from app.kit.errors import BadRequest, Conflict, Forbidden, Unauthorized
from app.kit.repository import get_or_raise

KEY_PREFIX = "kg_"
LAST_USED_PRECISION = timedelta(minutes=1)
ROLE_RANK = {role: rank for rank, role in enumerate(ROLES)}


@dataclass(frozen=True)
class Principal:
    """Who is calling the API."""

    key_id: int
    name: str
    role: str

    def can(self, role: str) -> bool:
        """Whether this caller has at least `role`."""
        return ROLE_RANK[self.role] >= ROLE_RANK[role]

    @property
    def actor(self) -> str:
        """How audit trails name this caller: `apikey:<id>:<name>`."""
        return f"apikey:{self.key_id}:{self.name}"


def hash_key(key: str) -> str:
    """SHA-256 of a key (keys are 256-bit random: no slow hash needed)."""
    return hashlib.sha256(key.encode()).hexdigest()


async def create_key(session: AsyncSession, *, name: str, role: str) -> tuple[ApiKey, str]:
    """A new key; the plain key is returned once and never stored."""
    if role not in ROLES:
        raise BadRequest(f"role must be one of {', '.join(ROLES)}")
    if not name.strip():
        raise BadRequest("a key needs a name")
    plain = KEY_PREFIX + secrets.token_urlsafe(32)
    key = ApiKey(name=name.strip(), role=role, prefix=plain[:8], key_hash=hash_key(plain))
    repo.add(session, key)
    await session.flush()
    return key, plain


async def authenticate(session: AsyncSession, authorization: str | None) -> Principal:
    """The caller of a `Authorization: Bearer <key>` header (401 when missing or unknown)."""
    if not authorization:
        raise Unauthorized("missing Authorization: Bearer <api key>")
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("Authorization must be 'Bearer <api key>'")
    key = await repo.by_hash(session, hash_key(token.strip()))
    if key is None or key.revoked_at is not None:
        raise Unauthorized("unknown or revoked API key")
    now = utcnow()
    # A write per minute at most: pollers call every few seconds.
    if key.last_used_at is None or now - key.last_used_at > LAST_USED_PRECISION:
        key.last_used_at = now
    return Principal(key_id=key.id, name=key.name, role=key.role)


async def still_valid(session: AsyncSession, principal: Principal) -> bool:
    """Whether the key of a long-lived request (a stream) is still there and not revoked."""
    key = await repo.get(session, principal.key_id)
    return key is not None and key.revoked_at is None


def require(principal: Principal, role: str) -> None:
    """403 unless the caller has at least `role`."""
    if not principal.can(role):
        raise Forbidden(f"this needs the {role} role")


async def list_keys(session: AsyncSession) -> Sequence[ApiKey]:
    """Every key, revoked ones included (oldest first)."""
    return await repo.all_keys(session)


async def issue_key(
    session: AsyncSession, *, name: str, role: str, by: Principal
) -> tuple[ApiKey, str]:
    """A key created through the API, recorded in the audit log with who created it."""
    key, plain = await create_key(session, name=name, role=role)
    audit.record(
        session,
        actor=by.actor,
        action="apikey.create",
        target_type="apikey",
        target_id=key.id,
        detail={"name": key.name, "role": key.role},
    )
    return key, plain


async def revoke_key(session: AsyncSession, key_id: int, *, by: Principal | str) -> ApiKey:
    """Revoke a key and record who did; revoking again changes nothing and is no error.

    `by` is the caller's key through the API (which may not revoke itself: an admin could
    lock every admin out by mistake) or, from the command line, a plain actor name.
    """
    key = await get_or_raise(session, ApiKey, key_id, "API key")
    if isinstance(by, Principal) and by.key_id == key.id:
        raise Conflict(
            "a key cannot revoke itself: use another admin key or `kengele apikey revoke`"
        )
    if key.revoked_at is None:
        key.revoked_at = utcnow()
        audit.record(
            session,
            actor=by.actor if isinstance(by, Principal) else by,
            action="apikey.revoke",
            target_type="apikey",
            target_id=key.id,
            detail={"name": key.name, "role": key.role},
        )
        await session.flush()
    return key
