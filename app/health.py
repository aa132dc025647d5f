"""Health, readiness and metrics endpoints."""

from __future__ import annotations

import asyncio
import logging

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST
from sqlalchemy.ext.asyncio import AsyncEngine

from app.kit.clock import utcnow
from app.kit.metrics import (
    Backlog,
    ChannelState,
    channels_exposition,
    exposition,
    outbox_exposition,
)
from app.migrate import current_revision, head_revision
from app.outbox import repository as outbox_repo
from app.outbox.health import report as channels_report

log = logging.getLogger(__name__)
router = APIRouter(tags=["health"])


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    """The process is up."""
    return {"status": "ok"}


@router.get("/readyz")
async def readyz(request: Request) -> JSONResponse:
    """The database answers and its schema is at the head revision."""
    engine: AsyncEngine = request.app.state.engine
    head = head_revision()
    try:
        current = await current_revision(engine)
    except Exception as exc:
        return JSONResponse(
            {"status": "unavailable", "database": f"unreachable: {type(exc).__name__}"},
            status_code=503,
        )
    if current != head:
        return JSONResponse(
            {"status": "unavailable", "database": "ok", "revision": current, "head": head},
            status_code=503,
        )
    return JSONResponse({"status": "ok", "database": "ok", "revision": current})


@router.get("/metrics", include_in_schema=False)
async def metrics(request: Request) -> Response:
    """Prometheus metrics, open to the scraper without a key.

    Only counts, durations and closed label sets (providers, categories, statuses, route
    templates): no phone number, message text, name or key. The outbox backlog is read from
    the shared database at each scrape, so every process reports it alike.
    """
    backlog: list[Backlog] | None = None
    states: list[ChannelState] = []
    try:
        async with request.app.state.sessionmaker() as session:
            rows = await asyncio.wait_for(outbox_repo.due_backlog(session, utcnow()), 5.0)
            health = await asyncio.wait_for(channels_report(session), 5.0)
        backlog = [Backlog(channel, due, oldest) for channel, due, oldest in rows]
        states = [ChannelState(h.channel.name, not h.channel.down, h.waiting) for h in health]
    except Exception as exc:
        log.warning("metrics: outbox backlog not read: %s", type(exc).__name__)
    body = exposition(outbox_exposition(backlog, utcnow()), channels_exposition(states))
    return Response(body, media_type=CONTENT_TYPE_LATEST)
