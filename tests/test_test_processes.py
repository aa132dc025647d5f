"""`pytest -n auto` on PostgreSQL starts no more test processes than the server has
connections for (tests/harness/workers.py): on a machine with many cores, one process per
CPU would run the server out of connections midway through the suite."""

from __future__ import annotations

import pytest

from tests.conftest import BASE_DATABASE_URL
from tests.harness.workers import CONNECTIONS_PER_PROCESS, free_connections, processes_for


@pytest.mark.parametrize(
    ("cpus", "free", "expected"),
    [
        (2, 97, 2),  # CI's machine: one per CPU, as before
        (16, 97, 97 // CONNECTIONS_PER_PROCESS),  # a workstation on a default server
        (16, 10, 1),  # a server nearly full: one process still runs the suite
        (4, 10_000, 4),  # never more than one per CPU
    ],
)
def test_processes_are_one_per_cpu_within_the_free_connections(
    cpus: int, free: int, expected: int
) -> None:
    assert processes_for(cpus, free) == expected


@pytest.mark.postgresql
def test_the_free_connections_are_read_from_the_server() -> None:
    free = free_connections(BASE_DATABASE_URL)
    assert free is not None and 0 < free < 10_000


def test_a_server_that_cannot_be_asked_leaves_the_count_to_xdist() -> None:
    assert free_connections("postgresql://nobody@127.0.0.1:9/none") is None
