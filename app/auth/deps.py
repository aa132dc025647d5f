"""FastAPI dependencies for API keys and roles."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, Header
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.service import Principal, authenticate, require
from app.db import get_session

Session = Annotated[AsyncSession, Depends(get_session)]


def role(minimum: str) -> Callable[..., Awaitable[Principal]]:
    """A dependency that lets through keys with at least the `minimum` role."""

    async def dependency(
        session: Session,
        authorization: Annotated[str | None, Header()] = None,
    ) -> Principal:
        principal = await authenticate(session, authorization)
        require(principal, minimum)
        return principal

    return dependency


Viewer = Annotated[Principal, Depends(role("viewer"))]
Operator = Annotated[Principal, Depends(role("operator"))]
Admin = Annotated[Principal, Depends(role("admin"))]
