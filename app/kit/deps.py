"""The typed FastAPI dependencies of every kind of route (API, page, health): the settings and
the request's unit of work. app.main's factory fills `app.state`; routes never read it."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from app.kit.config import Settings
from app.kit.db import get_session


# Async like every dependency: FastAPI runs a plain function in a worker thread.
async def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


SettingsDep = Annotated[Settings, Depends(_settings)]
# scope="function": the unit of work commits before the response is sent, so a client is
# never told "done" about a change that then failed to commit.
SessionDep = Annotated[AsyncSession, Depends(get_session, scope="function")]
