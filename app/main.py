"""The FastAPI application and its lifespan (database, demo data, background work)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from app import __version__
from app.alerts.endpoints import router as alerts_router
from app.config import DEV_AUTH_TOKEN, Settings, get_settings
from app.db import create_engine, create_sessionmaker
from app.geo.endpoints import router as places_router
from app.geo.service import GazetteerCache
from app.health import router as health_router
from app.inbound.endpoints import router as inbound_router
from app.inbound.pipeline import Pipeline
from app.kit.errors import install_error_handlers
from app.migrate import upgrade

log = logging.getLogger("kengele")


def check_settings(settings: Settings) -> None:
    """Refuse unsafe production settings; warn about risky ones at every start."""
    token = settings.twilio_auth_token.get_secret_value()
    if settings.sms_provider == "twilio" and token == DEV_AUTH_TOKEN:
        raise RuntimeError("KENGELE_TWILIO_AUTH_TOKEN must be set with KENGELE_SMS_PROVIDER=twilio")
    if not settings.twilio_validate_signature:
        log.warning(
            "Twilio signature check is OFF (KENGELE_TWILIO_VALIDATE_SIGNATURE=false): "
            "anyone who can reach this server can inject alerts"
        )


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Open the database, migrate, load demo data, start the background work."""
    settings: Settings = app.state.settings
    check_settings(settings)
    engine = create_engine(settings)
    sessionmaker = create_sessionmaker(engine)
    if settings.auto_migrate:
        await upgrade(engine)
    if settings.demo:
        from app.demo import load_demo_data

        await load_demo_data(sessionmaker)
        log.info("demo data loaded")
    gazetteers = GazetteerCache()
    pipeline = Pipeline(settings, sessionmaker, gazetteers)
    app.state.engine = engine
    app.state.sessionmaker = sessionmaker
    app.state.gazetteers = gazetteers
    app.state.pipeline = pipeline
    stop = asyncio.Event()
    tasks: list[asyncio.Task[None]] = []
    if settings.run_worker:
        tasks.append(asyncio.create_task(pipeline.run_safety_net(stop), name="safety-net"))
    try:
        yield
    finally:
        stop.set()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.wait_for(task, timeout=10)
        await engine.dispose()


def create_app(settings: Settings | None = None) -> FastAPI:
    """The gateway application."""
    app = FastAPI(
        title="Kengele",
        version=__version__,
        description="SMS gateway of a community alert network.",
        lifespan=lifespan,
    )
    app.state.settings = settings or get_settings()
    install_error_handlers(app)
    app.include_router(health_router)
    app.include_router(inbound_router)
    app.include_router(alerts_router)
    app.include_router(places_router)
    return app
