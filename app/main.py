"""The FastAPI application and its lifespan (database, demo data, background work)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from app import __version__
from app.api.alerts import router as alerts_router
from app.api.auth import router as apikeys_router
from app.api.changes import router as stream_router
from app.api.channel_webhooks import router as channel_webhooks_router
from app.api.channels import router as channels_router
from app.api.escalation import router as policies_router
from app.api.exports import router as exports_router
from app.api.geo import router as places_router
from app.api.inbound import router as inbound_router
from app.api.meta import router as meta_router
from app.api.outbox import callbacks as status_router
from app.api.outbox import router as outbox_router
from app.api.people import router as people_router
from app.api.protection import router as protection_router
from app.api.reports import router as reports_router
from app.api.stats import router as stats_router
from app.auth.ratelimit import RateLimiter
from app.health import DatabaseProbe
from app.health import router as health_router
from app.kit.config import Settings, get_settings
from app.kit.errors import install_error_handlers
from app.kit.memory import freeze_what_started
from app.kit.observability import install_observability
from app.runtime import Runtime
from app.web.docs import router as docs_router
from app.web.endpoints import router as web_router


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Open the database, migrate, load demo data, start the background work."""
    settings: Settings = app.state.settings
    runtime = await Runtime.open(settings)
    app.state.runtime = runtime
    app.state.engine = runtime.engine
    app.state.sessionmaker = runtime.sessionmaker
    app.state.gazetteers = runtime.gazetteers
    app.state.pipeline = runtime.pipeline
    app.state.db_probe = DatabaseProbe(runtime.engine)
    if settings.run_worker:
        await runtime.start_background()
    if getattr(app.state, "serving", False):
        freeze_what_started()
    try:
        yield
    finally:
        await runtime.close()


def create_app(settings: Settings | None = None) -> FastAPI:
    """The gateway application."""
    app = FastAPI(
        title="Kengele",
        version=__version__,
        description="SMS gateway of a community alert network.",
        lifespan=lifespan,
        # Served by app.web.docs from assets the gateway holds (FastAPI's own use a CDN).
        docs_url=None,
        redoc_url=None,
    )
    app.state.settings = settings or get_settings()
    app.state.rate_limiter = RateLimiter(app.state.settings.api_rate_per_minute)
    install_error_handlers(app)
    install_observability(app)
    app.include_router(health_router)
    app.include_router(inbound_router)
    app.include_router(exports_router)  # before /alerts/{id}: /alerts.csv is not an alert id
    app.include_router(alerts_router)
    app.include_router(meta_router)
    app.include_router(stream_router)
    app.include_router(stats_router)
    app.include_router(reports_router)
    app.include_router(places_router)
    app.include_router(people_router)
    app.include_router(protection_router)
    app.include_router(apikeys_router)
    app.include_router(status_router)
    # After Twilio's fixed webhooks, which /webhooks/{kind}/{name} would otherwise shadow.
    app.include_router(channel_webhooks_router)
    app.include_router(outbox_router)  # before /channels/{id}: /channels/health is no id
    app.include_router(channels_router)
    app.include_router(policies_router)
    app.include_router(web_router)
    app.include_router(docs_router)
    return app
