"""`kengele apikey create|list|revoke` on the test database."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator

import httpx
import pytest
from click.testing import Result
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from typer.testing import CliRunner

from app.audit.models import AuditEntry
from app.cli import cli
from app.kit.config import get_settings


@pytest.fixture
def cli_database(database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The command works on the test database."""
    monkeypatch.setenv("KENGELE_DATABASE_URL", database_url)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


async def kengele(*args: str) -> Result:
    # The command runs its own event loop (asyncio.run): give it a thread without one.
    return await asyncio.to_thread(CliRunner().invoke, cli, list(args))


async def test_create_list_revoke(
    cli_database: None,
    client: httpx.AsyncClient,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    created = await kengele("apikey", "create", "--name", "JOC [Beni]", "--role", "admin")
    assert created.exit_code == 0, created.output
    key = created.stdout.strip()
    headers = {"Authorization": f"Bearer {key}"}
    assert (await client.get("/api/v1/me", headers=headers)).status_code == 200

    listed = await kengele("apikey", "list")
    assert listed.exit_code == 0
    header, row = listed.stdout.splitlines()
    assert header.split() == ["ID", "NAME", "ROLE", "PREFIX", "CREATED", "LAST", "USED", "REVOKED"]
    assert "JOC [Beni]" in row and key[:8] in row and key not in listed.stdout
    [entry] = [
        json.loads(line) for line in (await kengele("apikey", "list", "--json")).stdout.splitlines()
    ]
    assert (entry["name"], entry["role"], entry["revoked_at"]) == ("JOC [Beni]", "admin", None)

    revoked = await kengele("apikey", "revoke", str(entry["id"]))
    assert revoked.exit_code == 0, revoked.output
    assert (await client.get("/api/v1/me", headers=headers)).status_code == 401
    [entry] = [
        json.loads(line) for line in (await kengele("apikey", "list", "--json")).stdout.splitlines()
    ]
    assert entry["revoked_at"] is not None
    async with sessionmaker() as session:
        [audit] = (await session.scalars(select(AuditEntry))).all()
    assert (audit.action, audit.target_id) == ("apikey.revoke", str(entry["id"]))
    assert audit.actor.startswith("cli")


async def test_revoking_an_unknown_key_fails(cli_database: None) -> None:
    result = await kengele("apikey", "revoke", "4242")
    assert result.exit_code == 1
    assert "no API key 4242" in result.stderr
