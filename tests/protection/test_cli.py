"""`kengele reporter erase` and `kengele keys rotate` on the test database."""

from __future__ import annotations

import asyncio
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
from app.people.models import Reporter
from tests.support import post_twilio, sms_form


@pytest.fixture
def cli_database(database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("KENGELE_DATABASE_URL", database_url)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


async def kengele(*args: str) -> Result:
    return await asyncio.to_thread(CliRunner().invoke, cli, list(args))


async def test_erase_from_the_command_line(
    cli_database: None,
    demo: None,
    client: httpx.AsyncClient,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    phone = "+243810000101"
    await post_twilio(client, "/webhooks/twilio/sms", sms_form(phone, "Attaque a Mavivi"))

    no_reason = await kengele("reporter", "erase", "0810 000 101")
    assert no_reason.exit_code == 2 and "--reason" in no_reason.output
    unknown = await kengele("reporter", "erase", "+243899999999", "--reason", "test")
    assert unknown.exit_code == 1 and "no reporter" in unknown.output
    assert "899999999" not in unknown.output  # masked

    done = await kengele("reporter", "erase", "0810 000 101", "--reason", "asked by him")
    assert done.exit_code == 0, done.output
    assert "1 alert(s) kept anonymous" in done.output and phone not in done.output
    async with sessionmaker() as s:
        assert await s.scalar(select(Reporter).where(Reporter.phone == phone)) is None
        entry = await s.scalar(select(AuditEntry).where(AuditEntry.action == "reporter.erase"))
    assert entry is not None and entry.actor.startswith("cli")
    assert entry.detail["reason"] == "asked by him"


async def test_rotate_with_keys_from_the_environment_says_what_to_do(
    cli_database: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    from app.kit import crypto

    saved = crypto.keyring()
    key = crypto.base64.urlsafe_b64encode(saved.keys[-1]).decode()
    monkeypatch.setenv("KENGELE_DATA_KEY", key)
    try:
        refused = await kengele("keys", "rotate")
        assert refused.exit_code == 1 and "KENGELE_DATA_KEY" in refused.output
        assert key not in refused.output
        moved = await kengele("keys", "rotate", "--no-new-key")
        assert moved.exit_code == 0, moved.output
        assert "none left under an older key" in moved.output
    finally:
        crypto.configure(saved)
