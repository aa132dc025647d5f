"""Fixtures of the browser tests: the demo data, keys, and a gateway on a loopback port."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.kit.config import Settings
from tests.harness.gateway import Gateway, serve
from tests.support import make_key
from tests.web.support import require_browser


@pytest.fixture
async def keys(sessionmaker: async_sessionmaker[AsyncSession], demo: None) -> dict[str, str]:
    """An operator and a viewer key on the demo data."""
    return {role: await make_key(sessionmaker, role) for role in ("operator", "viewer")}


@pytest.fixture
def gateway(settings: Settings, keys: dict[str, str]) -> Iterator[Gateway]:
    """The gateway on a loopback port (the browser needs a real socket)."""
    require_browser()
    with serve(settings) as gw:
        yield gw
