"""Polling with `updated_after`: every change seen, while other requests write."""

from __future__ import annotations

import asyncio
import base64
import random
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.kit.pagination import encode_cursor
from tests.support import make_key, post_twilio, sms_form

SMS = "/webhooks/twilio/sms"
REPORTS = [
    ("+243810000101", "Attaque en cours a Mavivi"),
    ("+243810000113", "Kalehe: menaces contre les enseignants"),
    ("+243810000116", "Kalemie calme aujourd'hui, rien a signaler"),
    ("+243810000104", "Enlevement de 3 personnes a Oicha"),
    ("+243810000101", "Maisons brulees a Mavivi"),
    ("+243810000113", "Tirs entendus pres de Kalehe"),
]


async def test_poller_sees_every_final_state_while_four_writers_write(
    client: httpx.AsyncClient, demo: None, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    operator = {"Authorization": f"Bearer {await make_key(sessionmaker, 'operator')}"}
    viewer = {"Authorization": f"Bearer {await make_key(sessionmaker, 'viewer')}"}
    for phone, body in REPORTS:
        assert (await post_twilio(client, SMS, sms_form(phone, body))).status_code == 200
    ids = [a["id"] for a in (await client.get("/api/v1/alerts", headers=viewer)).json()["items"]]
    assert len(ids) == len(REPORTS)

    seen: dict[int, dict[str, Any]] = {}
    done = asyncio.Event()
    # The writers wait for the poller: each one's i-th write follows the poller's i-th answer,
    # so polls and writes interleave however the machine schedules them (on a loaded machine,
    # SQLite's busy handler could otherwise let the writers finish before the first poll).
    polled = asyncio.Condition()
    polls = 0

    async def writer(n: int) -> None:
        rng = random.Random(n)
        for i in range(12):
            async with polled:
                while polls <= i:
                    await polled.wait()
            alert_id = rng.choice(ids)
            response = await client.post(
                f"/api/v1/alerts/{alert_id}/actions",
                json={"action": "assign", "assignee": f"writer{n}-{i}"},
                headers=operator,
            )
            assert response.status_code == 200, response.text
            if i % 4 == 0:
                await client.post(
                    f"/api/v1/alerts/{alert_id}/actions",
                    json={"action": "note", "note": f"note {n}-{i}"},
                    headers=operator,
                )

    async def poller() -> None:
        nonlocal polls
        cursor = ""  # empty: from the beginning
        while True:
            finished = done.is_set()
            response = await client.get(
                "/api/v1/alerts",
                params={"updated_after": cursor, "limit": 4},
                headers=viewer,
            )
            assert response.status_code == 200
            page = response.json()
            for item in page["items"]:
                previous = seen.get(item["id"])
                # Changes come in order: never an older version after a newer one.
                assert previous is None or previous["version"] < item["version"]
                seen[item["id"]] = item
            cursor = page["sync_cursor"]
            async with polled:
                polls += 1
                polled.notify_all()
            if finished and not page["items"]:
                return
            await asyncio.sleep(0)

    poll_task = asyncio.create_task(poller())
    await asyncio.gather(*(writer(n) for n in range(4)))
    done.set()
    await poll_task

    final = {
        a["id"]: a for a in (await client.get("/api/v1/alerts", headers=viewer)).json()["items"]
    }
    assert set(seen) == set(final)
    for alert_id, alert in final.items():
        got = seen[alert_id]
        assert (got["version"], got["assignee"], got["status"]) == (
            alert["version"],
            alert["assignee"],
            alert["status"],
        )


@pytest.mark.parametrize(
    ("param", "cursor"),
    [
        ("updated_after", "nope"),
        ("updated_after", encode_cursor(10**30)),
        ("updated_after", encode_cursor(True)),
        ("cursor", encode_cursor("2026-11-24T10:00:00+00:00", 10**30)),
        # JSON nested deeper than the parser goes (a RecursionError, not a ValueError).
        ("updated_after", base64.urlsafe_b64encode(b"[" * 5000).decode()),
        ("cursor", base64.urlsafe_b64encode(b"[" * 5000).decode()),
    ],
)
async def test_bad_cursor_is_400(
    client: httpx.AsyncClient, viewer_headers: dict[str, str], param: str, cursor: str
) -> None:
    response = await client.get("/api/v1/alerts", params={param: cursor}, headers=viewer_headers)
    assert response.status_code == 400
    assert "cursor" in response.json()["detail"]
    incidents = await client.get(
        "/api/v1/incidents", params={"cursor": encode_cursor(10**30)}, headers=viewer_headers
    )
    assert incidents.status_code == 400
