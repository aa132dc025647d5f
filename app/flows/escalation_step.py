"""The escalation step: pages again, to the next liaisons of a policy, while nobody takes
an alert. A background loop of the runtime ("escalation"), beside the outbox worker.

Each pass first reads when the next step falls due (one indexed statement). Only when one
is due does it run the due steps (the escalations are locked, SKIP LOCKED between processes)
in one transaction, each in a savepoint (one that fails is tried again a minute later, a
second later when the database aborted it for a conflict, and holds back no other): the
pages it writes wake the worker once it commits. Then it sleeps until the next step falls
due, or until a commit that wrote outbox work wakes it (a new escalation may fall due
sooner): such a wake-up, the common case, costs that one read.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.escalation import service as escalation
from app.kit.clock import utcnow
from app.kit.config import Settings
from app.kit.db import unit_of_work


class EscalationSteps:
    """Runs the due escalation steps until stopped (one `step` a pass of its loop)."""

    def __init__(self, settings: Settings, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
        self.settings = settings
        self.sessionmaker = sessionmaker

    async def step(self) -> float:
        """Run the steps due now, if any; returns how long to sleep unless woken sooner."""
        due = await self.next_due()
        if due is None or due > utcnow():
            return self.wait_until(due)
        limit = self.settings.worker_batch
        async with unit_of_work(self.sessionmaker) as session:
            done = await escalation.advance_due(session, self.settings, utcnow(), limit)
        if done >= limit:
            return 0.0  # more may be due
        return self.wait_until(await self.next_due())

    async def seconds_to_next(self) -> float:
        """Until the next step falls due; the poll interval at most."""
        return self.wait_until(await self.next_due())

    async def next_due(self) -> datetime | None:
        """When the next step of an active escalation falls due (None: none is active)."""
        async with self.sessionmaker() as session:
            return await escalation.next_due_at(session)

    def wait_until(self, due: datetime | None) -> float:
        """Seconds until `due`, the poll interval at most. A step past due is held by
        another process's pass: looked at again a little later."""
        poll = self.settings.worker_poll_seconds
        if due is None:
            return poll
        return min(max((due - utcnow()).total_seconds(), 0.1), poll)
