"""kill -9 under load, of the gateway (API + worker in one process) and of a `kengele worker`:
each message answered 2xx is one alert, every page is sent, none twice except a send whose
answer was lost with the process (the documented at-least-once window)."""

from __future__ import annotations

import asyncio
import re
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from app.config import Settings
from tests.fakes.twilio_api import TwilioFake
from tests.faults.support import Maker, Twilio, check_invariants, wait_settled
from tests.outbox.worker_support import (
    REPO_ROOT,
    Procs,
    kill_worker,
    start_worker,
    worker_env,
    worker_name,
)
from tests.support import PUBLIC_URL, wait_until

pytestmark = [pytest.mark.faults, pytest.mark.usefixtures("engine", "demo")]


def env_of(settings: Settings, fake: TwilioFake) -> dict[str, str]:
    return worker_env(
        settings.database_url,
        fake,
        public_url=PUBLIC_URL,
        lease_seconds=3,
        retry_base_seconds=0.2,
        reprocess_interval_seconds=1,
        reprocess_grace_seconds=2,
        corroboration_window_hours=1e-4,  # each report its own incident, paged on its own
        sms_rate_per_second=50,
        sms_burst=10,
    )


def _spawn(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        return subprocess.Popen(args, env=env, cwd=REPO_ROOT, stdout=out, stderr=subprocess.STDOUT)


async def start_gateway(env: dict[str, str], log: Path, procs: Procs, *args: str) -> str:
    """`kengele serve` on a free port; its URL once it answers."""
    proc = _spawn([sys.executable, "-m", "app.cli", "serve", "--port", "0", *args], env, log)
    procs.append(proc)

    def url() -> str | None:
        found = re.findall(r"Uvicorn running on (http://127\.0\.0\.1:\d+)", log.read_text())
        return found[-1] if found and proc.poll() is None else None

    found = await wait_until(url, within=30, what=f"{log.name} to listen")
    return str(found)


async def test_kill_9_of_the_gateway_under_load(
    settings: Settings, sessionmaker: Maker, fake: TwilioFake, procs: Procs, tmp_path: Path
) -> None:
    env = env_of(settings, fake)
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
    env = env_of(settings, fake)
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
