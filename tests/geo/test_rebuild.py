"""The place index is built before the gateway serves and rebuilt off the request path: while
an edit's rebuild is under way, webhooks are answered with the index in hand (none waits on
the rebuild); search waits for the new index and shows the edit."""

from __future__ import annotations

import asyncio
import sys
import threading
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from app.geo import service
from app.geo.models import Place
from app.people import service as people
from tests.support import post_twilio, sms_form

Headers = dict[str, str]


async def test_webhooks_do_not_wait_for_the_rebuild_after_an_edit(
    client: httpx.AsyncClient,
    demo: None,
    admin_headers: Headers,
    viewer_headers: Headers,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert client._transport.app.state.gazetteers.loaded  # type: ignore[attr-defined]
    # The gateway started on an empty database and the demo data came after: index it once.
    await client.get("/api/v1/places", headers=viewer_headers, params={"q": "Beni"})

    switch_interval = sys.getswitchinterval()
    release = threading.Event()
    started = threading.Event()
    build = service.build_gazetteer

    def held_build(*args: Any) -> Any:
        started.set()
        assert release.wait(30), "the test never released the rebuild"
        return build(*args)

    monkeypatch.setattr(service, "build_gazetteer", held_build)
    edit = await client.patch(
        "/api/v1/places/mavivi", headers=admin_headers, json={"alt_names": ["Mavivi-Kasanga"]}
    )
    assert edit.status_code == 200
    try:
        assert await asyncio.to_thread(started.wait, 10), "no rebuild started after the edit"
        # The rebuild is held: the webhook is answered all the same, with the index in hand.
        form = sms_form("+243810000101", "Attaque en cours a Mavivi")
        answer = await asyncio.wait_for(post_twilio(client, "/webhooks/twilio/sms", form), 20)
        assert answer.status_code == 200
        assert "K-" in answer.text  # the receipt names the alert's reference
        assert not release.is_set()
    finally:
        release.set()
    found = await client.get(
        "/api/v1/places", headers=viewer_headers, params={"q": "Mavivi-Kasanga"}
    )
    assert found.json()[0]["id"] == "mavivi"
    # The rebuild beside the webhooks hands the GIL over more often, then puts it back.
    assert sys.getswitchinterval() == switch_interval


def test_overlapping_rebuilds_put_the_switch_interval_back() -> None:
    before = sys.getswitchinterval()
    first, second = service._gil_handed_over_often(), service._gil_handed_over_often()
    first.__enter__()
    second.__enter__()
    assert sys.getswitchinterval() <= service.REBUILD_SWITCH_INTERVAL
    first.__exit__(None, None, None)  # the first ends while the second still runs
    assert sys.getswitchinterval() <= service.REBUILD_SWITCH_INTERVAL
    second.__exit__(None, None, None)
    assert sys.getswitchinterval() == before


async def test_a_rebuild_under_way_at_shutdown_gives_its_connection_back(
    engine: AsyncEngine,
    sessionmaker: async_sessionmaker[AsyncSession],
    demo: None,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A rebuild left reading places when the gateway stops would keep its connection, and
    its transaction open, for as long as the process lives (a TRUNCATE or a migration then
    waits on it)."""
    cache = service.GazetteerCache(served_area=people.served_area)
    await cache.load(sessionmaker)
    async with sessionmaker() as session, session.begin():
        session.add(Place(id="kasanga", name="Kasanga", lat=0.61, lon=29.51, admin2="Beni"))
    monkeypatch.setattr(service, "REBUILD_PAUSE", 60.0)  # held after its first rows
    cache.invalidate()
    pool = engine.sync_engine.pool
    for _ in range(200):
        if pool.checkedout():  # type: ignore[attr-defined]
            break
        await asyncio.sleep(0.01)
    assert pool.checkedout() == 1, "the rebuild never started"  # type: ignore[attr-defined]

    await asyncio.wait_for(cache.close(), 5)

    assert pool.checkedout() == 0  # type: ignore[attr-defined]
    cache.invalidate()  # after close: no rebuild starts
    await asyncio.sleep(0.05)
    assert pool.checkedout() == 0  # type: ignore[attr-defined]
