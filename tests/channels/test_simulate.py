"""`kengele simulate sms|call --channel NAME` signs and posts as that channel's provider; the
demo's console handset."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
from click.testing import Result
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from typer.testing import CliRunner

from app.alerts.models import Alert
from app.channels.service import ensure_demo
from app.cli import cli
from app.inbound.models import InboundMessage
from app.kit.config import Settings, get_settings
from app.kit.db import unit_of_work
from app.outbox.models import Delivery
from tests.channels.support import add_channel
from tests.harness.server import live_server
from tests.support import PUBLIC_URL

FOCAL_MAVIVI = "+243810000101"
FOCAL_MBAU = "+243810000104"


@pytest.fixture
def cli_env(database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The command reads the test database and signs for the test gateway's public URL."""
    monkeypatch.setenv("KENGELE_DATABASE_URL", database_url)
    monkeypatch.setenv("KENGELE_PUBLIC_URL", PUBLIC_URL)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


async def kengele(*args: str) -> Result:
    return await asyncio.to_thread(CliRunner().invoke, cli, list(args))


async def test_simulate_posts_as_the_handset_and_as_httpsms(
    app: FastAPI,
    demo: None,
    cli_env: None,
    settings: Settings,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    async with unit_of_work(sessionmaker) as s:
        await ensure_demo(s, settings)
    await add_channel(sessionmaker, settings, "httpsms", "oicha", numbers=["+243970000009"])
    async with live_server(app) as base:
        sms = await kengele(
            "simulate", "sms", "Attaque en cours a Mavivi", "--from", FOCAL_MAVIVI,
            "--channel", "demo-handset", "--url", base,
        )  # fmt: skip
        assert sms.exit_code == 0, sms.output
        call = await kengele(
            "simulate", "call", "--from", FOCAL_MBAU, "--channel", "oicha", "--url", base
        )
        assert call.exit_code == 0, call.output
        refused = await kengele(
            "simulate", "call", "--from", FOCAL_MBAU, "--channel", "demo-handset", "--url", base
        )
        assert refused.exit_code == 2 and "does not post a missed call" in refused.output

    async with sessionmaker() as s:
        messages = (await s.scalars(select(InboundMessage).order_by(InboundMessage.id))).all()
        alerts = (await s.scalars(select(Alert).order_by(Alert.id))).all()
        receipt = await s.scalar(select(Delivery).where(Delivery.purpose == "reply"))
    assert [(m.provider, m.kind) for m in messages] == [("demo-handset", "sms"), ("oicha", "call")]
    assert [(a.category, a.place_id) for a in alerts] == [("ATTACK", "mavivi"), ("FLASH", "mbau")]
    # The demo handset answers on the console.
    assert receipt is not None and receipt.via == "demo-handset"


async def test_the_demo_has_a_console_handset_first_in_the_routes(
    settings: Settings, engine: object, admin_headers: dict[str, str]
) -> None:
    from app.main import create_app
    from tests.harness.gateway import running

    demo = settings.model_copy(update={"demo": True, "demo_handset": True})  # serve --demo
    async with running(create_app(demo)) as client:
        listed = (await client.get("/api/v1/channels", headers=admin_headers)).json()
    assert [(c["name"], c["kind"]) for c in listed] == [
        ("demo-handset", "console"),
        ("twilio", "twilio"),
    ]
