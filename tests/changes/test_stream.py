"""The live stream: Server-Sent Events with ids, replay after Last-Event-ID, heartbeats."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.api import changes as stream_endpoints
from app.auth.models import ApiKey
from app.changes import repository as changes_repo
from app.kit.clock import utcnow
from app.kit.config import Settings
from app.kit.db import unit_of_work
from tests.harness.gateway import running
from tests.harness.server import live_server
from tests.support import PUBLIC_URL, make_key, post_twilio, sign, sms_form

SMS = "/webhooks/twilio/sms"


async def _report(base: str, phone: str, body: str) -> None:
    form = sms_form(phone, body)
    async with httpx.AsyncClient(base_url=base) as client:
        # The signature is checked against KENGELE_PUBLIC_URL, not the address dialled.
        response = await client.post(
            SMS, data=form, headers={"X-Twilio-Signature": sign(SMS, form, base=PUBLIC_URL)}
        )
    assert response.status_code == 200


async def revoke_all(session: AsyncSession) -> None:
    """Revoke every key, as an admin would one by one."""
    await session.execute(update(ApiKey).values(revoked_at=utcnow()))


async def _events(response: httpx.Response) -> AsyncIterator[dict[str, Any]]:
    """Parse a text/event-stream into events ({"id", "event", "data"}; comments as "comment")."""
    event: dict[str, Any] = {}
    async for line in response.aiter_lines():
        if line == "":
            if event:
                yield event
            event = {}
        elif line.startswith(":"):
            yield {"comment": line[1:].strip()}
        else:
            field, _, value = line.partition(":")
            value = value.removeprefix(" ")
            event[field] = json.loads(value) if field == "data" else value


async def _take_until(
    stream: AsyncIterator[dict[str, Any]], body: str, within: float = 10.0
) -> list[dict[str, Any]]:
    """Events (not comments) up to the creation of the alert with this text."""
    got: list[dict[str, Any]] = []

    async def collect() -> None:
        async for event in stream:
            if "comment" in event:
                continue
            got.append(event)
            alert = event["data"].get("alert") or {}
            if event["event"] == "alert.created" and alert.get("body") == body:
                return

    await asyncio.wait_for(collect(), timeout=within)
    return got


def _created(events: list[dict[str, Any]]) -> list[str]:
    return [e["data"]["alert"]["body"] for e in events if e["event"] == "alert.created"]


async def test_replay_after_last_event_id_then_live_events_in_order(
    app: FastAPI, demo: None, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    key = await make_key(sessionmaker, "viewer")
    headers = {"Authorization": f"Bearer {key}"}
    async with live_server(app) as base:
        await _report(base, "+243810000101", "Attaque en cours a Mavivi")
        async with (
            httpx.AsyncClient(base_url=base, timeout=20) as client,
            client.stream("GET", "/api/v1/stream", headers=headers) as response,
        ):
            assert response.status_code == 200
            assert response.headers["content-type"].startswith("text/event-stream")
            stream = _events(response)
            first = await anext(stream)
            assert first == {"comment": "connected"}
            # Nothing missed yet; what happens now comes live.
            await _report(base, "+243810000113", "Kalehe: des hommes armes pillent le marche")
            live = await _take_until(stream, "Kalehe: des hommes armes pillent le marche")
            assert _created(live) == ["Kalehe: des hommes armes pillent le marche"]
            seen_id = int(live[-1]["id"])

        # Disconnected: three more reports are missed.
        missed_texts = [
            ("+243810000104", "Enlevement de 3 personnes a Oicha"),
            ("+243810000116", "Kalemie calme aujourd'hui"),
            ("+243810000101", "Maisons brulees a Mavivi"),
        ]
        for phone, text in missed_texts:
            await _report(base, phone, text)

        resumed = {**headers, "Last-Event-ID": str(seen_id)}
        async with (
            httpx.AsyncClient(base_url=base, timeout=20) as client,
            client.stream("GET", "/api/v1/stream", headers=resumed) as response,
        ):
            stream = _events(response)
            assert await anext(stream) == {"comment": "connected"}
            missed = await _take_until(stream, "Maisons brulees a Mavivi")
            assert _created(missed) == [text for _, text in missed_texts]
            # Then new events, live, after the replayed ones.
            await _report(base, "+243810000113", "Tirs entendus pres de Kalehe")
            new = await _take_until(stream, "Tirs entendus pres de Kalehe")
            assert _created(new) == ["Tirs entendus pres de Kalehe"]

    ids = [int(e["id"]) for e in missed + new]
    assert ids == sorted(ids) and len(ids) == len(set(ids))
    assert min(ids) == seen_id + 1


async def test_viewer_stream_masks_numbers_and_sends_heartbeats(
    app: FastAPI, demo: None, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    app.state.settings = app.state.settings.model_copy(update={"stream_heartbeat_seconds": 0.3})
    key = await make_key(sessionmaker, "viewer")
    async with (
        live_server(app) as base,
        httpx.AsyncClient(base_url=base, timeout=20) as client,
        client.stream(
            "GET", "/api/v1/stream", headers={"Authorization": f"Bearer {key}"}
        ) as response,
    ):
        stream = _events(response)
        assert await anext(stream) == {"comment": "connected"}
        assert await asyncio.wait_for(anext(stream), 5) == {"comment": "heartbeat"}
        await _report(base, "+243810000101", "Attaque en cours a Mavivi")
        [event] = await _take_until(stream, "Attaque en cours a Mavivi")
        raw = json.dumps(event)
    assert event["data"]["alert"]["from_phone"] == "+243••••••101"
    assert "810000101" not in raw


async def test_stream_needs_a_key(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/v1/stream")
    assert response.status_code == 401
    assert response.json()["error"] == "Unauthorized"


async def test_forgotten_last_event_id_says_reset(
    app: FastAPI, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    key = await make_key(sessionmaker, "viewer")
    headers = {"Authorization": f"Bearer {key}", "Last-Event-ID": "999999"}
    async with (
        live_server(app) as base,
        httpx.AsyncClient(base_url=base, timeout=20) as client,
        client.stream("GET", "/api/v1/stream", headers=headers) as response,
    ):
        first = await anext(_events(response))
    assert first["event"] == "stream.reset"


@pytest.mark.parametrize(
    "last_event_id",
    [
        b"\xb2",  # "\u00b2" (superscript two) as HTTP reads it: a digit to str.isdigit, not to int
        b"9" * 5000,  # more digits than int() reads
    ],
)
async def test_a_last_event_id_not_ours_starts_the_stream_from_now(
    app: FastAPI, sessionmaker: async_sessionmaker[AsyncSession], last_event_id: bytes
) -> None:
    key = await make_key(sessionmaker, "viewer")
    headers = [("Authorization", f"Bearer {key}".encode()), ("Last-Event-ID", last_event_id)]
    async with (
        live_server(app) as base,
        httpx.AsyncClient(base_url=base, timeout=20) as client,
        client.stream("GET", "/api/v1/stream", headers=headers) as response,
    ):
        assert response.status_code == 200
        first = await anext(_events(response))
    assert first == {"comment": "connected"}


async def test_replay_past_the_kept_window_says_reset_with_an_id(
    app: FastAPI, demo: None, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    key = await make_key(sessionmaker, "viewer")
    async with live_server(app) as base:
        await _report(base, "+243810000101", "Attaque en cours a Mavivi")
        await _report(base, "+243810000113", "Tirs entendus pres de Kalehe")
        async with unit_of_work(sessionmaker) as session:
            first = (await changes_repo.after(session, 0, 1))[0].seq
            # Everything older than a day ago is forgotten: here, everything.
            forgotten = await changes_repo.prune(session, utcnow() + timedelta(seconds=1))
        assert forgotten >= 2
        headers = {"Authorization": f"Bearer {key}", "Last-Event-ID": str(first)}
        async with (
            httpx.AsyncClient(base_url=base, timeout=20) as client,
            client.stream("GET", "/api/v1/stream", headers=headers) as response,
        ):
            reset = await anext(_events(response))
    assert reset["event"] == "stream.reset"
    assert int(reset["id"]) == reset["data"]["seq"] > first


async def test_prune_keeps_an_unbroken_run(
    client: httpx.AsyncClient, demo: None, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    for phone, text in [
        ("+243810000101", "Attaque en cours a Mavivi"),
        ("+243810000113", "Tirs entendus pres de Kalehe"),
    ]:
        assert (await post_twilio(client, SMS, sms_form(phone, text))).status_code == 200
    async with unit_of_work(sessionmaker) as session:
        kept = list(await changes_repo.after(session, 0, 100))
        # A later change stamped earlier (another process's clock was behind).
        kept[-1].at = kept[0].at - timedelta(hours=1)
    async with unit_of_work(sessionmaker) as session:
        await changes_repo.prune(session, kept[0].at - timedelta(minutes=1))
        left = [c.seq for c in await changes_repo.after(session, 0, 100)]
    assert left == []  # everything up to the newest old one: no gap left behind


async def test_a_revoked_key_stops_streaming(
    app: FastAPI, sessionmaker: async_sessionmaker[AsyncSession], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(stream_endpoints, "RECHECK_KEY_SECONDS", 0.0)
    key = await make_key(sessionmaker, "viewer")
    async with (
        live_server(app) as base,
        httpx.AsyncClient(base_url=base, timeout=20) as client,
        client.stream("GET", "/api/v1/stream", headers={"Authorization": f"Bearer {key}"}) as r,
    ):
        stream = _events(r)
        assert await anext(stream) == {"comment": "connected"}
        async with unit_of_work(sessionmaker) as session:
            await revoke_all(session)
        ended = await asyncio.wait_for(anext(stream), 10)
    assert ended["event"] == "stream.end"


async def test_a_change_made_by_another_api_process_is_streamed(
    app: FastAPI, settings: Settings, demo: None, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    from app.main import create_app

    key = await make_key(sessionmaker, "viewer")
    other = create_app(settings.model_copy(update={"run_worker": False}))
    async with (
        live_server(app) as base,
        running(other) as other_client,
        httpx.AsyncClient(base_url=base, timeout=20) as client,
        client.stream("GET", "/api/v1/stream", headers={"Authorization": f"Bearer {key}"}) as r,
    ):
        stream = _events(r)
        assert await anext(stream) == {"comment": "connected"}
        form = sms_form("+243810000101", "Attaque en cours a Mavivi")
        assert (await post_twilio(other_client, SMS, form)).status_code == 200
        events = await _take_until(stream, "Attaque en cours a Mavivi")
    assert _created(events) == ["Attaque en cours a Mavivi"]


async def test_an_admins_edits_of_the_channels_are_stream_events(
    app: FastAPI, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    # The operations page reads the channels' health again on each (its banner: zones cut off).
    viewer = {"Authorization": f"Bearer {await make_key(sessionmaker, 'viewer')}"}
    admin = {"Authorization": f"Bearer {await make_key(sessionmaker, 'admin')}"}
    async with (
        live_server(app) as base,
        httpx.AsyncClient(base_url=base, timeout=20) as client,
        client.stream("GET", "/api/v1/stream", headers=viewer) as response,
    ):
        stream = _events(response)
        assert await anext(stream) == {"comment": "connected"}

        async def edited() -> dict[str, Any]:
            async def next_edit() -> dict[str, Any]:
                async for event in stream:
                    if event.get("event") == "channel.edited":
                        return dict(event["data"]["channel"])
                raise AssertionError("the stream ended")

            return await asyncio.wait_for(next_edit(), timeout=10)

        new = {"kind": "console", "name": "beni-c", "zones": ["Beni"]}
        added = await client.post("/api/v1/channels", json=new, headers=admin)
        assert added.status_code == 201, added.text
        channel_id = added.json()["id"]
        made = await edited()
        assert (made["id"], made["name"], made["active"], made["zones"]) == (
            channel_id,
            "beni-c",
            True,
            ["Beni"],
        )
        path = f"/api/v1/channels/{channel_id}"
        assert (await client.patch(path, json={"active": False}, headers=admin)).is_success
        assert (await edited())["active"] is False
        assert (await client.delete(path, headers=admin)).status_code == 204
        assert await edited() == {"id": channel_id, "removed": True}
