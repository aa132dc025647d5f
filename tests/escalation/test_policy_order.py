"""Of two matching policies of one priority, the same one pages on every database."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from app.kit.config import Settings
from tests.escalation.support import CLA_BENI, CLA_OICHA, FOCAL_MAVIVI, gateway


def _policy(name: str, phone: str) -> dict[str, Any]:
    return {
        "name": name,
        "priority": 1,
        "match": {"admin1": ["Nord-Kivu"]},
        "steps": [{"after_seconds": 0, "notify": {"phones": [phone]}, "channels": ["sms"]}],
    }


@pytest.fixture
async def names_in_a_locale(engine: AsyncEngine) -> AsyncIterator[None]:
    """On PostgreSQL, policy names compared as a server set up in en_US compares them (the
    tests' server is in C, as SQLite compares); put back after the test."""
    column = "ALTER TABLE escalation_policies ALTER COLUMN name TYPE VARCHAR(100) COLLATE"
    if engine.dialect.name != "postgresql":
        yield
        return
    async with engine.begin() as conn:
        await conn.execute(text(f'{column} "en-x-icu"'))
    try:
        yield
    finally:
        async with engine.begin() as conn:
            await conn.execute(text(f'{column} "default"'))


@pytest.mark.usefixtures("names_in_a_locale")
async def test_policies_of_one_priority_are_chosen_by_name_case_ignored(
    settings: Settings, admin_headers: dict[str, str]
) -> None:
    async with gateway(settings) as gw:
        # Created in the other order, so that neither insertion nor ids decide.
        for name, phone in (("Zulu", CLA_OICHA), ("alpha", CLA_BENI)):
            created = await gw.client.post(
                "/api/v1/policies", json=_policy(name, phone), headers=admin_headers
            )
            assert created.status_code == 201, created.text

        listed = await gw.client.get("/api/v1/policies", headers=admin_headers)
        names = [p["name"] for p in listed.json()]
        assert names.index("alpha") < names.index("Zulu")

        await gw.sms(FOCAL_MAVIVI, "Attaque en cours a Mavivi")
        await gw.wait_for(lambda: bool(gw.sent_to(CLA_BENI)))
        assert await gw.outbox(recipient=CLA_OICHA) == [], "the policy 'alpha' pages"
