"""FastAPI dependencies of the routes: settings, runtime, session, gazetteers, API key roles.

Routes take these typed dependencies instead of reading `request.app.state` themselves;
app.main's factory and lifespan fill that state. The settings and the session are kit's
(app/kit/deps.py), the runtime is the runtime's: the page and the health routes take them too.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, Header, Request
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.ratelimit import RateLimiter, retry_after_header
from app.auth.service import Principal, authenticate, require
from app.flows.inbound import Pipeline
from app.geo.service import GazetteerCache
from app.kit.deps import SessionDep as SessionDep
from app.kit.deps import SettingsDep as SettingsDep
from app.kit.errors import RateLimited
from app.runtime import RuntimeDep as RuntimeDep


# Async like every dependency here: FastAPI runs a plain function in a worker thread.
async def _rate_limiter(request: Request) -> RateLimiter:
    limiter: RateLimiter = request.app.state.rate_limiter
    return limiter


RateLimiterDep = Annotated[RateLimiter, Depends(_rate_limiter)]


async def _gazetteers(runtime: RuntimeDep) -> GazetteerCache:
    return runtime.gazetteers


async def _pipeline(runtime: RuntimeDep) -> Pipeline:
    return runtime.pipeline


Gazetteers = Annotated[GazetteerCache, Depends(_gazetteers)]
PipelineDep = Annotated[Pipeline, Depends(_pipeline)]


def role(minimum: str) -> Callable[..., Awaitable[Principal]]:
    """A dependency that lets through keys with at least the `minimum` role, at their rate."""

    async def dependency(
        session: SessionDep,
        limiter: RateLimiterDep,
        authorization: Annotated[str | None, Header()] = None,
    ) -> Principal:
        return await authorize(session, limiter, authorization, minimum)

    return dependency


async def authorize(
    session: AsyncSession, limiter: RateLimiter, authorization: str | None, minimum: str
) -> Principal:
    """The caller, if its key is valid (401), of at least `minimum` (403), within its rate (429).

    Routes get it through `Viewer`, `Operator`, `Admin`; the stream calls it itself, in a
    transaction of its own (it must hold none for hours).
    """
    principal = await authenticate(session, authorization)
    require(principal, minimum)
    wait = limiter.take(principal.key_id)
    if wait > 0:
        raise RateLimited(
            f"more than {limiter.per_minute} requests a minute with this key",
            retry_after=retry_after_header(wait),
        )
    return principal


# Only the routes that serve partners (the shared exports) accept this one.
Partner = Annotated[Principal, Depends(role("partner"))]
Viewer = Annotated[Principal, Depends(role("viewer"))]
Operator = Annotated[Principal, Depends(role("operator"))]
Admin = Annotated[Principal, Depends(role("admin"))]
