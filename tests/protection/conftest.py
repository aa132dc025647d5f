"""A gateway with the demo data on a database of its own when it is SQLite (a fresh file has
no page left by other tests to scan), on the test database when it is PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.kit.config import Settings
from app.kit.db import create_engine, create_sessionmaker
from app.kit.migrate import upgrade
from tests.harness.gateway import running
from tests.support import make_key


@dataclass
class Gateway:
    settings: Settings
    sessionmaker: async_sessionmaker[AsyncSession]
    client: httpx.AsyncClient
    admin: dict[str, str]
    viewer: dict[str, str]


@pytest.fixture
async def gateway(
    settings: Settings, sessionmaker: async_sessionmaker[AsyncSession], tmp_path: Path
) -> AsyncIterator[Gateway]:
    from app.demo import load_demo_data
    from app.main import create_app

    own = None
    if settings.is_sqlite:
        settings = settings.model_copy(
            update={"database_url": f"sqlite+aiosqlite:///{tmp_path}/scan.db"}
        )
        own = create_engine(settings)
        await upgrade(own)
        sessionmaker = create_sessionmaker(own)
    await load_demo_data(sessionmaker)
    admin = {"Authorization": f"Bearer {await make_key(sessionmaker, 'admin')}"}
    viewer = {"Authorization": f"Bearer {await make_key(sessionmaker, 'viewer')}"}
    async with running(create_app(settings)) as client:
        yield Gateway(settings, sessionmaker, client, admin, viewer)
    if own is not None:
        await own.dispose()
