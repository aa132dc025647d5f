"""Every route against its OpenAPI schema: schemathesis with an admin, an operator and a viewer
key finds no 5xx and no answer that breaks the schema (status codes, content types, bodies)."""

from __future__ import annotations

import asyncio
import os

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.generation import GenerationMode
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.harness.gateway import running
from tests.harness.server import live_server
from tests.support import make_key, post_twilio, sms_form

# 30 per route and role, as the issue asks; raise it locally to search harder.
EXAMPLES = int(os.environ.get("KENGELE_SCHEMATHESIS_EXAMPLES", "30"))
# A stream never ends: it has tests of its own (tests/changes).
NOT_FUZZED = {"/api/v1/stream"}
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


def _fuzz(base: str, headers: dict[str, str]) -> list[str]:
    schema = schemathesis.openapi.from_url(f"{base}/openapi.json")
    failures: list[str] = []
    operations = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        if operation.path in NOT_FUZZED:
            continue
        operations += 1

        # Valid requests and invalid ones, as the command line's default (--mode all).
        cases = st.one_of(
            operation.as_strategy(GenerationMode.POSITIVE),
            operation.as_strategy(GenerationMode.NEGATIVE),
        )

        # /readyz answers its documented 503 when the database is slow to answer (a loaded
        # machine): a readiness answer, not a server error.
        checks = CHECKS[1:] if operation.path == "/readyz" else CHECKS

        @given(case=cases)
        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            database=None,
            derandomize=True,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        def check(case: schemathesis.Case) -> None:
            # Called at once, in this iteration: `checks` is the current operation's.
            case.call_and_validate(
                base_url=base,
                headers=headers,
                checks=checks,  # noqa: B023
                timeout=30,
            )

        try:
            check()
        except (Exception, BaseExceptionGroup) as exc:
            failures.append(f"{operation.label}: {exc}")
    assert operations > 30, "the schema lost its routes"
    return failures


@pytest.mark.parametrize("role", ["admin", "operator", "viewer"])
async def test_every_route_keeps_to_its_schema(
    app: FastAPI, demo: None, sessionmaker: async_sessionmaker[AsyncSession], role: str
) -> None:
    app.state.settings = app.state.settings.model_copy(update={"api_rate_per_minute": 100_000})
    key = {"Authorization": f"Bearer {await make_key(sessionmaker, role)}"}
    async with running(app) as client:
        for phone, text in [
            ("+243810000101", "Attaque en cours a Mavivi"),
            ("+243810000113", "Kalehe: menaces contre les enseignants"),
        ]:
            assert (
                await post_twilio(client, "/webhooks/twilio/sms", sms_form(phone, text))
            ).is_success
    async with live_server(app) as base:
        failures = await asyncio.to_thread(_fuzz, base, key)
    if failures:
        pytest.fail("\n\n".join(failures))
