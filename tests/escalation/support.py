"""A gateway started in-process, sending through the local Twilio stand-in."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.alerts.models import Alert
from app.escalation.service import advance_due
from app.kit.clock import utcnow
from app.kit.config import Settings
from app.kit.db import unit_of_work
from app.main import create_app
from app.outbox.models import Delivery
from tests.fakes.twilio_api import TwilioFake, asgi_sink
from tests.harness.gateway import running
from tests.support import PUBLIC_URL, TWILIO_TOKEN, post_twilio, sms_form, wait_until

SMS = "/webhooks/twilio/sms"
CLA_BENI = "+243820000201"  # zones Beni|Lubero, French
CLA_OICHA = "+243820000202"  # zone Beni, Swahili
CLA_RUTSHURU = "+243820000203"
JOC_NORD_KIVU = "+243830000301"
# The duty officer's phone, no liaison's, which a policy lists beside CLA Beni's.
DUTY_PHONE = "+243899000001"
DUTY_PHONE_AND_BENI = {
    "name": "duty-phone-and-beni",
    "priority": 1,
    "match": {"admin1": ["Nord-Kivu"]},
    "steps": [
        {"after_seconds": 0, "notify": {"phones": [DUTY_PHONE, CLA_BENI]}, "channels": ["sms"]}
    ],
}
FOCAL_MAVIVI = "+243810000101"
FOCAL_ERINGETI = "+243810000103"  # another village of Beni
FOCAL_RUTSHURU = "+243810000107"


@dataclass
class Gateway:
    """A running gateway, its Twilio stand-in and its database."""

    app: FastAPI
    client: httpx.AsyncClient
    fake: TwilioFake
    sessionmaker: async_sessionmaker[AsyncSession]
    settings: Settings

    async def sms(self, phone: str, body: str) -> httpx.Response:
        """An inbound SMS, signed as Twilio would."""
        response = await post_twilio(self.client, SMS, sms_form(phone, body))
        assert response.status_code == 200, response.text
        return response

    def sent_to(self, phone: str) -> list[str]:
        """Bodies of the SMS Twilio accepted for `phone`."""
        return [
            r.body or "" for r in self.fake.requests if r.to == phone and r.response_status == 201
        ]

    async def wait_for(
        self, condition: Callable[[], bool | Awaitable[bool]], within: float = 5.0
    ) -> None:
        """Wait until `condition()` holds (the worker runs in this loop)."""
        await wait_until(condition, within)

    async def outbox(self, **where: Any) -> list[Delivery]:
        """Deliveries written so far (sent or not), e.g. `outbox(recipient=..., purpose=...)`."""
        async with self.sessionmaker() as s:
            stmt = select(Delivery).filter_by(**where).order_by(Delivery.id)
            return list((await s.scalars(stmt)).all())

    async def paged(self, phone: str) -> bool:
        """Whether a page to `phone` is recorded as sent (a liaison's bare OK is about the
        last page sent to them before it came in)."""
        pages = await self.outbox(recipient=phone, purpose="page")
        return any(d.sent_at is not None for d in pages)

    async def delivery(self, delivery_id: int) -> Delivery:
        """One delivery as it is now."""
        async with self.sessionmaker() as s:
            found = await s.get(Delivery, delivery_id)
        assert found is not None
        return found

    async def advance(self, seconds: float) -> int:
        """Run the escalation steps due `seconds` from now (instead of waiting for them)."""
        return await self.advance_to(utcnow() + timedelta(seconds=seconds))

    async def advance_to(self, at: datetime) -> int:
        """Run the escalation steps due at `at`."""
        async with unit_of_work(self.sessionmaker) as session:
            return await advance_due(session, self.settings, at, 100)

    async def flush_callbacks(self, **kwargs: Any) -> None:
        """Deliver the status callbacks Twilio would have posted."""
        await self.fake.flush_callbacks(asgi_sink(self.client), **kwargs)

    async def alert(self, ref: str | None = None) -> Alert:
        """The alert with this ref (or the newest one)."""
        async with self.sessionmaker() as s:
            stmt = select(Alert).order_by(Alert.id.desc())
            if ref:
                stmt = select(Alert).where(Alert.ref == ref)
            found = await s.scalar(stmt)
        assert found is not None
        return found


def ref_in(text: str) -> str:
    """The K-XXXX reference in a TwiML reply or an SMS."""
    import re

    match = re.search(r"K-[2-9A-HJKMNP-Z]{4}", text)
    assert match, text
    return match.group()


@asynccontextmanager
async def gateway(settings: Settings, **overrides: Any) -> AsyncIterator[Gateway]:
    """Start the Twilio stand-in and a gateway sending through it (no poll: 30 s).

    Tests ask for the `engine` fixture too: it empties the tables first.
    """
    with TwilioFake(auth_token=TWILIO_TOKEN) as fake:
        values: dict[str, Any] = {
            "database_url": settings.database_url,
            "public_url": PUBLIC_URL,
            "worker_poll_seconds": 30.0,
            "reprocess_interval_seconds": 30.0,
            "retry_base_seconds": 0.05,
            # The per-number rate has its own test; here it would only slow the tests down.
            "sms_rate_per_second": 50.0,
            "sms_burst": 10,
            "demo": True,
        }
        values.update(overrides)
        gw_settings = fake.settings(**values)
        app = create_app(gw_settings)
        async with running(app) as client:
            # The app's own session factory: its commits wake the app's worker.
            yield Gateway(app, client, fake, app.state.sessionmaker, gw_settings)
