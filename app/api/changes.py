"""The live stream (Server-Sent Events) of alert and incident changes."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Header, Request
from fastapi.responses import StreamingResponse

from app.api.deps import RateLimiterDep, RuntimeDep, authorize
from app.auth.service import still_valid
from app.changes import service
from app.kit.db import unit_of_work
from app.kit.errors import errors_doc
from app.kit.signals import wait_for

router = APIRouter(prefix="/api/v1", tags=["stream"])

# Without a notification (another process on SQLite, a lost LISTEN), look this often anyway.
POLL_SECONDS = 2.0
RECHECK_KEY_SECONDS = 60.0

STREAM_DOC: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "text/event-stream: `alert.created`, `alert.updated`, "
        "`incident.updated`, `channel.down`, `channel.up` and `channel.edited` (an admin's "
        "edit) events, each with `id:` (its change number) and `data:` "
        '{"seq", "event", "alert" | "incident" | "channel"}; `stream.reset` when missed '
        "events are no longer kept (reload the list); `stream.end` when the key was "
        "revoked; a comment line as heartbeat",
        "content": {"text/event-stream": {"schema": {"type": "string"}}},
    }
}


@router.get(
    "/stream",
    response_class=StreamingResponse,
    responses={**STREAM_DOC, **errors_doc()},
)
async def stream(
    request: Request,
    runtime: RuntimeDep,
    limiter: RateLimiterDep,
    authorization: Annotated[str | None, Header()] = None,
    last_event_id: Annotated[
        str | None,
        Header(description="the id of the last event received: what came after is replayed"),
    ] = None,
) -> StreamingResponse:
    """Live changes of alerts and incidents; reconnect with Last-Event-ID to miss nothing.

    Missed events are replayed from the last 24 hours (KENGELE_CHANGE_RETENTION_HOURS).
    """
    sessionmaker = runtime.sessionmaker
    # Not the request's unit of work: a stream lasts hours and must hold no transaction.
    async with unit_of_work(sessionmaker) as session:
        principal = await authorize(session, limiter, authorization, "viewer")
        start, preface = await service.start_after(
            session, service.parse_last_event_id(last_event_id)
        )
    mask_phone = not principal.can("operator")
    heartbeat = runtime.settings.stream_heartbeat_seconds

    async def events() -> AsyncIterator[str]:
        after = start
        yield preface or ": connected\n\n"
        last_sent = checked = time.monotonic()
        while not runtime.stop.is_set() and not await request.is_disconnected():
            signal = runtime.feed.next()
            async with sessionmaker() as session:
                if time.monotonic() - checked >= RECHECK_KEY_SECONDS:
                    # A revoked key stops streaming within a minute.
                    if not await still_valid(session, principal):
                        yield service.sse("stream.end", {"reason": "API key revoked"})
                        return
                    checked = time.monotonic()
                changes = await service.next_batch(session, after)
                chunk = await service.render(session, changes, mask_phone=mask_phone)
            if changes:
                after = changes[-1].seq
                if chunk:
                    yield chunk
                    last_sent = time.monotonic()
                continue
            if time.monotonic() - last_sent >= heartbeat:
                yield ": heartbeat\n\n"
                last_sent = time.monotonic()
            wait = min(POLL_SECONDS, heartbeat - (time.monotonic() - last_sent))
            await wait_for(signal, max(wait, 0.05))

    return StreamingResponse(
        events(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )
