"""Outbox workers as real processes (`kengele worker`) sending through the Twilio fake.

- Two workers on PostgreSQL share 500 deliveries: every SMS goes out exactly once.
- A worker killed after its claim and before its send: another worker sends every row once
  the lease has expired, and nothing twice.
- A worker killed while its requests were at Twilio: the rows are sent again after the lease
  (the at-least-once window documented in docs/DELIVERY.md).

The fake keeps status callbacks queued (manual mode): no gateway HTTP server runs here.
"""

from __future__ import annotations

import json
from collections import Counter
from datetime import datetime
from functools import partial
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.escalation.service import seed_default_policies
from app.kit.clock import utcnow
from app.kit.config import Settings
from app.kit.db import unit_of_work
from app.outbox.models import CHANNEL_SMS, PENDING, SENDING, Delivery, DeliveryAttempt
from app.outbox.service import sending_number
from app.outbox.wakeup import mark_work
from tests.fakes.twilio_api import TwilioFake
from tests.harness.processes import (
    Procs,
    kill_worker,
    start_worker,
    stop_worker,
    worker_env,
    worker_name,
)
from tests.support import wait_until

Maker = async_sessionmaker[AsyncSession]


async def insert_sms(sessionmaker: Maker, settings: Settings, n: int) -> None:
    """`n` due SMS ("msg 0" ... to distinct numbers) written in one transaction."""
    now = utcnow()
    async with unit_of_work(sessionmaker) as session:
        # What `kengele serve` seeds on an empty database; done here so that worker processes
        # starting together do not race to insert the same default policies.
        await seed_default_policies(session)
        session.add_all(
            Delivery(
                channel=CHANNEL_SMS,
                purpose="test",
                status=PENDING,
                recipient=f"+2438100{i:05d}",
                sender=sending_number(settings),
                body=f"msg {i}",
                due_at=now,
                max_attempts=settings.delivery_max_attempts,
            )
            for i in range(n)
        )
        await session.flush()
        await mark_work(session)  # NOTIFY on PostgreSQL: listening workers wake at commit


async def unfinished(sessionmaker: Maker) -> int:
    """Rows not yet out of pending/sending."""
    async with sessionmaker() as session:
        stmt = select(func.count()).where(Delivery.status.in_((PENDING, SENDING)))
        return int(await session.scalar(stmt) or 0)


async def rows(sessionmaker: Maker) -> list[Delivery]:
    async with sessionmaker() as session:
        return list((await session.scalars(select(Delivery).order_by(Delivery.id))).all())


async def attempts(sessionmaker: Maker) -> list[DeliveryAttempt]:
    async with sessionmaker() as session:
        stmt = select(DeliveryAttempt).order_by(DeliveryAttempt.id)
        return list((await session.scalars(stmt)).all())


def logs(*paths: Path) -> str:
    return "\n".join(f"--- {p.name}\n{p.read_text(errors='replace')[-4000:]}" for p in paths)


@pytest.mark.postgresql  # SKIP LOCKED between worker processes
async def test_two_workers_send_500_deliveries_exactly_once(
    database_url: str, sessionmaker: Maker, fake: TwilioFake, procs: Procs, tmp_path: Path
) -> None:
    """Two workers against PostgreSQL send 500 deliveries: every one exactly once."""
    n = 500
    # A slow Twilio and small batches: neither worker can take everything before the other.
    fake.latency = 0.02
    env = worker_env(database_url, fake, worker_batch=10, lease_seconds=30)
    settings = fake.settings(database_url=database_url)
    async with unit_of_work(sessionmaker) as session:
        await seed_default_policies(session)
    log_paths = [tmp_path / "worker-a.log", tmp_path / "worker-b.log"]
    for path in log_paths:
        procs.append(start_worker(env, path))
    # Both are up (and listening) before the work appears: they share it from the start.
    names = [
        await wait_until(partial(worker_name, p), within=30, what=f"{p.name} to start")
        for p in log_paths
    ]
    assert len(set(names)) == 2

    await insert_sms(sessionmaker, settings, n)
    try:
        await wait_until(
            lambda: _done(sessionmaker), within=60, what="every row to leave pending/sending"
        )
    except AssertionError:
        raise AssertionError(logs(*log_paths)) from None
    for proc in procs:
        stop_worker(proc)

    requests = fake.requests
    assert len(requests) == n
    assert all(r.authorized for r in requests)
    bodies = Counter(r.body for r in requests)
    assert set(bodies) == {f"msg {i}" for i in range(n)}
    assert set(bodies.values()) == {1}
    assert all(r.to == f"+2438100{int(str(r.body)[4:]):05d}" for r in requests)

    deliveries = await rows(sessionmaker)
    assert len(deliveries) == n
    assert {d.status for d in deliveries} == {"queued"}
    assert {d.attempts for d in deliveries} == {1}
    assert all(d.lease_until is None and d.leased_by is None for d in deliveries)
    assert {d.provider_id for d in deliveries} == {r.sid for r in requests}

    tried = await attempts(sessionmaker)
    assert len(tried) == n
    assert {a.status for a in tried} == {"ok"}
    assert Counter(a.delivery_id for a in tried) == Counter({d.id: 1 for d in deliveries})
    by_worker = Counter(a.worker for a in tried)
    assert set(by_worker) == set(names), by_worker  # both workers did part of the work
    assert min(by_worker.values()) >= 10, by_worker


