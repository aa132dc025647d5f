"""Paging liaisons by SMS until someone acknowledges (the real twilio client, a local Twilio)."""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.exc import DBAPIError

from app.alerts.models import AlertEvent
from app.escalation import service as escalation_service
from app.escalation.models import Escalation
from app.flows import provider_reports, roster
from app.kit.clock import utcnow
from app.kit.config import Settings
from app.kit.db import CONFLICT_RETRIES, unit_of_work
from app.kit.gsm7 import fits_one_segment
from app.outbox import repository as outbox_repo
from app.outbox import service as outbox_service
from app.outbox.models import Delivery, EarlyStatus
from app.outbox.worker import Worker
from app.people.importers import parse_liaisons
from app.people.models import Liaison
from app.people.schemas import LiaisonUpdate
from app.providers.types import SendResult
from tests.channels.support import add_channel
from tests.escalation.support import (
    CLA_BENI,
    CLA_OICHA,
    CLA_RUTSHURU,
    DUTY_PHONE,
    DUTY_PHONE_AND_BENI,
    FOCAL_ERINGETI,
    FOCAL_MAVIVI,
    FOCAL_RUTSHURU,
    JOC_NORD_KIVU,
    Gateway,
    gateway,
    ref_in,
)
from tests.support import make_key

pytestmark = pytest.mark.usefixtures("engine")  # tables emptied first

# A policy that pages CLA Beni alone: anyone paged after him was paged by a fallback.
ONE_LIAISON_FIRST = {
    "name": "beni-one-first",
    "priority": 1,
    "match": {"admin1": ["Nord-Kivu"]},
    "steps": [{"after_seconds": 0, "notify": {"phones": [CLA_BENI]}, "channels": ["sms"]}],
}


async def test_critical_alert_pages_both_beni_liaisons_within_a_second(settings: Settings) -> None:
    async with gateway(settings) as gw:
        reply = await gw.sms(FOCAL_MAVIVI, "Attaque en cours a Mavivi, les ADF ont tue 3 personnes")
        answered = time.monotonic()
        ref = ref_in(reply.text)
        # The worker polls every 30 s: only the wake-up on commit can make this.
        await gw.wait_for(lambda: bool(gw.sent_to(CLA_BENI) and gw.sent_to(CLA_OICHA)))
        pages = [r for r in gw.fake.requests if r.to in (CLA_BENI, CLA_OICHA)]
        late = max(r.monotonic for r in pages) - answered
        assert late < 1.0, f"the last page reached Twilio {late:.2f} s after the webhook returned"
        french, swahili = gw.sent_to(CLA_BENI)[0], gw.sent_to(CLA_OICHA)[0]
        for page in (french, swahili):
            assert page.startswith(ref)
            assert fits_one_segment(page), page
            assert FOCAL_MAVIVI in page, "the liaison calls the reporter back"
            assert f"OK {ref[2:]}" in page
            assert "Mavivi (Beni)" in page
        assert "CRITIQUE ATTAQUE" in french and "Rep: OK" in french
        assert "SHAMBULIO" in swahili and "Jibu: OK" in swahili
        assert not gw.sent_to(JOC_NORD_KIVU), "the JOC waits for the policy's 5 minutes"


async def test_ok_from_one_liaison_stops_the_escalation_and_tells_the_other(
    settings: Settings,
) -> None:
    async with gateway(settings) as gw:
        ref = ref_in((await gw.sms(FOCAL_MAVIVI, "Attaque en cours a Mavivi")).text)
        await gw.wait_for(lambda: bool(gw.sent_to(CLA_OICHA)))

        answer = await gw.sms(CLA_BENI, f"ok {ref[2:].lower()}")

        assert f"{ref} pris" in answer.text
        await gw.wait_for(lambda: len(gw.sent_to(CLA_OICHA)) == 2)
        assert "CLA Beni" in gw.sent_to(CLA_OICHA)[1] and ref in gw.sent_to(CLA_OICHA)[1]
        await gw.wait_for(lambda: len(gw.sent_to(FOCAL_MAVIVI)) == 1)
        told = gw.sent_to(FOCAL_MAVIVI)[0]
        assert ref in told and "CLA" not in told and "MONUSCO" not in told
        assert (await gw.alert(ref)).status == "acknowledged"

        assert await gw.advance(3 * 3600) == 0, "nothing left to page"
        assert await gw.outbox(recipient=JOC_NORD_KIVU) == []
        assert len(await gw.outbox(recipient=CLA_BENI, purpose="page")) == 1
        async with gw.sessionmaker() as s:
            events = (await s.scalars(select(AlertEvent).order_by(AlertEvent.id))).all()
            liaison = await s.scalar(select(Liaison).where(Liaison.phone == CLA_BENI))
        assert liaison is not None
        assert ("acknowledged", f"liaison:{liaison.id}") in [(e.action, e.actor) for e in events]


async def test_a_bare_ok_takes_the_alert_the_liaison_was_paged_for_not_one_paged_since(
    settings: Settings,
) -> None:
    """A liaison answers "sawa" to the page they got. Meanwhile another village's report has
    written them a page that the sending number's rate still holds back: their OK is about
    the first alert. Taking the newest page written would acknowledge an alert they never
    saw, and cancel their page for it, while the one they did see went on escalating."""
    async with gateway(settings, sms_rate_per_second=0.001, sms_burst=2) as gw:
        first = ref_in((await gw.sms(FOCAL_MAVIVI, "Attaque en cours a Mavivi")).text)
        await gw.wait_for(lambda: gw.paged(CLA_OICHA))
        other = ref_in((await gw.sms(FOCAL_ERINGETI, "Attaque en cours a Eringeti")).text)
        held = await gw.outbox(recipient=CLA_OICHA, purpose="page", status="pending")
        assert len(held) == 1, "the second alert's page waits for the number's rate"

        answer = await gw.sms(CLA_OICHA, "sawa")

        assert first in answer.text and other not in answer.text
        assert (await gw.alert(first)).status == "acknowledged"
        assert (await gw.alert(other)).status == "new"
        assert [d.status for d in await gw.outbox(recipient=CLA_OICHA, purpose="page")] == [
            "queued",
            "pending",
        ], "the page of the alert not taken still goes out"


async def test_a_bare_ok_before_any_page_reached_the_liaison_takes_no_alert(
    settings: Settings,
) -> None:
    async with gateway(settings) as gw:
        never = asyncio.Event()
        gw.app.state.runtime.worker.before_send = lambda _delivery: never.wait()
        ref = ref_in((await gw.sms(FOCAL_MAVIVI, "Attaque en cours a Mavivi")).text)
        await gw.wait_for(lambda: gw.outbox(recipient=CLA_OICHA, status="sending"))

        answer = await gw.sms(CLA_OICHA, "OK")

        assert ref not in answer.text
        assert (await gw.alert(ref)).status == "new"


async def test_without_ok_the_joc_is_paged_after_the_wait_and_repeats_stop_at_times(
    settings: Settings,
) -> None:
    async with gateway(settings) as gw:
        ref = ref_in((await gw.sms(FOCAL_MAVIVI, "Attaque en cours a Mavivi")).text)
        await gw.wait_for(lambda: bool(gw.sent_to(CLA_OICHA)))

        # From the escalation's start, not from now: a loaded machine may take seconds
        # to send the first pages, which must not bring the JOC's step forward.
        async with gw.sessionmaker() as s:
            started = await s.scalar(select(Escalation.started_at))
        assert started is not None
        assert await gw.advance_to(started + timedelta(seconds=299)) == 0
        assert await gw.advance_to(started + timedelta(seconds=301)) == 1
        await gw.wait_for(lambda: bool(gw.sent_to(JOC_NORD_KIVU)))
        assert gw.sent_to(JOC_NORD_KIVU)[0].startswith(ref)

        # critical-default: repeat every 10 minutes, three times, then stop.
        for minutes in (15, 25, 35, 45, 55, 120):
            await gw.advance(minutes * 60)
        assert len(await gw.outbox(recipient=JOC_NORD_KIVU, purpose="page")) == 4
        assert len(await gw.outbox(recipient=CLA_BENI, purpose="page")) == 4
        await gw.wait_for(lambda: len(gw.sent_to(JOC_NORD_KIVU)) == 4)
        async with gw.sessionmaker() as s:
            escalation = await s.scalar(select(Escalation))
        assert escalation is not None
        assert (escalation.state, escalation.repeats_done) == ("done", 3)


async def test_undelivered_page_goes_to_the_zone_joc_when_every_liaison_was_paged(
    settings: Settings,
) -> None:
    async with gateway(settings) as gw:
        gw.fake.set_final_status(CLA_BENI, "undelivered", error_code=30003)
        await gw.sms(FOCAL_MAVIVI, "Attaque en cours a Mavivi")
        await gw.wait_for(lambda: bool(gw.sent_to(CLA_BENI) and gw.sent_to(CLA_OICHA)))
        await gw.wait_for(lambda: len(gw.fake.pending_callbacks) >= 4)
        await gw.flush_callbacks()
        await gw.wait_for(lambda: bool(gw.sent_to(JOC_NORD_KIVU)))


