"""kill -9 under load, of the gateway (API + worker in one process) and of a `kengele worker`:
each message answered 2xx is one alert, every page is sent, none twice except a send whose
answer was lost with the process (the documented at-least-once window)."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import httpx
import pytest

from app.kit.config import Settings
from tests.fakes.twilio_api import TwilioFake
from tests.faults.proxy import DatabaseProxy
from tests.faults.support import Maker, Twilio, check_invariants, critical_sms, env_of, wait_settled
from tests.harness.processes import (
    Procs,
    kill_worker,
    start_gateway,
    start_worker,
    stop_worker,
    worker_name,
)
from tests.support import wait_until

pytestmark = [pytest.mark.faults, pytest.mark.usefixtures("engine", "demo")]


async def test_kill_9_of_the_gateway_under_load(
    settings: Settings, sessionmaker: Maker, fake: TwilioFake, procs: Procs, tmp_path: Path
) -> None:
    env = env_of(settings.database_url, fake)
    log = tmp_path / "gateway-1.log"
    url = await start_gateway(env, log, procs)
    async with httpx.AsyncClient(base_url=url) as client:
        twilio = Twilio(client, token=fake.auth_token)
        async with twilio.traffic():
            await wait_until(lambda: len(fake.requests) >= 4, within=15, what="pages under way")
            procs[-1].kill()  # kill -9 in the middle of webhooks and sends
            await asyncio.sleep(1.0)
    log = tmp_path / "gateway-2.log"
    url = await start_gateway(env, log, procs)
    async with httpx.AsyncClient(base_url=url) as client:
        twilio.client = client
        async with twilio.traffic():
            await asyncio.sleep(2.0)
        await twilio.retry_unanswered()
        await wait_settled(sessionmaker, within=20, log=log)
        pages = await check_invariants(sessionmaker, twilio, fake)
    print(f"gateway kill: {len(twilio.answers)} reports, {pages} pages, {len(fake.requests)} sends")


async def test_kill_9_of_a_worker_under_load(
    settings: Settings, sessionmaker: Maker, fake: TwilioFake, procs: Procs, tmp_path: Path
) -> None:
    env = env_of(settings.database_url, fake)
    fake.latency = 0.2  # requests stay at Twilio a while: some are in flight at the kill
    url = await start_gateway(env, tmp_path / "api.log", procs, "--no-worker")
    log_a, log_b = tmp_path / "worker-a.log", tmp_path / "worker-b.log"
    procs.append(start_worker(env, log_a))
    await wait_until(lambda: worker_name(log_a), within=30, what="worker A")
    async with httpx.AsyncClient(base_url=url) as client:
        twilio = Twilio(client, token=fake.auth_token)
        async with twilio.traffic():
            await wait_until(lambda: len(fake.requests) >= 4, within=15, what="pages under way")
            kill_worker(procs[-1])  # kill -9 while sends are at Twilio
            procs.append(start_worker(env, log_b))
            await asyncio.sleep(3.0)
        await twilio.retry_unanswered()
        await wait_settled(sessionmaker, within=20, log=log_b)
        pages = await check_invariants(sessionmaker, twilio, fake)
    assert all(200 <= status < 300 for status in twilio.answers.values())
    print(f"worker kill: {len(twilio.answers)} reports, {pages} pages, {len(fake.requests)} sends")


@pytest.mark.postgresql  # the database connection to cut is PostgreSQL's (SQLite is a local file)
async def test_a_kengele_worker_through_a_12_s_database_cut_pages_the_next_sms_within_5_s(
    settings: Settings, sessionmaker: Maker, fake: TwilioFake, procs: Procs, tmp_path: Path
) -> None:
    """The reproduction of issue #9: `serve --no-worker` and `kengele worker` through a proxy
    to PostgreSQL, cut 12 s while idle; the next critical SMS is paged within 5 s, and the
    worker still stops cleanly."""
    async with DatabaseProxy(settings.database_url) as proxy:
        env = env_of(proxy.database_url, fake, worker_poll_seconds=10)
        url = await start_gateway(env, tmp_path / "api.log", procs, "--no-worker")
        log = tmp_path / "worker.log"
        procs.append(start_worker(env, log))
        await wait_until(lambda: worker_name(log), within=30, what="the worker")
        async with httpx.AsyncClient(base_url=url) as client:
            twilio = Twilio(client, token=fake.auth_token)
            assert await twilio.post(critical_sms()) == 200
            await wait_until(lambda: fake.requests, within=5, what="the first page")
            before = len(fake.requests)

            proxy.cut()
            await asyncio.sleep(12.0)
            proxy.restore()

            sent = time.monotonic()
            assert await twilio.post(critical_sms()) == 200
            await wait_until(lambda: len(fake.requests) > before, within=5, what="the page")
            print(f"worker through a 12 s cut: paged {time.monotonic() - sent:.2f} s after")
            await wait_settled(sessionmaker, within=10, log=log)
            await check_invariants(sessionmaker, twilio, fake)
        # In a thread: the proxy lives in this loop, and the worker's stop goes through it.
        code = await asyncio.to_thread(stop_worker, procs[-1])
        assert code == 0, f"exit {code}: " + log.read_text()[-1500:]