async def _done(sessionmaker: Maker) -> bool:
    return await unfinished(sessionmaker) == 0


async def test_worker_killed_after_claim_rows_sent_once_after_lease(
    database_url: str, sessionmaker: Maker, fake: TwilioFake, procs: Procs, tmp_path: Path
) -> None:
    """A worker process killed mid-batch, after its claim and before its send: every row is
    sent by another worker once the lease has expired, and none twice."""
    n, lease = 20, 3.0
    # Every row in one claim (a worker claims no more than it may send at once).
    env = worker_env(database_url, fake, worker_batch=50, send_concurrency=50, lease_seconds=lease)
    settings = fake.settings(database_url=database_url)
    await insert_sms(sessionmaker, settings, n)

    marker = tmp_path / "crash.json"
    log_a, log_b = tmp_path / "worker-a.log", tmp_path / "worker-b.log"
    crashing = start_worker(env, log_a, crash_marker=marker)
    procs.append(crashing)
    await wait_until(marker.exists, within=30, what="the worker to claim and crash")
    await wait_until(lambda: crashing.poll() is not None, within=10, what="the crash")
    assert crashing.returncode == -9, logs(log_a)

    crash = json.loads(marker.read_text())
    lease_until = datetime.fromisoformat(crash["lease_until"])
    # The claim was committed, nothing reached Twilio, no attempt was recorded.
    claimed = await rows(sessionmaker)
    assert utcnow() < lease_until, "too slow to look before the lease expired"
    assert {(d.status, d.leased_by, d.attempts) for d in claimed} == {(SENDING, crash["worker"], 1)}
    assert {d.lease_until for d in claimed} == {lease_until}
    assert fake.requests == []
    assert await attempts(sessionmaker) == []
    # B starts while A's lease still runs: it must wait for the lease to expire.
    procs.append(start_worker(env, log_b))

    try:
        await wait_until(
            lambda: _done(sessionmaker), within=30, what="every row to leave pending/sending"
        )
    except AssertionError:
        raise AssertionError(logs(log_a, log_b)) from None
    name_b = worker_name(log_b)
    assert name_b is not None and name_b != crash["worker"]

    requests = fake.requests
    assert len(requests) == n
    bodies = Counter(r.body for r in requests)
    assert set(bodies) == {f"msg {i}" for i in range(n)}
    assert set(bodies.values()) == {1}
    assert all(r.received_at >= lease_until for r in requests)  # not before the lease expired

    deliveries = await rows(sessionmaker)
    assert {d.status for d in deliveries} == {"queued"}
    assert {d.attempts for d in deliveries} == {2}  # one claim by the dead worker, one by B
    tried = await attempts(sessionmaker)
    assert len(tried) == n
    assert {(a.status, a.worker) for a in tried} == {("ok", name_b)}
    assert sorted(a.delivery_id for a in tried) == [d.id for d in deliveries]


async def test_worker_killed_while_twilio_has_the_request_sends_it_again(
    database_url: str, sessionmaker: Maker, fake: TwilioFake, procs: Procs, tmp_path: Path
) -> None:
    """The at-least-once window, documented: a worker killed after its request reached Twilio
    and before it recorded the answer. Nothing tells the next worker that Twilio has the
    message (the Messages API takes no idempotency key), so after the lease it is sent again:
    Twilio sees every body twice, and the row keeps the second message's SID."""
    n, lease = 3, 3.0
    fake.latency = 2.0  # the requests stay in flight long enough to kill the worker
    env = worker_env(database_url, fake, worker_batch=50, lease_seconds=lease)
    settings = fake.settings(database_url=database_url)
    await insert_sms(sessionmaker, settings, n)

    log_a, log_b = tmp_path / "worker-a.log", tmp_path / "worker-b.log"
    worker_a = start_worker(env, log_a)
    procs.append(worker_a)
    await wait_until(lambda: len(fake.requests) == n, within=30, what="requests at Twilio")
    kill_worker(worker_a)  # SIGKILL while Twilio holds every request
    name_a = worker_name(log_a)
    assert name_a is not None

    claimed = await rows(sessionmaker)
    assert {(d.status, d.leased_by, d.attempts) for d in claimed} == {(SENDING, name_a, 1)}
    assert await attempts(sessionmaker) == []
    lease_until = max(d.lease_until for d in claimed if d.lease_until is not None)

    fake.latency = 0.0
    procs.append(start_worker(env, log_b))
    try:
        await wait_until(
            lambda: _done(sessionmaker), within=30, what="every row to leave pending/sending"
        )
    except AssertionError:
        raise AssertionError(logs(log_a, log_b)) from None
    name_b = worker_name(log_b)

    requests = fake.requests
    bodies = Counter(r.body for r in requests)
    assert bodies == Counter({f"msg {i}": 2 for i in range(n)})  # each SMS went out twice
    again = requests[n:]
    assert all(r.received_at >= lease_until for r in again)  # only after the lease expired

    deliveries = await rows(sessionmaker)
    assert {(d.status, d.attempts) for d in deliveries} == {("queued", 2)}
    assert {d.provider_id for d in deliveries} == {r.sid for r in again}
    tried = await attempts(sessionmaker)
    assert {(a.status, a.worker) for a in tried} == {("ok", name_b)}
    assert sorted(a.delivery_id for a in tried) == [d.id for d in deliveries]