async def test_undelivered_page_goes_to_the_next_liaison_of_the_zone(
    settings: Settings,
    admin_headers: dict[str, str],
) -> None:
    async with gateway(settings) as gw:
        created = await gw.client.post(
            "/api/v1/policies", json=ONE_LIAISON_FIRST, headers=admin_headers
        )
        assert created.status_code == 201, created.text
        gw.fake.set_final_status(CLA_BENI, "undelivered", error_code=30003)

        await gw.sms(FOCAL_MAVIVI, "Attaque en cours a Mavivi")
        await gw.wait_for(lambda: bool(gw.sent_to(CLA_BENI)))
        assert await gw.outbox(recipient=CLA_OICHA) == [], "the policy pages one liaison"
        await gw.wait_for(lambda: len(gw.fake.pending_callbacks) >= 2)
        await gw.flush_callbacks()
        await gw.wait_for(lambda: bool(gw.sent_to(CLA_OICHA)))
        assert await gw.outbox(recipient=JOC_NORD_KIVU) == []


class _Deadlock(Exception):
    """What the driver raises for a deadlock: SQLSTATE 40P01."""

    sqlstate = "40P01"


@pytest.mark.parametrize("aborts", [1, CONFLICT_RETRIES + 1], ids=["once", "every-retry"])
async def test_an_undelivered_status_aborted_for_a_deadlock_still_pages_the_next_liaison(
    settings: Settings,
    admin_headers: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
    aborts: int,
) -> None:
    """The database aborts the transaction of a page's "undelivered" (another held its rows
    in the other order): it is tried again at once, and the next liaison is paged. Twilio
    posts a status once; lost, it would page nobody else. Aborted at every retry, it is kept
    and applied by the next pass over the statuses kept."""
    real = escalation_service.on_page_failed
    aborted: list[int] = []

    async def deadlocked(session: Any, settings: Settings, delivery: Delivery) -> Any:
        if len(aborted) < aborts:
            aborted.append(delivery.id)
            raise DBAPIError("UPDATE escalations ...", {}, _Deadlock("deadlock detected"))
        return await real(session, settings, delivery)

    monkeypatch.setattr(escalation_service, "on_page_failed", deadlocked)
    async with gateway(settings) as gw:
        created = await gw.client.post(
            "/api/v1/policies", json=ONE_LIAISON_FIRST, headers=admin_headers
        )
        assert created.status_code == 201, created.text
        gw.fake.set_final_status(CLA_BENI, "undelivered", error_code=30003)

        await gw.sms(FOCAL_MAVIVI, "Attaque en cours a Mavivi")
        await gw.wait_for(lambda: bool(gw.sent_to(CLA_BENI)))
        await gw.wait_for(lambda: len(gw.fake.pending_callbacks) >= 2)
        await gw.flush_callbacks()
        if aborts > CONFLICT_RETRIES:
            assert not gw.sent_to(CLA_OICHA)
            await provider_reports.apply_early(gw.sessionmaker, settings)

        await gw.wait_for(lambda: bool(gw.sent_to(CLA_OICHA)))
        assert len(aborted) == aborts
        [page] = await gw.outbox(recipient=CLA_BENI)
        assert page.status == "undelivered"


@pytest.mark.parametrize(
    ("status", "code", "attempts"),
    [(400, 21610, 1), (400, 21211, 1), (503, 20500, 2)],
    ids=["unsubscribed", "invalid-number", "attempts-spent"],
)
async def test_a_page_the_worker_gives_up_on_goes_to_the_next_liaison_of_the_zone(
    settings: Settings,
    admin_headers: dict[str, str],
    status: int,
    code: int,
    attempts: int,
) -> None:
    """Twilio refuses the page for good (the liaison once texted STOP, or their number is
    wrong), or every attempt fails: no status callback ever comes for it, the worker makes it
    dead. The next liaison of the zone is paged at once, as for an undelivered page; the
    policy's one step pages nobody else, so without this nobody would ever be paged."""
    async with gateway(settings, delivery_max_attempts=2) as gw:
        created = await gw.client.post(
            "/api/v1/policies", json=ONE_LIAISON_FIRST, headers=admin_headers
        )
        assert created.status_code == 201, created.text
        gw.fake.fail_number(CLA_BENI, code=code, status=status)

        ref = ref_in((await gw.sms(FOCAL_MAVIVI, "Attaque en cours a Mavivi")).text)

        await gw.wait_for(lambda: bool(gw.sent_to(CLA_OICHA)))
        assert gw.sent_to(CLA_OICHA)[0].startswith(ref)
        (refused,) = await gw.outbox(recipient=CLA_BENI, purpose="page")
        assert (refused.status, refused.attempts) == ("dead", attempts)
        assert not gw.sent_to(CLA_BENI)
        assert await gw.outbox(recipient=JOC_NORD_KIVU) == [], "a liaison of the zone was left"
        async with gw.sessionmaker() as s:
            fallback = await s.scalar(
                select(AlertEvent).where(AlertEvent.action == "page_fallback")
            )
        assert fallback is not None and fallback.detail["failed_delivery"] == refused.id


async def test_a_page_whose_worker_died_at_every_attempt_goes_to_the_next_liaison(
    settings: Settings, admin_headers: dict[str, str]
) -> None:
    """The worker that held the page never came back (killed mid-send, its lease ran out) and
    the page had no attempt left: buried dead by the next claim, and passed on."""
    async with gateway(settings, delivery_max_attempts=1, lease_seconds=1.5) as gw:
        created = await gw.client.post(
            "/api/v1/policies", json=ONE_LIAISON_FIRST, headers=admin_headers
        )
        assert created.status_code == 201, created.text
        listener = {"url": "https://8.8.8.8/kengele", "event_types": ["delivery.dead"]}
        subscribed = await gw.client.post("/api/v1/webhooks", json=listener, headers=admin_headers)
        assert subscribed.status_code == 201, subscribed.text
        hung = asyncio.Event()

        async def dies_on_beni(delivery: Any) -> None:
            if delivery.recipient == CLA_BENI:
                await hung.wait()  # as a worker killed before it sent

        gw.app.state.runtime.worker.before_send = dies_on_beni
        try:
            await gw.sms(FOCAL_MAVIVI, "Attaque en cours a Mavivi")
            await gw.wait_for(lambda: bool(gw.sent_to(CLA_OICHA)), within=8)
        finally:
            hung.set()
        (buried,) = await gw.outbox(recipient=CLA_BENI, purpose="page")
        assert (buried.status, buried.last_error) == ("dead", "its worker died at every attempt")
        assert not gw.sent_to(CLA_BENI)
        # Other systems hear of it, as of any delivery that went dead.
        async with gw.sessionmaker() as s:
            told = (
                await s.scalars(select(Delivery).where(Delivery.event_type == "delivery.dead"))
            ).all()
        assert [json.loads(t.body)["data"]["id"] for t in told] == [buried.id]


