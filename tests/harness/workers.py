"""How many test processes `pytest -n auto` starts against one PostgreSQL server.

xdist's `auto` is one process per CPU. On PostgreSQL each process holds several connections
at once (its pool, a gateway started as a process with its own pool, a worker, the tests of
concurrent writers), and a server allows `max_connections` (100 by default) in all: on a
machine with many cores, processes would fail with "too many clients already" midway through
the run. So on PostgreSQL `auto` is also capped by the connections the server has free.
"""

from __future__ import annotations

import asyncio
import os

import asyncpg
from sqlalchemy import make_url

# Connections one test process may hold at once on PostgreSQL: the most seen was 25
# (pg_stat_activity sampled every 0.25 s through a whole `-n 2` run on 4 December 2026),
# and a sample can miss a moment's peak.
CONNECTIONS_PER_PROCESS = 30


def cpus() -> int:
    """The CPUs this process may run on (what xdist counts for `auto` without psutil)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def processes_for(cpus: int, free_connections: int) -> int:
    """One per CPU, no more than the free connections allow, and at least one."""
    return max(1, min(cpus, free_connections // CONNECTIONS_PER_PROCESS))


async def _free_connections(url: str) -> int:
    conn = await asyncpg.connect(url, timeout=5)
    try:
        row = await conn.fetchrow(
            "SELECT current_setting('max_connections')::int"
            " - current_setting('superuser_reserved_connections')::int"
            " - (SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend')"
            " AS free"
        )
    finally:
        await conn.close()
    return int(row["free"]) if row else 0


def free_connections(url: str) -> int | None:
    """Connections the server at `url` (a postgresql:// URL) has free now; None when it cannot
    be asked (the fixtures then say what is wrong with the server)."""
    plain = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    try:
        return asyncio.run(_free_connections(plain))
    except Exception:
        return None
