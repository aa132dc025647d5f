"""Shared by the fault-injection tests: webhooks at a steady pace, and the invariants every
fault must keep (each message answered 2xx is one alert, every page is sent, none twice
outside the ambiguous window)."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from itertools import count
from pathlib import Path

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.alerts.models import Alert
from app.inbound.models import InboundMessage
from app.outbox.models import Delivery, DeliveryAttempt
from tests.fakes.twilio_api import TwilioFake
from tests.harness.processes import worker_env
from tests.support import PUBLIC_URL, TWILIO_TOKEN, sign, sms_form, wait_until

SMS = "/webhooks/twilio/sms"
FOCAL_POINTS = ("+243810000101", "+243810000102", "+243810000103")
PLACES = ("Mavivi", "Oicha", "Eringeti")
SENT = frozenset({"queued", "accepted", "sent", "delivered"})
# What Twilio waits for an answer (read timeout) before it gives up on a webhook.
TWILIO_TIMEOUT = 15.0

Maker = async_sessionmaker[AsyncSession]
_n = count(1)


def critical_sms() -> dict[str, str]:
    """A new critical report (its own text: never folded into another alert as a resend)."""
    n = next(_n)
    i = n % len(FOCAL_POINTS)
    body = f"Attaque en cours a {PLACES[i]}, les ADF ont tue des gens, message {n}"
    return sms_form(FOCAL_POINTS[i], body)


class Twilio:
    """Posts inbound SMS as Twilio does: signed, 15 s timeout, retried when not answered 2xx
    (what the webhook URL's `#rc=…&rp=5xx,rt,ct` fragment asks Twilio to do)."""

    def __init__(self, client: httpx.AsyncClient, token: str = TWILIO_TOKEN) -> None:
        self.client = client
        self.token = token
        self.answers: dict[str, int] = {}  # MessageSid -> last HTTP status (0: no answer)
        self.forms: dict[str, dict[str, str]] = {}
        self._posts: set[asyncio.Task[None]] = set()

    async def post(self, form: dict[str, str]) -> int:
        """One try; the status (0 when the connection failed or timed out)."""
        sid = form["MessageSid"]
        self.forms[sid] = form
        headers = {"X-Twilio-Signature": sign(SMS, form, self.token, PUBLIC_URL)}
        try:
            response = await self.client.post(
                SMS, data=form, headers=headers, timeout=TWILIO_TIMEOUT
            )
            status = response.status_code
        except httpx.HTTPError:
            status = 0
        self.answers[sid] = status
        return status

    async def steady(self, stop: asyncio.Event, per_second: float = 2.0) -> None:
        """New reports at a steady pace until `stop`, each posted without waiting for the last."""
        while not stop.is_set():
            task = asyncio.create_task(self.post(critical_sms()))
            self._posts.add(task)
            task.add_done_callback(self._posts.discard)
            await asyncio.sleep(1 / per_second)
        await asyncio.gather(*self._posts)

    @asynccontextmanager
    async def traffic(self, per_second: float = 2.0) -> AsyncIterator[None]:
        """New reports at a steady pace for the duration of the `async with` block."""
        stop = asyncio.Event()
        task = asyncio.create_task(self.steady(stop, per_second))
        try:
            yield
        finally:
            stop.set()
            await task

    async def retry_unanswered(self, within: float = 15.0) -> None:
        """Retry every message not answered 2xx until it is (Twilio's retries)."""
        deadline = time.monotonic() + within
        while failed := [sid for sid, status in self.answers.items() if not 200 <= status < 300]:
            assert time.monotonic() < deadline, [self.answers[sid] for sid in failed]
            await asyncio.gather(*(self.post(self.forms[sid]) for sid in failed))
            await asyncio.sleep(0.5)


async def settled(sessionmaker: Maker) -> bool:
    """Every inbound message processed and every page sent."""
    async with sessionmaker() as s:
        waiting = await s.scalar(
            select(InboundMessage.id).where(InboundMessage.status != "processed").limit(1)
        )
        unsent = await s.scalar(
            select(Delivery.id)
            .where(Delivery.purpose == "page", Delivery.status.not_in(SENT))
            .limit(1)
        )
    return waiting is None and unsent is None


async def wait_settled(sessionmaker: Maker, within: float, log: Path | None = None) -> None:
    """Wait until `settled`; fail saying what is not (and the end of a process's log)."""
    try:
        await wait_until(lambda: settled(sessionmaker), within=within)
    except AssertionError:
        tail = log.read_bytes()[-3000:].decode(errors="replace") if log is not None else ""  # noqa: ASYNC240
        raise AssertionError(
            f"not settled within {within:.1f} s:\n{await unsettled(sessionmaker)}\n{tail}"
        ) from None


async def unsettled(sessionmaker: Maker) -> str:
    """What is not settled yet (for a failure's message)."""
    async with sessionmaker() as s:
        messages = (
            await s.execute(
                select(
                    InboundMessage.id,
                    InboundMessage.status,
                    InboundMessage.attempts,
                    InboundMessage.next_attempt_at,
                    InboundMessage.last_error,
                ).where(InboundMessage.status != "processed")
            )
        ).all()
        pages = (
            await s.execute(
                select(
                    Delivery.id,
                    Delivery.status,
                    Delivery.attempts,
                    Delivery.due_at,
                    Delivery.lease_until,
                    Delivery.last_error,
                ).where(Delivery.purpose == "page", Delivery.status.not_in(SENT))
            )
        ).all()
        activity = []
        if s.get_bind().dialect.name == "postgresql":
            from sqlalchemy import text

            activity = (
                await s.execute(
                    text(
                        "SELECT pid, state, wait_event_type, left(query, 80), "
                        "now() - xact_start FROM pg_stat_activity "
                        "WHERE datname = current_database() AND pid <> pg_backend_pid()"
                    )
                )
            ).all()
    return f"messages: {messages}\npages: {pages}\nsessions: {activity}"


async def check_invariants(sessionmaker: Maker, twilio: Twilio, fake: TwilioFake) -> int:
    """The invariants a fault must keep; returns how many pages went out."""
    async with sessionmaker() as s:
        messages = {m.provider_sid: m for m in (await s.scalars(select(InboundMessage))).all()}
        alert_ids = set((await s.scalars(select(Alert.id))).all())
        pages = (await s.scalars(select(Delivery).where(Delivery.purpose == "page"))).all()
        recorded = set(
            (
                await s.scalars(
                    select(DeliveryAttempt.provider_id).where(
                        DeliveryAttempt.provider_id.is_not(None)
                    )
                )
            ).all()
        )
    answered = [sid for sid, status in twilio.answers.items() if 200 <= status < 300]
    assert answered, "no message was answered 2xx"
    # Every message answered 2xx is exactly one alert; no alert comes from anything else.
    for sid in answered:
        message = messages.get(sid)
        assert message is not None, f"{sid} answered 2xx but not stored"
        assert message.status == "processed" and message.alert_id is not None, sid
    assert len({messages[sid].alert_id for sid in answered}) == len(answered)
    assert alert_ids == {messages[sid].alert_id for sid in answered}
    # Every page is delivered to Twilio.
    assert pages, "no page was written"
    accepted = [r for r in fake.requests if r.response_status == 201]
    sids = {r.sid for r in accepted}
    for page in pages:
        assert page.status in SENT, (page.id, page.status, page.last_error)
        assert page.provider_id in sids
    # None twice, except sends whose outcome the gateway never learned (the ambiguous window:
    # Twilio took it but the answer was lost to a timeout, a reset or a killed worker).
    known = Counter((r.to, r.body) for r in accepted if r.sid in recorded)
    assert set(known.values()) == {1}, [k for k, n in known.items() if n > 1]
    return len(pages)


def env_of(database_url: str, fake: TwilioFake, **settings: object) -> dict[str, str]:
    """Environment of a gateway or worker process sending through `fake` (short lease,
    quick retries, each report its own incident)."""
    return worker_env(
        database_url,
        fake,
        public_url=PUBLIC_URL,
        lease_seconds=3,
        retry_base_seconds=0.2,
        reprocess_interval_seconds=1,
        reprocess_grace_seconds=2,
        corroboration_window_hours=1e-4,  # each report its own incident, paged on its own
        sms_rate_per_second=50,
        sms_burst=10,
        **settings,
    )