async def test_an_undelivered_status_that_comes_before_the_send_is_recorded_still_pages_the_next(
    settings: Settings,
    admin_headers: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Twilio's callbacks came while the worker could not record the page's send yet (it
    retries through a database blip): no delivery had that id. The statuses are kept, and
    applied once the send is recorded: the liaison whose page was undelivered is replaced."""
    monkeypatch.setattr(provider_reports, "UNKNOWN_SID_PAUSES", (0.05, 0.0))
    monkeypatch.setattr(provider_reports, "EARLY_STATUS_SECONDS", 0.2)
    recording = asyncio.Event()
    real_record = Worker._record

    async def recorded_late(self: Worker, batch: list[Any]) -> None:
        await recording.wait()
        await real_record(self, batch)

    monkeypatch.setattr(Worker, "_record", recorded_late)
    async with gateway(settings) as gw:
        created = await gw.client.post(
            "/api/v1/policies", json=ONE_LIAISON_FIRST, headers=admin_headers
        )
        assert created.status_code == 201, created.text
        gw.fake.set_final_status(CLA_BENI, "undelivered", error_code=30003)

        await gw.sms(FOCAL_MAVIVI, "Attaque en cours a Mavivi")
        await gw.wait_for(lambda: len(gw.fake.pending_callbacks) >= 2)
        await gw.flush_callbacks()  # sent, then undelivered: the send is not recorded yet
        async with gw.sessionmaker() as s:
            kept = (await s.scalars(select(EarlyStatus.status).order_by(EarlyStatus.id))).all()
        assert list(kept) == ["sent", "undelivered"]
        assert not gw.sent_to(CLA_OICHA)

        recording.set()
        await gw.wait_for(lambda: bool(gw.sent_to(CLA_OICHA)))
        (page,) = await gw.outbox(recipient=CLA_BENI, purpose="page")
        assert (page.status, page.provider_status) == ("undelivered", "undelivered")
        async with gw.sessionmaker() as s:
            assert (await s.scalars(select(EarlyStatus))).all() == [], "applied once, forgotten"


class _HeldPage:
    """The worker's SMS sender, but the first page to `phone` is held before its send until
    `release` is set (`hold`, the worker's `before_send`), then answered `outcome`."""

    def __init__(self, real: Any, phone: str, outcome: SendResult | None) -> None:
        self.real, self.phone, self.outcome = real, phone, outcome
        self.release = asyncio.Event()
        self.claimed: list[int] = []  # claims of the page, by delivery id
        self.leased: list[Delivery] = []  # the rows the worker holds, as it holds them
        self.sent: list[int] = []  # sends of the page

    def _held(self, delivery: Delivery) -> bool:
        return delivery.recipient == self.phone and delivery.purpose == "page"

    async def hold(self, delivery: Delivery) -> None:
        if self._held(delivery):
            self.claimed.append(delivery.id)
            self.leased.append(delivery)
            if len(self.claimed) == 1:
                await self.release.wait()

    async def send(self, delivery: Delivery, channels: Any = None) -> SendResult:
        if self._held(delivery):
            self.sent.append(delivery.id)
            if len(self.sent) == 1 and self.outcome is not None:
                return self.outcome
        result: SendResult = await self.real.send(delivery, channels)
        return result

    async def call(self, delivery: Delivery) -> SendResult:
        result: SendResult = await self.real.call(delivery)
        return result


RETRY = SendResult(ok=False, retryable=True, http_status=503, error="HTTP 503")
ALL_DOWN = SendResult(
    ok=False, retryable=False, channel_down=True, every_channel_down=True, error="down"
)


@pytest.mark.parametrize(
    ("outcome", "spare_channel", "lease_runs_out"),
    [(RETRY, False, False), (RETRY, True, False), (ALL_DOWN, False, False), (None, False, True)],
    ids=["retried", "next-channel", "waits-for-a-channel", "lease-ran-out"],
)
async def test_a_page_in_flight_when_the_alert_is_taken_is_not_sent_after_the_ok(
    settings: Settings, outcome: SendResult | None, spare_channel: bool, lease_runs_out: bool
) -> None:
    """CLA Beni answers OK while the page to CLA Oicha is with a worker (the OK cancels only
    the pages still queued). Its send then fails and would go back to the queue: for a retry,
    to the next channel of its route, to wait for a channel (hours, in an outage), or with
    its lease run out (its worker hung or died). Sent then, it would ask CLA Oicha for an OK
    about an alert already taken: it is cancelled instead. CLA Oicha hears only who took it."""
    # A lease that does not run out on a slow machine (the OK and its notices before the page
    # is let go); where running out is the point, it is run out by hand after the OK.
    async with gateway(settings, lease_seconds=60.0, channel_wait_seconds=0.2) as gw:
        if spare_channel:  # every page's route is twilio, then this one
            await add_channel(
                gw.sessionmaker,
                gw.settings,
                "console",
                "spare",
                numbers=["+243970000009"],
                options={"signing_key": "k" * 32},
                priority=200,
            )
        worker = gw.app.state.runtime.worker
        held = _HeldPage(worker.sms, CLA_OICHA, outcome)
        worker.sms, worker.before_send = held, held.hold
        ref = ref_in((await gw.sms(FOCAL_MAVIVI, "Attaque en cours a Mavivi")).text)
        await gw.wait_for(lambda: bool(gw.sent_to(CLA_BENI)) and bool(held.claimed))
        (page,) = await gw.outbox(recipient=CLA_OICHA, purpose="page")
        assert page.status == "sending"

        assert f"{ref} pris" in (await gw.sms(CLA_BENI, f"OK {ref[2:]}")).text
        await gw.wait_for(lambda: bool(gw.sent_to(CLA_OICHA)))  # told who took it
        if lease_runs_out:  # its worker hangs past its lease, and comes back too late
            past = utcnow() - timedelta(seconds=1)
            async with unit_of_work(gw.sessionmaker) as s:
                row = await s.get(Delivery, page.id)
                assert row is not None
                row.lease_until = past
            held.leased[0].lease_until = past  # as the worker holds it

            async def released() -> bool:
                await worker.run_once(10)  # the worker's passes release what ran out
                return (await gw.delivery(page.id)).status != "sending"

            await gw.wait_for(released)
        held.release.set()

        async def settled() -> bool:
            return (await gw.delivery(page.id)).status not in ("sending", "pending")

        await gw.wait_for(settled, within=8)
        page = await gw.delivery(page.id)
        assert page.status == "cancelled", page.last_error
        assert page.last_error == (
            "alert taken or closed" if lease_runs_out else "alert acknowledged"
        )
        assert held.claimed == [page.id], "the page was never claimed again"
        assert held.sent == ([] if lease_runs_out else [page.id])
        (told,) = gw.sent_to(CLA_OICHA)
        assert "CLA Beni" in told and f"OK {ref[2:]}" not in told
        assert (await gw.alert(ref)).status == "acknowledged"


async def test_corroborating_report_does_not_repage_and_is_counted_in_the_next_step(
    settings: Settings,
) -> None:
    async with gateway(settings) as gw:
        ref = ref_in((await gw.sms(FOCAL_MAVIVI, "Attaque en cours a Mavivi")).text)
        await gw.wait_for(lambda: bool(gw.sent_to(CLA_OICHA)))
        await gw.sms("+243810000104", "Attaque a Mavivi, les ADF tirent sur les gens")
        await gw.sms("+243810000103", "Mavivi attaque par des hommes armes")
        pages = await gw.outbox(recipient=CLA_BENI, purpose="page")
        assert len(pages) == 1, "no second page for the same event"
        await gw.advance(301)
        await gw.wait_for(lambda: bool(gw.sent_to(JOC_NORD_KIVU)))
        joc = gw.sent_to(JOC_NORD_KIVU)[0]
        assert joc.startswith(ref) and "(+2 rapports)" in joc


async def test_a_rise_in_severity_restarts_the_escalation(settings: Settings) -> None:
    async with gateway(settings) as gw:
        ref = ref_in((await gw.sms(FOCAL_MAVIVI, "Hommes armes vus a Mavivi")).text)
        await gw.wait_for(lambda: bool(gw.sent_to(CLA_BENI)))
        assert "HAUTE" in gw.sent_to(CLA_BENI)[0]
        await gw.sms("+243810000104", "Attaque en cours a Mavivi, des morts")
        await gw.wait_for(lambda: len(gw.sent_to(CLA_BENI)) == 2)
        assert gw.sent_to(CLA_BENI)[1].startswith(f"{ref} CRITIQUE")
        async with gw.sessionmaker() as s:
            escalation = await s.scalar(select(Escalation))
        assert escalation is not None
        assert (escalation.policy_name, escalation.severity) == ("critical-default", "critical")


async def _paging_ran_out(gw: Gateway, ago: timedelta) -> str:
    """A high alert of Mavivi whose paging ran every step (the liaisons, then the JOC) with
    nobody taking it, as if it had started `ago`; its ref."""
    ref = ref_in((await gw.sms(FOCAL_MAVIVI, "Hommes armes vus a Mavivi")).text)
    await gw.wait_for(lambda: len(gw.sent_to(CLA_BENI)) == 1)
    await gw.advance(901)
    await gw.wait_for(lambda: len(gw.sent_to(JOC_NORD_KIVU)) == 1)
    async with unit_of_work(gw.sessionmaker) as session:
        escalation = await session.scalar(select(Escalation))
        assert escalation is not None and escalation.state == "done"
        escalation.started_at = utcnow() - ago
    return ref


async def test_a_report_after_the_paging_ran_out_unanswered_pages_the_zone_again(
    settings: Settings,
) -> None:
    """Nobody answered the liaisons nor the JOC; an hour later another village reports the
    same men: the event must not go silent. The paging starts again, the report counted."""
    async with gateway(settings) as gw:
        ref = await _paging_ran_out(gw, timedelta(hours=1))

        await gw.sms("+243810000104", "Hommes armes a Mavivi, ils sont toujours la")

        await gw.wait_for(lambda: len(gw.sent_to(CLA_BENI)) == 2)
        again = gw.sent_to(CLA_BENI)[1]
        assert again.startswith(ref) and "(+1 rapport)" in again
        async with gw.sessionmaker() as s:
            escalation = await s.scalar(select(Escalation))
        assert escalation is not None and escalation.state == "active"


async def test_a_report_just_after_the_paging_ran_out_is_counted_without_a_page(
    settings: Settings,
) -> None:
    """A surge of reports right after the JOC was paged does not page the zone at each."""
    async with gateway(settings) as gw:
        await _paging_ran_out(gw, timedelta(seconds=901))

        await gw.sms("+243810000104", "Hommes armes a Mavivi, ils sont toujours la")

        await asyncio.sleep(0.3)  # the worker would have sent a page by now
        assert len(gw.sent_to(CLA_BENI)) == 1
        async with gw.sessionmaker() as s:
            escalation = await s.scalar(select(Escalation))
        assert escalation is not None
        assert (escalation.state, escalation.new_reports) == ("done", 1)


async def test_a_report_above_a_severity_lowered_by_hand_pages_again(settings: Settings) -> None:
    """The operations room lowered a critical alert to low (its paging stopped); a new report
    of deaths there is above what the alert says now, and pages, though no higher than the
    severity its paging had started at."""
    async with gateway(settings) as gw:
        ref = ref_in((await gw.sms(FOCAL_MAVIVI, "Attaque en cours a Mavivi, des morts")).text)
        await gw.wait_for(lambda: len(gw.sent_to(CLA_BENI)) == 1)
        operator = {"Authorization": f"Bearer {await make_key(gw.sessionmaker, 'operator')}"}
        alert = await gw.alert(ref)
        lowered = await gw.client.post(
            f"/api/v1/alerts/{alert.id}/actions",
            json={"action": "correct", "severity": "low"},
            headers=operator,
        )
        assert lowered.status_code == 200 and lowered.json()["paging"]["state"] == "stopped"

        await gw.sms("+243810000104", "Attaque a Mavivi, ils ont tue deux personnes")

        await gw.wait_for(lambda: len(gw.sent_to(CLA_BENI)) == 2)
        assert gw.sent_to(CLA_BENI)[1].startswith(f"{ref} CRITIQUE")


async def test_a_page_of_a_taken_alert_paged_again_that_fails_goes_to_the_next_person(
    settings: Settings,
) -> None:
    """CLA Beni took the alert; a report of deaths raises it to critical and its paging
    restarts. CLA Oicha's new page comes back undelivered: it goes on to the JOC at once, as
    any failed page of a running paging does, not five minutes later with the JOC's step."""
    async with gateway(settings) as gw:
        ref = ref_in((await gw.sms(FOCAL_MAVIVI, "Hommes armes vus a Mavivi")).text)
        await gw.wait_for(lambda: bool(gw.sent_to(CLA_OICHA)))
        assert f"{ref} pris" in (await gw.sms(CLA_BENI, f"OK {ref[2:]}")).text
        await gw.wait_for(lambda: len(gw.sent_to(CLA_OICHA)) == 2)  # told who took it
        await gw.flush_callbacks()
        gw.fake.set_final_status(CLA_OICHA, "undelivered", error_code=30003)

        await gw.sms("+243810000104", "Attaque en cours a Mavivi, des morts")
        await gw.wait_for(lambda: len(gw.sent_to(CLA_OICHA)) == 3)
        await gw.wait_for(lambda: len(gw.fake.pending_callbacks) >= 2)
        await gw.flush_callbacks()

        await gw.wait_for(lambda: bool(gw.sent_to(JOC_NORD_KIVU)))
        assert gw.sent_to(JOC_NORD_KIVU)[0].startswith(f"{ref} CRITIQUE")
        async with gw.sessionmaker() as s:
            fallback = [
                e
                for e in (await s.scalars(select(AlertEvent))).all()
                if e.action == "page_fallback"
            ]
        assert len(fallback) == 1


async def test_a_taken_alert_paged_again_at_a_higher_severity_retries_its_pages(
    settings: Settings,
) -> None:
    """CLA Beni took the alert; a report of deaths raises it to critical and its paging
    restarts. Those pages are written after the OK: one refused for a moment (503) is sent
    again, not cancelled as a page of an alert already taken."""
    async with gateway(settings) as gw:
        ref = ref_in((await gw.sms(FOCAL_MAVIVI, "Hommes armes vus a Mavivi")).text)
        await gw.wait_for(lambda: bool(gw.sent_to(CLA_OICHA)))
        assert f"{ref} pris" in (await gw.sms(CLA_BENI, f"OK {ref[2:]}")).text
        await gw.wait_for(lambda: len(gw.sent_to(CLA_OICHA)) == 2)  # told who took it
        worker = gw.app.state.runtime.worker
        flaky = _HeldPage(worker.sms, CLA_OICHA, RETRY)
        flaky.release.set()
        worker.sms = flaky

        await gw.sms("+243810000104", "Attaque en cours a Mavivi, des morts")
        await gw.wait_for(lambda: len(flaky.sent) == 2, within=8)  # refused once, sent again
        await gw.wait_for(lambda: len(gw.sent_to(CLA_OICHA)) == 3)
        assert gw.sent_to(CLA_OICHA)[2].startswith(f"{ref} ")
        page = await gw.delivery(flaky.sent[0])
        assert page.status != "cancelled", page.last_error


async def test_editing_a_policy_never_changes_an_escalation_under_way(
    settings: Settings,
    admin_headers: dict[str, str],
) -> None:
    async with gateway(settings) as gw:
        await gw.sms(FOCAL_MAVIVI, "Attaque en cours a Mavivi")
        await gw.wait_for(lambda: bool(gw.sent_to(CLA_BENI)))
        policies = (await gw.client.get("/api/v1/policies", headers=admin_headers)).json()
        critical = next(p for p in policies if p["name"] == "critical-default")
        critical["steps"][1]["after_seconds"] = 3600
        edited = await gw.client.put(
            f"/api/v1/policies/{critical['id']}", json=critical, headers=admin_headers
        )
        assert edited.status_code == 200, edited.text
        await gw.advance(301)
        await gw.wait_for(lambda: bool(gw.sent_to(JOC_NORD_KIVU)))


async def test_an_alert_with_no_place_goes_to_all_joc_officers(settings: Settings) -> None:
    async with gateway(settings) as gw:
        await gw.sms("+243899990055", "attaque maintenant, venez vite")
        for joc in (JOC_NORD_KIVU, "+243830000302", "+243830000303"):
            await gw.wait_for(lambda joc=joc: bool(gw.sent_to(joc)))  # type: ignore[misc]
        assert not gw.sent_to(CLA_BENI)


async def test_flash_reads_as_a_call_back_request(settings: Settings) -> None:
    from tests.support import call_form, post_twilio

    async with gateway(settings) as gw:
        await post_twilio(gw.client, "/webhooks/twilio/voice", call_form(FOCAL_MAVIVI))
        await gw.wait_for(lambda: bool(gw.sent_to(CLA_BENI)))
        page = gw.sent_to(CLA_BENI)[0]
        assert "Bip" in page and "Rappelez" in page and FOCAL_MAVIVI in page


async def test_a_liaison_covering_a_whole_province_is_paged_for_its_territoires(
    settings: Settings,
) -> None:
    province_cla = "+243970000555"
    async with gateway(settings) as gw:
        async with unit_of_work(gw.sessionmaker) as s:
            s.add(Liaison(phone=province_cla, name="CLA Nord-Kivu", zones=["Nord-Kivu"]))
        await gw.sms(FOCAL_MAVIVI, "Attaque en cours a Mavivi")  # Beni, Nord-Kivu
        await gw.wait_for(lambda: bool(gw.sent_to(province_cla)))


@pytest.mark.parametrize("change", [{"active": False}, {"on_duty": False}])
async def test_a_policys_number_of_a_liaison_off_duty_or_gone_is_not_paged(
    settings: Settings, admin_headers: dict[str, str], change: dict[str, bool]
) -> None:
    """A policy names CLA Beni's number; he has left (deactivated: "never paged again") or
    is off duty. His number is not paged: he is no longer there to answer, and his page,
    sent and delivered, would page nobody else. With nobody left on the list, the JOC is."""
    async with gateway(settings) as gw:
        created = await gw.client.post(
            "/api/v1/policies", json=ONE_LIAISON_FIRST, headers=admin_headers
        )
        assert created.status_code == 201, created.text
        async with unit_of_work(gw.sessionmaker) as s:
            beni = await s.scalar(select(Liaison).where(Liaison.phone == CLA_BENI))
            assert beni is not None
            for name, value in change.items():
                setattr(beni, name, value)

        ref = ref_in((await gw.sms(FOCAL_MAVIVI, "Attaque en cours a Mavivi")).text)

        await gw.wait_for(lambda: bool(gw.sent_to(JOC_NORD_KIVU)))
        assert gw.sent_to(JOC_NORD_KIVU)[0].startswith(ref)
        assert await gw.outbox(recipient=CLA_BENI) == []


async def test_a_liaison_deactivated_after_the_page_is_not_told_who_took_the_alert(
    settings: Settings, admin_headers: dict[str, str]
) -> None:
    """Both Beni liaisons were paged; CLA Oicha has since left (deactivated: "never paged
    again"). CLA Beni takes the alert: CLA Oicha's number, perhaps someone else's phone by
    now, does not get the notice naming the alert and who took it."""
    async with gateway(settings) as gw:
        ref = ref_in((await gw.sms(FOCAL_MAVIVI, "Attaque en cours a Mavivi")).text)
        await gw.wait_for(lambda: bool(gw.sent_to(CLA_BENI) and gw.sent_to(CLA_OICHA)))
        async with gw.sessionmaker() as s:
            oicha = await s.scalar(select(Liaison).where(Liaison.phone == CLA_OICHA))
        assert oicha is not None
        gone = await gw.client.delete(f"/api/v1/liaisons/{oicha.id}", headers=admin_headers)
        assert gone.status_code == 200, gone.text

        assert f"{ref} pris" in (await gw.sms(CLA_BENI, f"OK {ref[2:]}")).text

        await gw.wait_for(lambda: len(gw.sent_to(FOCAL_MAVIVI)) == 1)  # told it is taken
        assert await gw.outbox(recipient=CLA_OICHA, purpose="taken") == []
        assert len(gw.sent_to(CLA_OICHA)) == 1, "the page only"


async def _held_page_of_beni(gw: Gateway, admin_headers: dict[str, str]) -> tuple[Delivery, int]:
    """The policy pages CLA Beni alone; his page of a second alert waits behind the sending
    number's rate: (that page, his liaison id)."""
    created = await gw.client.post(
        "/api/v1/policies", json=ONE_LIAISON_FIRST, headers=admin_headers
    )
    assert created.status_code == 201, created.text
    await gw.sms(FOCAL_MAVIVI, "Attaque en cours a Mavivi")
    await gw.wait_for(lambda: gw.paged(CLA_BENI))
    ref = ref_in((await gw.sms(FOCAL_ERINGETI, "Attaque en cours a Eringeti")).text)
    alert = await gw.alert(ref)
    (held,) = await gw.outbox(recipient=CLA_BENI, alert_id=alert.id, purpose="page")
    assert held.status == "pending", "the page waits for the number's rate"
    async with gw.sessionmaker() as s:
        beni = await s.scalar(select(Liaison).where(Liaison.phone == CLA_BENI))
    assert beni is not None
    return held, beni.id


@pytest.mark.parametrize("leaves", ["off_duty", "deactivated"])
async def test_a_page_still_queued_for_a_liaison_who_leaves_goes_to_the_next_one(
    settings: Settings, admin_headers: dict[str, str], leaves: str
) -> None:
    """The policy pages CLA Beni alone. His page of a second alert waits behind the sending
    number's rate when the operations room puts him off duty (or an admin deactivates him):
    it must not go to him when its turn comes, but to the next on-duty liaison of the zone,
    as a page that failed does."""
    async with gateway(settings, sms_rate_per_second=0.001, sms_burst=1) as gw:
        held, beni = await _held_page_of_beni(gw, admin_headers)

        if leaves == "off_duty":
            operator = {"Authorization": f"Bearer {await make_key(gw.sessionmaker, 'operator')}"}
            changed = await gw.client.patch(
                f"/api/v1/liaisons/{beni}/duty", json={"on_duty": False}, headers=operator
            )
        else:
            changed = await gw.client.delete(f"/api/v1/liaisons/{beni}", headers=admin_headers)
        assert changed.status_code == 200, changed.text

        held = await gw.delivery(held.id)
        assert held.status == "cancelled"
        (instead,) = await gw.outbox(recipient=CLA_OICHA, alert_id=held.alert_id, purpose="page")
        assert instead.status in ("pending", "sending", "queued", "sent")
        async with gw.sessionmaker() as s:
            fallback = await s.scalar(
                select(AlertEvent).where(
                    AlertEvent.alert_id == held.alert_id, AlertEvent.action == "page_fallback"
                )
            )
        assert fallback is not None and fallback.detail["failed_delivery"] == held.id
        assert await gw.outbox(recipient=JOC_NORD_KIVU) == [], "a liaison of the zone was left"


async def _held_page_of_beni_alone_on_duty(
    gw: Gateway, admin_headers: dict[str, str]
) -> tuple[Delivery, int]:
    """The policy pages CLA Beni alone, the only liaison on duty (no JOC officer either);
    his page of an attack at Eringeti waits behind the number's rate: (it, his id)."""
    created = await gw.client.post(
        "/api/v1/policies", json=ONE_LIAISON_FIRST, headers=admin_headers
    )
    assert created.status_code == 201, created.text
    await gw.sms(FOCAL_MAVIVI, "Attaque en cours a Mavivi")
    await gw.wait_for(lambda: gw.paged(CLA_BENI))
    async with unit_of_work(gw.sessionmaker) as s:
        for liaison in (await s.scalars(select(Liaison))).all():
            liaison.on_duty = liaison.phone == CLA_BENI
        beni = await s.scalar(select(Liaison.id).where(Liaison.phone == CLA_BENI))
    assert beni is not None
    ref = ref_in((await gw.sms(FOCAL_ERINGETI, "Attaque en cours a Eringeti")).text)
    (held,) = await gw.outbox(recipient=CLA_BENI, alert_id=(await gw.alert(ref)).id)
    return held, beni


async def test_a_queued_page_nobody_else_can_take_still_goes_to_the_liaison_put_off_duty(
    settings: Settings, admin_headers: dict[str, str]
) -> None:
    """CLA Beni goes off duty while his page waits; nobody else of the zone, nor any JOC
    officer, is on duty. Cancelled, the page would reach nobody: it stays his, and the trail
    says nobody else has the alert. When CLA Oicha then comes on duty (the night's shift
    after the day's), she is paged for it."""
    async with gateway(settings, sms_rate_per_second=0.001, sms_burst=1) as gw:
        held, beni = await _held_page_of_beni_alone_on_duty(gw, admin_headers)

        changed = await gw.client.patch(
            f"/api/v1/liaisons/{beni}/duty", json={"on_duty": False}, headers=admin_headers
        )
        assert changed.status_code == 200, changed.text

        assert (await gw.delivery(held.id)).status == "pending"
        assert len(await gw.outbox(purpose="page")) == 2, "no page to anyone else"
        async with gw.sessionmaker() as s:
            unpaged = await s.scalar(
                select(AlertEvent).where(
                    AlertEvent.alert_id == held.alert_id, AlertEvent.action == "nobody_paged"
                )
            )
        assert unpaged is not None and unpaged.detail["reason"] == "nobody_left"
        assert "took the page from its liaison (liaison off duty)" in (unpaged.note or "")

        async with gw.sessionmaker() as s:
            oicha = await s.scalar(select(Liaison.id).where(Liaison.phone == CLA_OICHA))
        on_duty = await gw.client.patch(
            f"/api/v1/liaisons/{oicha}/duty", json={"on_duty": True}, headers=admin_headers
        )
        assert on_duty.status_code == 200, on_duty.text
        (paged,) = await gw.outbox(recipient=CLA_OICHA, alert_id=held.alert_id, purpose="page")
        assert paged.body.split()[0] == held.body.split()[0], "the same alert's ref"


async def test_a_page_still_queued_for_a_liaison_whose_number_changed_goes_to_the_new_one(
    settings: Settings, admin_headers: dict[str, str]
) -> None:
    """CLA Beni lost his phone: an admin gives him his new number while his page waits. The
    page goes to the new number, not to the old one (someone else may have it by now)."""
    new_number = "+243820000299"
    async with gateway(settings, sms_rate_per_second=0.001, sms_burst=1) as gw:
        held, beni = await _held_page_of_beni(gw, admin_headers)

        changed = await gw.client.patch(
            f"/api/v1/liaisons/{beni}", json={"phone": new_number}, headers=admin_headers
        )
        assert changed.status_code == 200, changed.text

        assert await gw.outbox(recipient=CLA_BENI, alert_id=held.alert_id) == []
        (readdressed,) = await gw.outbox(recipient=new_number, alert_id=held.alert_id)
        assert (readdressed.id, readdressed.status) == (held.id, "pending")
        assert await gw.outbox(recipient=CLA_OICHA, alert_id=held.alert_id) == []


async def test_a_page_written_with_a_number_changed_meanwhile_is_sent_to_the_new_one(
    settings: Settings, admin_headers: dict[str, str]
) -> None:
    """An escalation step read CLA Beni's number and wrote his page while an admin was giving
    him a new one: the roster's change moved the pages it saw queued, not this one (not yet
    committed). The page is claimed for sending with his number of now."""
    new_number = "+243820000299"
    async with gateway(settings, sms_rate_per_second=0.001, sms_burst=1) as gw:
        held, beni = await _held_page_of_beni(gw, admin_headers)
        async with unit_of_work(gw.sessionmaker) as s:  # the change, its pages not moved
            liaison = await s.get(Liaison, beni)
            assert liaison is not None
            liaison.phone = new_number
        assert (await gw.delivery(held.id)).recipient == CLA_BENI

        async with unit_of_work(gw.sessionmaker) as s:
            now = utcnow()
            claimed = await outbox_repo.claim(
                s,
                now=now,
                lease_until=now + timedelta(minutes=1),
                worker="w1",
                limit=10,
                channel=held.channel,
                sender=held.sender,
            )
        assert [(d.id, d.recipient) for d in claimed] == [(held.id, new_number)]
        assert await gw.outbox(recipient=new_number, alert_id=held.alert_id) != [], "its hash"


async def _leased_by_a_worker_since_gone(gw: Gateway, delivery_id: int) -> None:
    """A worker took the page (its lease runs five more minutes) and died."""
    async with unit_of_work(gw.sessionmaker) as s:
        row = await s.get(Delivery, delivery_id)
        assert row is not None
        row.status, row.lease_until = "sending", utcnow() + timedelta(minutes=5)


async def test_a_page_whose_worker_died_goes_back_to_its_queue_with_the_new_number(
    settings: Settings, admin_headers: dict[str, str]
) -> None:
    """A worker took CLA Beni's page and died holding it; meanwhile an admin gave him his new
    number (his pages still queued follow it at once, this one was not queued). When its
    lease runs out and it goes back to its queue, it takes the new number too."""
    new_number = "+243820000299"
    async with gateway(settings, sms_rate_per_second=0.001, sms_burst=1) as gw:
        held, beni = await _held_page_of_beni(gw, admin_headers)
        await _leased_by_a_worker_since_gone(gw, held.id)
        changed = await gw.client.patch(
            f"/api/v1/liaisons/{beni}", json={"phone": new_number}, headers=admin_headers
        )
        assert changed.status_code == 200, changed.text
        assert (await gw.delivery(held.id)).recipient == CLA_BENI, "not moved while leased"

        async with unit_of_work(gw.sessionmaker) as s:
            assert await outbox_repo.release_expired(s, utcnow() + timedelta(minutes=6)) == 1

        released = await gw.delivery(held.id)
        assert (released.status, released.recipient) == ("pending", new_number)
        assert await gw.outbox(recipient=new_number, alert_id=held.alert_id) != [], "its hash"
        assert await gw.outbox(recipient=CLA_BENI, alert_id=held.alert_id) == []


async def _changing_number(
    gw: Gateway, liaison_id: int, new_number: str
) -> tuple[asyncio.Task[None], asyncio.Event]:
    """An admin giving the liaison a new number: the roster's change flushed (the liaison's
    row locked, their queued pages moved) and held open until the event is set."""
    changed, commit = asyncio.Event(), asyncio.Event()

    async def change_number() -> None:
        async with unit_of_work(gw.sessionmaker) as s:
            update = LiaisonUpdate(phone=new_number)
            await roster.update(s, gw.settings, liaison_id, update, region="CD", actor="admin")
            await s.flush()
            changed.set()
            await commit.wait()

    changer = asyncio.create_task(change_number())
    await changed.wait()
    return changer, commit


@pytest.mark.postgresql
async def test_a_page_failing_while_its_liaisons_number_changes_is_retried_at_the_new_one(
    settings: Settings, admin_headers: dict[str, str]
) -> None:
    """A worker's send of CLA Beni's page failed (a network error); as the worker records it,
    an admin is giving him his new number. The roster's change moves his queued pages, not
    this one (being sent). The retry waits for the change to end and goes to the new
    number: read before the change committed, the old one (someone else's by now) would
    have been paged again."""
    new_number = "+243820000299"
    async with gateway(settings, sms_rate_per_second=0.001, sms_burst=1) as gw:
        held, beni = await _held_page_of_beni(gw, admin_headers)
        await _leased_by_a_worker_since_gone(gw, held.id)  # the worker is sending it
        changer, commit = await _changing_number(gw, beni, new_number)

        async def record_failure() -> None:
            async with unit_of_work(gw.sessionmaker) as s:
                row = await s.get(Delivery, held.id)
                assert row is not None
                failed = SendResult(ok=False, retryable=True, error="network error")
                await outbox_service.apply_result(
                    s, gw.settings, row, failed, worker="w1", duration_ms=1.0
                )

        recorder = asyncio.create_task(record_failure())
        await asyncio.sleep(0.5)
        # It waits for the change (its reads of the liaison take a share lock); that alone
        # does not show which number it read: the recipient below does.
        assert not recorder.done(), "recorded while the change is under way"
        commit.set()
        await asyncio.gather(changer, recorder)

        retried = await gw.delivery(held.id)
        assert (retried.status, retried.recipient) == ("pending", new_number)
        assert await gw.outbox(recipient=CLA_BENI, alert_id=held.alert_id) == []


@pytest.mark.postgresql
async def test_a_page_whose_worker_died_goes_back_during_a_number_change_with_the_new_one(
    settings: Settings, admin_headers: dict[str, str]
) -> None:
    """A worker took CLA Beni's page and died holding it. Its lease runs out while an admin
    is giving him his new number: the release waits for the change to end and puts the page
    back with the new number (read before the change committed, the old one would have been
    paged)."""
    new_number = "+243820000299"
    async with gateway(settings, sms_rate_per_second=0.001, sms_burst=1) as gw:
        held, beni = await _held_page_of_beni(gw, admin_headers)
        await _leased_by_a_worker_since_gone(gw, held.id)
        changer, commit = await _changing_number(gw, beni, new_number)

        async def release() -> int:
            async with unit_of_work(gw.sessionmaker) as s:
                return await outbox_repo.release_expired(s, utcnow() + timedelta(minutes=6))

        releaser = asyncio.create_task(release())
        await asyncio.sleep(0.5)
        assert not releaser.done(), "released while the change is under way"
        commit.set()
        _, released_count = await asyncio.gather(changer, releaser)

        assert released_count == 1
        released = await gw.delivery(held.id)
        assert (released.status, released.recipient) == ("pending", new_number)
        assert await gw.outbox(recipient=CLA_BENI, alert_id=held.alert_id) == []


async def test_a_page_whose_worker_died_is_passed_on_when_its_liaison_left_meanwhile(
    settings: Settings, admin_headers: dict[str, str]
) -> None:
    """A worker took CLA Beni's page and died holding it; meanwhile an admin deactivated
    him (his pages still queued are passed on at once, this one was not queued). When its
    lease runs out it is not put back for him (his number may be someone else's, his OK
    refused): it is given up on, and so passed on to CLA Oicha."""
    async with gateway(settings, sms_rate_per_second=0.001, sms_burst=1) as gw:
        held, beni = await _held_page_of_beni(gw, admin_headers)
        await _leased_by_a_worker_since_gone(gw, held.id)
        gone = await gw.client.delete(f"/api/v1/liaisons/{beni}", headers=admin_headers)
        assert gone.status_code == 200, gone.text
        assert (await gw.delivery(held.id)).status == "sending", "not touched while leased"

        async with unit_of_work(gw.sessionmaker) as s:  # the lease runs out
            row = await s.get(Delivery, held.id)
            assert row is not None
            row.lease_until = utcnow() - timedelta(seconds=1)
        worker = gw.app.state.runtime.worker

        async def passed_on() -> bool:
            await worker.run_once(10)  # the worker's passes (it polls every 30 s here)
            return bool(await gw.outbox(recipient=CLA_OICHA, alert_id=held.alert_id))

        await gw.wait_for(passed_on)
        dead = await gw.delivery(held.id)
        assert (dead.status, dead.last_error) == (
            "dead",
            "its worker died, and its liaison left the roster",
        )


async def test_a_page_to_a_listed_number_whose_worker_died_goes_back_to_its_queue(
    settings: Settings, admin_headers: dict[str, str]
) -> None:
    """A policy pages a number of no liaison (the duty officer's phone); some liaison of
    the roster is off duty, as some always is. A worker took that page and died holding it:
    when its lease runs out it goes back to its queue, as any page does."""
    duty_phone = "+243899000001"
    listed = {
        "name": "duty-phone",
        "priority": 1,
        "match": {"admin1": ["Nord-Kivu"]},
        "steps": [{"after_seconds": 0, "notify": {"phones": [duty_phone]}, "channels": ["sms"]}],
    }
    async with gateway(settings, sms_rate_per_second=0.001, sms_burst=1) as gw:
        created = await gw.client.post("/api/v1/policies", json=listed, headers=admin_headers)
        assert created.status_code == 201, created.text
        await gw.sms(FOCAL_MAVIVI, "Attaque en cours a Mavivi")
        await gw.wait_for(lambda: bool(gw.sent_to(duty_phone)))
        ref = ref_in((await gw.sms(FOCAL_ERINGETI, "Attaque en cours a Eringeti")).text)
        (held,) = await gw.outbox(recipient=duty_phone, alert_id=(await gw.alert(ref)).id)
        assert held.liaison_id is None and held.status == "pending"
        async with unit_of_work(gw.sessionmaker) as s:
            off = await s.scalar(select(Liaison).where(Liaison.phone == CLA_RUTSHURU))
            assert off is not None
            off.on_duty = False
            row = await s.get(Delivery, held.id)
            assert row is not None
            row.status, row.lease_until = "sending", utcnow() - timedelta(seconds=1)

        async with unit_of_work(gw.sessionmaker) as s:
            assert await outbox_repo.bury_crashed(s, utcnow()) == []
            assert await outbox_repo.release_expired(s, utcnow()) == 1
        assert (await gw.delivery(held.id)).status == "pending"


async def test_a_page_to_a_number_of_no_liaison_does_not_ask_for_an_ok(
    settings: Settings, admin_headers: dict[str, str]
) -> None:
    """A policy lists the duty officer's phone (no liaison of the roster) beside CLA Beni's.
    Only a liaison's OK takes an alert: the duty phone's reply would be filed as a report of
    its own while the paging went on. Beni's page says how to answer; the duty phone's tells
    of the alert, its reference included, and asks for nothing."""
    duty_phone, listed = DUTY_PHONE, DUTY_PHONE_AND_BENI
    async with gateway(settings) as gw:
        created = await gw.client.post("/api/v1/policies", json=listed, headers=admin_headers)
        assert created.status_code == 201, created.text
        ref = ref_in((await gw.sms(FOCAL_MAVIVI, "Attaque en cours a Mavivi")).text)
        await gw.wait_for(lambda: bool(gw.sent_to(duty_phone)) and bool(gw.sent_to(CLA_BENI)))

        (duty_page,) = gw.sent_to(duty_phone)
        (beni_page,) = gw.sent_to(CLA_BENI)
        answer = re.compile(r"\bOK [0-9A-Z]{4}\b")
        assert answer.search(beni_page), beni_page
        assert not answer.search(duty_page), duty_page
        assert ref in duty_page and "Mavivi" in duty_page


async def test_a_page_still_queued_for_a_liaison_an_import_puts_off_duty_goes_to_the_next_one(
    settings: Settings, admin_headers: dict[str, str]
) -> None:
    """`kengele import liaisons` with a roster where CLA Beni is off duty, while his page
    waits: it goes to the next on-duty liaison of the zone, as a change through the API
    does."""
    async with gateway(settings, sms_rate_per_second=0.001, sms_burst=1) as gw:
        held, _ = await _held_page_of_beni(gw, admin_headers)
        roster_file = [
            "phone,name,zones,tier,language,on_duty",
            f"{CLA_BENI},CLA Beni,Beni|Lubero,liaison,fr,false",
            f"{CLA_OICHA},CLA Oicha,Beni,liaison,sw,true",
        ]

        async with unit_of_work(gw.sessionmaker) as s:
            report = await roster.apply_liaisons(s, parse_liaisons(roster_file), settings=settings)
        assert report.counts()["updated"] == 1, report.counts()

        assert (await gw.delivery(held.id)).status == "cancelled"
        (instead,) = await gw.outbox(recipient=CLA_OICHA, alert_id=held.alert_id, purpose="page")
        assert instead.status in ("pending", "sending", "queued", "sent")


async def test_a_page_still_queued_for_a_liaison_moved_to_other_zones_goes_to_the_next_one(
    settings: Settings, admin_headers: dict[str, str]
) -> None:
    """CLA Beni is given Lubero alone while his page of an attack in Beni territoire waits:
    the attack is no longer his zone's, so the page goes to the next on-duty liaison of Beni,
    as if he had gone off duty; his pages of places still in his zones stay his."""
    async with gateway(settings, sms_rate_per_second=0.001, sms_burst=1) as gw:
        held, beni = await _held_page_of_beni(gw, admin_headers)

        kept = await gw.client.patch(
            f"/api/v1/liaisons/{beni}", json={"zones": ["Beni", "Rutshuru"]}, headers=admin_headers
        )
        assert kept.status_code == 200, kept.text
        assert (await gw.delivery(held.id)).status == "pending", "Beni is still his"
        moved = await gw.client.patch(
            f"/api/v1/liaisons/{beni}", json={"zones": ["Lubero"]}, headers=admin_headers
        )
        assert moved.status_code == 200, moved.text

        assert (await gw.delivery(held.id)).status == "cancelled"
        (instead,) = await gw.outbox(recipient=CLA_OICHA, alert_id=held.alert_id, purpose="page")
        assert instead.status in ("pending", "sending", "queued", "sent")
        async with gw.sessionmaker() as s:
            fallback = await s.scalar(
                select(AlertEvent).where(
                    AlertEvent.alert_id == held.alert_id, AlertEvent.action == "page_fallback"
                )
            )
        assert fallback is not None and fallback.detail["reason"] == "liaison's zones changed"


async def test_a_page_left_with_a_liaison_moved_away_does_not_keep_the_zone_s_next_from_it(
    settings: Settings, admin_headers: dict[str, str]
) -> None:
    """CLA Beni alone is on duty; his page of an attack in Beni territoire waits. Moved to
    Lubero, nobody else can take it: it stays his, and the trail says nobody of the zone has
    the alert. When CLA Oicha (Beni) comes on duty, she is paged for it: the page left with
    the Lubero liaison reaches nobody of Beni."""
    async with gateway(settings, sms_rate_per_second=0.001, sms_burst=1) as gw:
        held, beni = await _held_page_of_beni_alone_on_duty(gw, admin_headers)
        async with gw.sessionmaker() as s:
            oicha = await s.scalar(select(Liaison.id).where(Liaison.phone == CLA_OICHA))

        moved = await gw.client.patch(
            f"/api/v1/liaisons/{beni}", json={"zones": ["Lubero"]}, headers=admin_headers
        )
        assert moved.status_code == 200, moved.text
        assert (await gw.delivery(held.id)).status == "pending", "stays his: nobody else"
        async with gw.sessionmaker() as s:
            unpaged = await s.scalar(
                select(AlertEvent).where(
                    AlertEvent.alert_id == held.alert_id, AlertEvent.action == "nobody_paged"
                )
            )
        assert unpaged is not None and "zones changed" in (unpaged.note or "")

        on_duty = await gw.client.patch(
            f"/api/v1/liaisons/{oicha}/duty", json={"on_duty": True}, headers=admin_headers
        )
        assert on_duty.status_code == 200, on_duty.text
        assert await gw.outbox(recipient=CLA_OICHA, alert_id=held.alert_id, purpose="page")


async def test_an_import_that_moves_a_liaison_to_other_zones_passes_their_queued_page_on(
    settings: Settings, admin_headers: dict[str, str]
) -> None:
    """The same through `kengele import liaisons`: CLA Beni listed with Lubero alone."""
    async with gateway(settings, sms_rate_per_second=0.001, sms_burst=1) as gw:
        held, _ = await _held_page_of_beni(gw, admin_headers)
        roster_file = [
            "phone,name,zones,tier,language,on_duty",
            f"{CLA_BENI},CLA Beni,Lubero,liaison,fr,true",
        ]

        async with unit_of_work(gw.sessionmaker) as s:
            report = await roster.apply_liaisons(s, parse_liaisons(roster_file), settings=settings)
        assert report.counts()["updated"] == 1, report.counts()

        assert (await gw.delivery(held.id)).status == "cancelled"
        assert await gw.outbox(recipient=CLA_OICHA, alert_id=held.alert_id, purpose="page")


async def test_a_page_sent_again_after_the_liaison_s_number_changed_goes_to_the_new_one(
    settings: Settings, admin_headers: dict[str, str]
) -> None:
    """CLA Beni's page came back undelivered (his phone was lost); an admin gives him his new
    number, and an operator sends the page again: it goes to the new number, not the old."""
    new_number = "+243820000299"
    async with gateway(settings) as gw:
        gw.fake.set_final_status(CLA_BENI, "undelivered", error_code=30003)
        await gw.sms(FOCAL_MAVIVI, "Attaque en cours a Mavivi")
        await gw.wait_for(lambda: bool(gw.sent_to(CLA_BENI)))
        await gw.wait_for(lambda: len(gw.fake.pending_callbacks) >= 4)
        await gw.flush_callbacks()
        (page,) = await gw.outbox(recipient=CLA_BENI, purpose="page")
        assert (await gw.delivery(page.id)).status == "undelivered"
        async with gw.sessionmaker() as s:
            beni = await s.scalar(select(Liaison.id).where(Liaison.phone == CLA_BENI))
        changed = await gw.client.patch(
            f"/api/v1/liaisons/{beni}", json={"phone": new_number}, headers=admin_headers
        )
        assert changed.status_code == 200, changed.text

        retried = await gw.client.post(f"/api/v1/deliveries/{page.id}/retry", headers=admin_headers)
        assert retried.status_code == 200, retried.text

        await gw.wait_for(lambda: bool(gw.sent_to(new_number)))
        assert len(gw.sent_to(CLA_BENI)) == 1, "the old number got the first send only"


async def test_a_bare_ok_is_not_about_a_page_that_never_reached_the_liaison(
    settings: Settings,
) -> None:
    """CLA Oicha got Eringeti's page. Mavivi's page to her was sent next, but her handset was
    off: Twilio reports it undelivered. Her bare "sawa" is about Eringeti, the page she saw:
    taking Mavivi (the last page sent) would stop the paging of an attack she never heard
    of, while the one she answered went on."""
    async with gateway(settings) as gw:
        eringeti = ref_in((await gw.sms(FOCAL_ERINGETI, "Attaque en cours a Eringeti")).text)
        await gw.wait_for(lambda: bool(gw.sent_to(CLA_OICHA)))
        await gw.wait_for(lambda: len(gw.fake.pending_callbacks) >= 4)
        await gw.flush_callbacks()
        gw.fake.set_final_status(CLA_OICHA, "undelivered", error_code=30003)
        mavivi = ref_in((await gw.sms(FOCAL_MAVIVI, "Attaque en cours a Mavivi")).text)
        await gw.wait_for(lambda: len(gw.sent_to(CLA_OICHA)) == 2)
        await gw.wait_for(lambda: len(gw.fake.pending_callbacks) >= 4)
        await gw.flush_callbacks()
        [_, missed] = await gw.outbox(recipient=CLA_OICHA, purpose="page")
        assert missed.status == "undelivered"

        answer = await gw.sms(CLA_OICHA, "sawa")

        assert eringeti in answer.text and mavivi not in answer.text
        assert (await gw.alert(eringeti)).status == "acknowledged"
        assert (await gw.alert(mavivi)).status == "new"


async def test_a_page_whose_send_fails_after_its_liaison_was_deactivated_is_passed_on(
    settings: Settings, admin_headers: dict[str, str]
) -> None:
    """A worker is sending CLA Beni's page when an admin deactivates him: his pages still
    queued are passed on at once, this one was not queued. Twilio then answers 503: the page
    must not go back to its queue for him (his number may be someone else's by now, his OK
    would be refused), but be given up on and passed on to CLA Oicha, as one whose worker
    died meanwhile is."""
    async with gateway(settings) as gw:
        beni = await _beni_paged_first(gw, admin_headers)
        _leaves_mid_send(
            gw, lambda: gw.client.delete(f"/api/v1/liaisons/{beni}", headers=admin_headers)
        )
        await gw.sms(FOCAL_MAVIVI, "Attaque en cours a Mavivi")

        await gw.wait_for(lambda: bool(gw.sent_to(CLA_OICHA) or gw.sent_to(CLA_BENI)))
        assert not gw.sent_to(CLA_BENI), "sent again to the liaison deactivated"
        await gw.wait_for(lambda: bool(gw.sent_to(CLA_OICHA)))
        (page,) = await gw.outbox(recipient=CLA_BENI, purpose="page")
        assert (page.status, page.last_error) == ("dead", "its liaison was deactivated")
        await asyncio.sleep(0.3)  # a retry would be due by now (retry_base_seconds 0.05)
        assert not gw.sent_to(CLA_BENI)


async def _beni_paged_first(gw: Gateway, admin_headers: dict[str, str]) -> int | None:
    """The policy pages CLA Beni alone, first (ONE_LIAISON_FIRST): his liaison id."""
    created = await gw.client.post(
        "/api/v1/policies", json=ONE_LIAISON_FIRST, headers=admin_headers
    )
    assert created.status_code == 201, created.text
    async with gw.sessionmaker() as s:
        return await s.scalar(select(Liaison.id).where(Liaison.phone == CLA_BENI))


def _leaves_mid_send(gw: Gateway, leave: Callable[[], Awaitable[httpx.Response]]) -> list[int]:
    """While the worker sends CLA Beni's first page, he leaves the roster (`leave`: the
    admin's request) and Twilio then answers 503: the page's id, once it happened."""
    sent: list[int] = []

    async def leaves_then_twilio_fails(delivery: Delivery) -> None:
        if delivery.recipient != CLA_BENI or delivery.purpose != "page" or sent:
            return
        sent.append(delivery.id)
        changed = await leave()
        assert changed.status_code == 200, changed.text
        gw.fake.fail_with(code=20500, status=503)

    gw.app.state.runtime.worker.before_send = leaves_then_twilio_fails
    return sent


def _off_duty_mid_send(gw: Gateway, beni: int | None, admin_headers: dict[str, str]) -> list[int]:
    """CLA Beni goes off duty while the worker sends his first page (`_leaves_mid_send`)."""
    return _leaves_mid_send(
        gw,
        lambda: gw.client.patch(
            f"/api/v1/liaisons/{beni}/duty", json={"on_duty": False}, headers=admin_headers
        ),
    )


async def test_a_page_whose_send_fails_after_its_liaison_went_off_duty_is_passed_on(
    settings: Settings, admin_headers: dict[str, str]
) -> None:
    """A worker is sending CLA Beni's page when his shift ends (off duty): his pages still
    queued are passed on at once, this one was not queued. Twilio then answers 503: put back
    in its queue for a retry, it would still go to him. It is passed on to CLA Oicha, on
    duty in the zone, as his queued pages were, and cancelled."""
    async with gateway(settings) as gw:
        beni = await _beni_paged_first(gw, admin_headers)
        off = _off_duty_mid_send(gw, beni, admin_headers)
        await gw.sms(FOCAL_MAVIVI, "Attaque en cours a Mavivi")

        await gw.wait_for(lambda: bool(gw.sent_to(CLA_OICHA)))
        (page,) = await gw.outbox(recipient=CLA_BENI, purpose="page")
        assert (page.id, page.status) == (off[0], "cancelled")
        await asyncio.sleep(0.3)  # a retry would be due by now (retry_base_seconds 0.05)
        assert not gw.sent_to(CLA_BENI), "sent again to the liaison off duty"


async def test_a_failed_page_nobody_else_can_take_is_retried_for_the_liaison_gone_off_duty(
    settings: Settings, admin_headers: dict[str, str]
) -> None:
    """The same, but nobody else of the zone, nor any JOC officer, is on duty: cancelled,
    the page would reach nobody. It stays his and is retried (he can still answer it)."""
    async with gateway(settings) as gw:
        created = await gw.client.post(
            "/api/v1/policies", json=ONE_LIAISON_FIRST, headers=admin_headers
        )
        assert created.status_code == 201, created.text
        async with unit_of_work(gw.sessionmaker) as s:
            for liaison in (await s.scalars(select(Liaison))).all():
                liaison.on_duty = liaison.phone == CLA_BENI
            beni = await s.scalar(select(Liaison.id).where(Liaison.phone == CLA_BENI))
        off = _off_duty_mid_send(gw, beni, admin_headers)
        await gw.sms(FOCAL_MAVIVI, "Attaque en cours a Mavivi")

        await gw.wait_for(lambda: bool(gw.sent_to(CLA_BENI)))
        (page,) = await gw.outbox(recipient=CLA_BENI, purpose="page")
        assert page.id == off[0] and page.attempts == 2, "the same page, sent at its retry"
        assert not gw.sent_to(CLA_OICHA)


def _moved_to_lubero_mid_send(
    gw: Gateway, beni: int | None, admin_headers: dict[str, str]
) -> list[int]:
    """CLA Beni is given Lubero alone while the worker sends his first page
    (`_leaves_mid_send`)."""
    return _leaves_mid_send(
        gw,
        lambda: gw.client.patch(
            f"/api/v1/liaisons/{beni}", json={"zones": ["Lubero"]}, headers=admin_headers
        ),
    )


async def test_a_page_whose_send_fails_after_its_liaison_was_moved_away_is_passed_on(
    settings: Settings, admin_headers: dict[str, str]
) -> None:
    """A worker is sending CLA Beni's page of an attack at Mavivi (Beni territoire) when he is
    given Lubero alone. Twilio answers 503: put back in its queue, the page would go to him
    again at its retry, for a zone no longer his, and Beni's next liaison would wait for the
    next step. It is passed on to CLA Oicha, on duty in Beni, and cancelled."""
    async with gateway(settings) as gw:
        beni = await _beni_paged_first(gw, admin_headers)
        moved = _moved_to_lubero_mid_send(gw, beni, admin_headers)
        await gw.sms(FOCAL_MAVIVI, "Attaque en cours a Mavivi")

        await gw.wait_for(lambda: bool(gw.sent_to(CLA_OICHA)))
        (page,) = await gw.outbox(recipient=CLA_BENI, purpose="page")
        assert (page.id, page.status) == (moved[0], "cancelled")
        async with gw.sessionmaker() as s:
            fallback = await s.scalar(
                select(AlertEvent).where(
                    AlertEvent.alert_id == page.alert_id, AlertEvent.action == "page_fallback"
                )
            )
        assert fallback is not None and fallback.detail["reason"] == "liaison's zones changed"
        await asyncio.sleep(0.3)  # a retry would be due by now (retry_base_seconds 0.05)
        assert not gw.sent_to(CLA_BENI), "sent again to the liaison moved away"


async def test_a_failed_page_of_a_number_the_policy_lists_stays_with_it_after_a_zone_move(
    settings: Settings, admin_headers: dict[str, str]
) -> None:
    """The policy lists CLA Beni's number for every alert of Nord-Kivu: his page of an attack
    at Rutshuru is not his zone's, but the policy's choice. Moved to Lubero while it is sent,
    and Twilio failing, the page stays his and is retried; it is not handed to Rutshuru's
    liaison."""
    async with gateway(settings) as gw:
        beni = await _beni_paged_first(gw, admin_headers)
        moved = _moved_to_lubero_mid_send(gw, beni, admin_headers)
        await gw.sms(FOCAL_RUTSHURU, "Attaque en cours a Rutshuru")

        await gw.wait_for(lambda: bool(gw.sent_to(CLA_BENI)))
        (page,) = await gw.outbox(recipient=CLA_BENI, purpose="page")
        assert page.id == moved[0] and page.attempts == 2, "the same page, sent at its retry"
        assert not gw.sent_to(CLA_RUTSHURU)
