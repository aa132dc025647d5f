"""The escalation step: pages again, to the next liaisons of a policy, while nobody takes
an alert. A background loop of the runtime ("escalation"), beside the outbox worker.

Each pass runs the steps that are due (the escalations are locked, SKIP LOCKED between
processes) in one transaction: the pages it writes wake the worker once it commits. Then it
sleeps until the next step falls due, or until a commit that wrote outbox work wakes it (a
new escalation may fall due sooner).
"""

from __future__ import annotations

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
        """Run the steps due now; returns how long to sleep unless woken sooner."""
        limit = self.settings.worker_batch
        async with unit_of_work(self.sessionmaker) as session:
            done = await escalation.advance_due(session, self.settings, utcnow(), limit)
        if done >= limit:
            return 0.0  # more may be due
        return await self.seconds_to_next()

    async def seconds_to_next(self) -> float:
        """Until the next step falls due; the poll interval at most. A step past due is
        held by another process's pass: looked at again a little later."""
        poll = self.settings.worker_poll_seconds
        async with self.sessionmaker() as session:
            due = await escalation.next_due_at(session)
        if due is None:
            return poll
        return min(max((due - utcnow()).total_seconds(), 0.1), poll)
