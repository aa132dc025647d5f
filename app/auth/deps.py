"""FastAPI dependencies for API keys and roles."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, Header, Request
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.ratelimit import RateLimiter, retry_after_header
from app.auth.service import Principal, authenticate, require
from app.kit.db import get_session
from app.kit.errors import RateLimited

# scope="function": the unit of work commits before the response is sent, so a client is
# never told "done" about a change that then failed to commit.
Session = Annotated[AsyncSession, Depends(get_session, scope="function")]


def role(minimum: str) -> Callable[..., Awaitable[Principal]]:
    """A dependency that lets through keys with at least the `minimum` role, at their rate."""

    async def dependency(
        request: Request,
        session: Session,
        authorization: Annotated[str | None, Header()] = None,
    ) -> Principal:
        return await authorize(request, session, authorization, minimum)

    return dependency


async def authorize(
    request: Request, session: AsyncSession, authorization: str | None, minimum: str
) -> Principal:
    """The caller, if its key is valid (401), of at least `minimum` (403), within its rate (429).

    Routes get it through `Viewer`, `Operator`, `Admin`; the stream calls it itself, in a
    transaction of its own (it must hold none for hours).
    """
    principal = await authenticate(session, authorization)
    require(principal, minimum)
    _check_rate(request, principal)
    return principal


def _check_rate(request: Request, principal: Principal) -> None:
    limiter: RateLimiter = request.app.state.rate_limiter
    wait = limiter.take(principal.key_id)
    if wait > 0:
        raise RateLimited(
            f"more than {limiter.per_minute} requests a minute with this key",
            retry_after=retry_after_header(wait),
        )


# Only the routes that serve partners (the shared exports) accept this one.
Partner = Annotated[Principal, Depends(role("partner"))]
Viewer = Annotated[Principal, Depends(role("viewer"))]
Operator = Annotated[Principal, Depends(role("operator"))]
Admin = Annotated[Principal, Depends(role("admin"))]
