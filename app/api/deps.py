"""FastAPI dependencies of the routes: settings, runtime, session, gazetteers, API key roles.

Routes take these typed dependencies instead of reading `request.app.state` themselves;
app.main's factory and lifespan fill that state.
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
from app.kit.config import Settings
from app.kit.db import get_session
from app.kit.errors import RateLimited
from app.runtime import Runtime


# Async like every dependency here: FastAPI runs a plain function in a worker thread.
async def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


async def _runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


async def _rate_limiter(request: Request) -> RateLimiter:
    limiter: RateLimiter = request.app.state.rate_limiter
    return limiter


SettingsDep = Annotated[Settings, Depends(_settings)]
RuntimeDep = Annotated[Runtime, Depends(_runtime)]
RateLimiterDep = Annotated[RateLimiter, Depends(_rate_limiter)]
# scope="function": the unit of work commits before the response is sent, so a client is
# never told "done" about a change that then failed to commit.
SessionDep = Annotated[AsyncSession, Depends(get_session, scope="function")]


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
