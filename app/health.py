"""Health, readiness and metrics endpoints."""

from __future__ import annotations

import asyncio
import logging
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST
from sqlalchemy.ext.asyncio import AsyncEngine

from app.inbound import service as messages
from app.kit.clock import utcnow
from app.kit.metrics import (
    Backlog,
    ChannelState,
    channels_exposition,
    exposition,
    inbound_exposition,
    outbox_exposition,
)
from app.kit.migrate import current_revision, head_revision
from app.outbox import service as outbox
from app.outbox.health import report as channels_report
from app.runtime import RuntimeDep

log = logging.getLogger(__name__)
router = APIRouter(tags=["health"])

# /readyz answers within a second even when the database stalls (load balancers time out).
READY_DEADLINE_SECONDS = 0.8


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    """The process is up."""
    return {"status": "ok"}


class DatabaseProbe:
    """The readiness check of the database: one query in flight at a time, waited for at most
    a deadline, so that a stalled database answers 503 at once and probes do not pile up."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self._check: asyncio.Future[str | None] | None = None

    async def revision(self, deadline: float) -> str | None:
        """The database's revision; TimeoutError when it does not answer within `deadline` s."""
        if self._check is None or self._check.done():
            self._check = asyncio.ensure_future(current_revision(self.engine))
            # Read the outcome even when nobody waits any more (no "never retrieved" noise).
            self._check.add_done_callback(lambda f: f.cancelled() or f.exception())
        done, _ = await asyncio.wait({self._check}, timeout=deadline)
        if not done:
            raise TimeoutError
        return self._check.result()


async def _probe(request: Request) -> DatabaseProbe:
    probe: DatabaseProbe = request.app.state.db_probe
    return probe


ProbeDep = Annotated[DatabaseProbe, Depends(_probe)]


@router.get(
    "/readyz",
    responses={
        200: {"description": "Ready: database, schema revision and background loops in time."},
        503: {"description": "Not ready: the body says which of them is not."},
    },
)
async def readyz(probe: ProbeDep, runtime: RuntimeDep) -> JSONResponse:
    """The database answers within a second, its schema is at the head revision, and every
    background loop of this process has completed a pass in time."""
    body: dict[str, object] = {"status": "ok"}
    ready = True
    head = head_revision()
    try:
        current = await probe.revision(READY_DEADLINE_SECONDS)
    except Exception as exc:
        ready = False
        reason = "no answer within 1 s" if isinstance(exc, TimeoutError) else type(exc).__name__
        body["database"] = f"unreachable: {reason}"
    else:
        body["database"] = "ok"
        body["revision"] = current
        if current != head:
            ready = False
            body["head"] = head
    stale = runtime.supervisor.stale()
    if stale:
        ready = False
        body["stale_loops"] = {s.loop: {"last_pass": s.since.isoformat()} for s in stale}
    if not ready:
        body["status"] = "unavailable"
    return JSONResponse(body, status_code=200 if ready else 503)


@router.get("/metrics", include_in_schema=False)
async def metrics(runtime: RuntimeDep) -> Response:
    """Prometheus metrics, open to the scraper without a key.

    Only counts, durations and closed label sets (providers, categories, statuses, route
    templates): no phone number, message text, name or key. The outbox's backlog and the
    inbound messages waiting are read from the shared database at each scrape, so every
    process reports them alike.
    """
    backlog: list[Backlog] | None = None
    states: list[ChannelState] = []
    inbound = b""
    try:
        async with runtime.sessionmaker() as session:
            rows = await asyncio.wait_for(outbox.due_backlog(session, utcnow()), 5.0)
            health = await asyncio.wait_for(channels_report(session), 5.0)
            waiting, waiting_since = await asyncio.wait_for(messages.waiting(session), 5.0)
        backlog = [Backlog(channel, due, oldest) for channel, due, oldest in rows]
        states = [ChannelState(h.channel.name, not h.channel.down, h.waiting) for h in health]
        inbound = inbound_exposition(waiting, waiting_since, utcnow())
    except Exception as exc:
        log.warning("metrics: backlogs not read: %s", type(exc).__name__)
    body = exposition(outbox_exposition(backlog, utcnow()), channels_exposition(states), inbound)
    return Response(body, media_type=CONTENT_TYPE_LATEST)
