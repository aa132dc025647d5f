"""`kengele serve --workers 2`: two processes serve webhooks and both run the background work;
each SMS is still one alert and each page goes out once, also when one process is killed -9
(uvicorn starts another in its place). On SQLite the option is refused with its reason."""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from app.kit.config import Settings
from tests.fakes.twilio_api import TwilioFake
from tests.faults.support import Maker, Twilio, check_invariants, env_of, wait_settled
from tests.harness.processes import Procs, start_gateway
from tests.support import REPO_ROOT, wait_until

pytestmark = [pytest.mark.faults, pytest.mark.usefixtures("engine", "demo")]


def servers(pid: int) -> list[int]:
    """The serving processes `pid` started (not multiprocessing's resource tracker)."""
    path = Path(f"/proc/{pid}/task/{pid}/children")
    pids = [int(p) for p in path.read_text().split()] if path.exists() else []
    return [p for p in pids if b"spawn_main" in Path(f"/proc/{p}/cmdline").read_bytes()]


def serving(log: Path) -> set[str]:
    """Pids of the processes that said they serve."""
    return set(re.findall(r"Started server process \[(\d+)\]", log.read_text()))


def said_died(log: Path) -> bool:
    """uvicorn's supervisor saw a serving process die."""
    return "died" in log.read_text()


def at_once(pid: int) -> dict[str, str]:
    """The settings of how many messages a serving process takes at once, as it was given."""
    pairs = (v.split(b"=", 1) for v in Path(f"/proc/{pid}/environ").read_bytes().split(b"\0"))
    wanted = ("KENGELE_INLINE_AT_ONCE", "KENGELE_INBOUND_CONCURRENCY")
    return {k.decode(): v.decode() for k, *rest in pairs for v in rest if k.decode() in wanted}


async def answers(client: httpx.AsyncClient) -> bool:
    try:
        return (await client.get("/healthz", timeout=2)).status_code == 200
    except httpx.HTTPError:
        return False


@pytest.mark.postgresql  # --workers 2 (refused on SQLite: tested below)
async def test_two_processes_make_one_alert_and_one_page_per_sms_through_a_kill(
    settings: Settings, sessionmaker: Maker, fake: TwilioFake, procs: Procs, tmp_path: Path
) -> None:
    env = env_of(settings.database_url, fake)
    log = tmp_path / "gateway.log"
    url = await start_gateway(env, log, procs, "--workers", "2")
    try:
        await _two_processes_through_a_kill(url, log, sessionmaker, fake, procs)
    finally:
        # The parent is killed -9 by the `procs` fixture: its processes must stop with it.
        parent = procs[-1].pid
        left = servers(parent)
        procs[-1].kill()
        await wait_until(
            lambda: not any(Path(f"/proc/{p}").exists() for p in left),
            within=30,
            what="the serving processes to stop once their parent is gone",
        )


async def _two_processes_through_a_kill(
    url: str, log: Path, sessionmaker: Maker, fake: TwilioFake, procs: Procs
) -> None:
    await wait_until(lambda: len(serving(log)) == 2, within=90, what="two serving processes")
    # The messages in hand at once are the gateway's, shared by its processes: two processes
    # on a machine's cores take four each of auto intake's eight and of the loops' eight.
    for pid in servers(procs[-1].pid):
        assert at_once(pid) == {"KENGELE_INLINE_AT_ONCE": "4", "KENGELE_INBOUND_CONCURRENCY": "4"}
    async with httpx.AsyncClient(base_url=url) as client:
        await wait_until(lambda: answers(client), within=30, what="the gateway to answer")
        twilio = Twilio(client, token=fake.auth_token)
        async with twilio.traffic():
            await wait_until(lambda: len(fake.requests) >= 4, within=20, what="pages under way")
            (first, *_) = servers(procs[-1].pid)
            os.kill(first, 9)  # kill -9 of one serving process, amid webhooks and sends
            await wait_until(
                lambda: len(serving(log)) == 3, within=90, what="a process in place of the dead"
            )
            await asyncio.sleep(1.0)
        await twilio.retry_unanswered(within=30)
        await wait_settled(sessionmaker, within=30, log=log)
        pages = await check_invariants(sessionmaker, twilio, fake)
    assert said_died(log)
    print(f"serve --workers 2: {len(twilio.answers)} reports, {pages} pages")


def test_more_than_one_process_is_refused_on_sqlite(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KENGELE_")}
    env["KENGELE_DATABASE_URL"] = f"sqlite:///{tmp_path / 'k.db'}"
    done = subprocess.run(
        [sys.executable, "-m", "app.cli", "serve", "--workers", "2", "--port", "0"],
        env=env,
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1
    assert "--workers 2 needs PostgreSQL" in done.stderr
    assert "KENGELE_DATABASE_URL" in done.stderr
