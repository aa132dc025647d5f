"""GET /metrics: what an SMS and its pages leave in the Prometheus metrics."""

from __future__ import annotations

import re
from collections.abc import Awaitable
from datetime import timedelta

import httpx
import pytest
from fastapi import FastAPI
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.kit.clock import utcnow
from app.kit.config import Settings
from app.kit.db import unit_of_work
from app.kit.metrics import after_commit
from app.main import create_app
from app.outbox import repository as outbox_repo
from app.outbox.models import Delivery
from tests.escalation.support import CLA_BENI, CLA_OICHA, FOCAL_MAVIVI, gateway, ref_in
from tests.harness.gateway import running
from tests.support import post_twilio, sms_form

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


async def scrape(client: httpx.AsyncClient) -> Samples:
    """Every sample of GET /metrics, by name and labels."""
    response = await client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(response.text)
        for s in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    """One sample's value (0 when the series does not exist yet)."""
    return samples.get((name, frozenset(labels.items())), 0.0)


async def _all_in(statuses: Awaitable[list[str]], wanted: tuple[str, ...]) -> bool:
    return all(status in wanted for status in await statuses)


@pytest.mark.usefixtures("engine")
async def test_an_sms_and_its_pages_show_in_every_metric(settings: Settings) -> None:
    async with gateway(settings) as gw:
        before = await scrape(gw.client)
        reply = await gw.sms(FOCAL_MAVIVI, "Attaque en cours a Mavivi, les ADF ont tue 3 personnes")
        alert = await gw.alert(ref_in(reply.text))
        # Both Beni liaisons are paged at once: one alert, two pages, one first page.
        await gw.wait_for(lambda: bool(gw.sent_to(CLA_BENI) and gw.sent_to(CLA_OICHA)))
        pages = await gw.outbox(alert_id=alert.id, purpose="page")
        assert len(pages) == 2

        async def statuses() -> list[str]:
            return [(await gw.delivery(p.id)).status for p in pages]

        # Callbacks name the provider's id: wait until the worker recorded both sends.
        await gw.wait_for(lambda: _all_in(statuses(), ("queued", "sent")))
        await gw.flush_callbacks()
        await gw.wait_for(lambda: _all_in(statuses(), ("delivered",)))
        after = await scrape(gw.client)

    def grew(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert grew("kengele_inbound_messages_total", provider="twilio", kind="sms", outcome="stored")
    assert (
        grew("kengele_alerts_created_total", category=alert.category, severity=alert.severity) == 1
    )
    assert grew("kengele_deliveries_total", channel="sms", status="sending") >= 2
    assert grew("kengele_deliveries_total", channel="sms", status="delivered") >= 2
    assert grew("kengele_alert_first_page_seconds_count") == 1
    assert 0 < grew("kengele_alert_first_page_seconds_sum") < 30
    assert (
        grew(
            "kengele_http_request_duration_seconds_count",
            route="/webhooks/twilio/sms",
            method="POST",
            status="2xx",
        )
        == 1
    )
    assert value(after, "kengele_database_up") == 1
    for channel in ("sms", "webhook"):
        assert ("kengele_outbox_due", frozenset({("channel", channel)})) in after
        assert ("kengele_outbox_oldest_due_age_seconds", frozenset({("channel", channel)})) in after


async def test_outbox_depth_and_age_come_from_the_database(
    settings: Settings, engine: object, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    now = utcnow()

    def row(status: str, due_in: float, **extra: object) -> Delivery:
        return Delivery(
            channel="sms",
            purpose="reply",
            status=status,
            recipient="+243810000101",
            sender="console",
            body="x",
            due_at=now + timedelta(seconds=due_in),
            **extra,
        )

    async with unit_of_work(sessionmaker) as s:
        s.add_all(
            [
                row("pending", -120),  # waiting two minutes
                row("pending", -5, attempts=2),  # a retry now due
                row("pending", 600),  # a retry not due yet
                row("sending", -300, lease_until=now + timedelta(seconds=60)),  # in flight
                row("sending", -60, lease_until=now - timedelta(seconds=1)),  # its worker died
                row("sent", -900),
                row("dead", -900),
            ]
        )
    # No worker in this process: the rows stay as they are.
    app = create_app(settings.model_copy(update={"run_worker": False}))
    async with running(app) as client:
        samples = await scrape(client)
    assert value(samples, "kengele_outbox_due", channel="sms") == 3
    assert 119 <= value(samples, "kengele_outbox_oldest_due_age_seconds", channel="sms") < 180
    assert value(samples, "kengele_outbox_due", channel="webhook") == 0
    assert value(samples, "kengele_outbox_oldest_due_age_seconds", channel="webhook") == 0


async def test_a_database_failure_still_answers_the_process_metrics(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken(*_: object) -> None:
        raise ConnectionError("database gone")

    monkeypatch.setattr(outbox_repo, "due_backlog", broken)
    assert (await client.get("/healthz")).status_code == 200
    samples = await scrape(client)
    assert value(samples, "kengele_database_up") == 0
    assert not any(name == "kengele_outbox_due" for name, _ in samples)
    healthz = {"route": "/healthz", "method": "GET", "status": "2xx"}
    assert value(samples, "kengele_http_request_duration_seconds_count", **healthz) >= 1


async def test_http_latency_is_labelled_by_route_template_never_by_raw_path(
    client: httpx.AsyncClient, viewer_headers: dict[str, str]
) -> None:
    before = await scrape(client)
    for alert_id in (918273, 918274):
        response = await client.get(f"/api/v1/alerts/{alert_id}", headers=viewer_headers)
        assert response.status_code == 404
    assert (await client.get("/no/such/path/918275")).status_code == 404
    response = await client.get("/metrics")
    after = await scrape(client)

    def grew(**labels: str) -> float:
        name = "kengele_http_request_duration_seconds_count"
        return value(after, name, **labels) - value(before, name, **labels)

    assert grew(route="/api/v1/alerts/{alert_id}", method="GET", status="4xx") == 2
    assert grew(route="<unmatched>", method="GET", status="4xx") == 1
    # No label carries a raw path (sample values are numbers and may hold any digits).
    labels = " ".join(re.findall(r"\{([^}]*)\}", response.text))
    assert not [i for i in ("918273", "918274", "918275") if i in labels]


async def test_metrics_need_no_key_and_stay_out_of_the_api_schema(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    assert (await client.get("/metrics")).status_code == 200
    schema = (await client.get("/openapi.json")).json()
    assert "/metrics" not in schema["paths"]


async def test_counts_made_in_a_transaction_wait_for_its_commit(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    counted: list[str] = []
    async with sessionmaker() as s:
        await s.execute(text("SELECT 1"))
        after_commit(s, lambda: counted.append("rolled back"))
        await s.rollback()  # e.g. the pipeline failed; the message will be retried
        await s.execute(text("SELECT 1"))
        after_commit(s, lambda: counted.append("first"))
        after_commit(s, lambda: counted.append("second"))
        assert counted == []
        await s.commit()
        assert counted == ["first", "second"]
        await s.execute(text("SELECT 1"))
        await s.commit()
    assert counted == ["first", "second"]


async def test_messages_waiting_to_be_processed_show_with_the_age_of_the_oldest(
    settings: Settings, engine: object, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    """Queued messages that no loop processes (none runs here) are a backlog the operations
    room must see, whatever happened to its wake-ups; processed, they leave it."""
    queued = settings.model_copy(update={"inbound_mode": "queued", "run_worker": False})
    app = create_app(queued)
    async with running(app) as client:
        assert value(await scrape(client), "kengele_inbound_waiting") == 0
        for n in range(2):
            form = sms_form(FOCAL_MAVIVI, f"Attaque a Mavivi {n}")
            assert (await post_twilio(client, "/webhooks/twilio/sms", form)).status_code == 200
        async with unit_of_work(sessionmaker) as s:
            # The older one arrived two minutes ago.
            await s.execute(
                text("UPDATE inbound_messages SET received_at = :at WHERE id = 1"),
                {"at": utcnow() - timedelta(minutes=2)},
            )
        samples = await scrape(client)
        assert value(samples, "kengele_inbound_waiting") == 2
        assert 119 <= value(samples, "kengele_inbound_oldest_waiting_seconds") < 180
        assert await app.state.runtime.pipeline.reprocess_due() == 2
        samples = await scrape(client)
    assert value(samples, "kengele_inbound_waiting") == 0
    assert value(samples, "kengele_inbound_oldest_waiting_seconds") == 0
