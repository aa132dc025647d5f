"""Prometheus metrics of the gateway.

Counters and histograms live in this process; the outbox backlog is read from the database
at scrape time (`outbox_exposition`), so every process reports the same shared truth.
Labels are closed sets (providers, kinds, categories, statuses, route templates): no phone
number, message text, id or key ever becomes a label value.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy.ext.asyncio import AsyncSession

from app.kit import hooks

INBOUND = Counter(
    "kengele_inbound_messages_total",
    "Messages a provider handed over: stored (new) or replayed (a provider id seen before)",
    ["provider", "kind", "outcome"],
)
ALERTS = Counter(
    "kengele_alerts_created_total", "Alerts created (committed)", ["category", "severity"]
)
PIPELINE_FAILURES = Counter(
    "kengele_pipeline_failures_total", "Pipeline attempts that failed and will be retried"
)
PIPELINE_CONFLICTS = Counter(
    "kengele_pipeline_conflicts_total",
    "Pipeline transactions the database aborted for a conflict (deadlock), tried again at once",
)
STATUS_CONFLICTS = Counter(
    "kengele_status_conflicts_total",
    "Providers' delivery statuses whose transaction the database aborted for a conflict "
    "(deadlock), tried again at once",
)
PIPELINE_SECONDS = Histogram(
    "kengele_pipeline_seconds",
    "Time to turn a stored message into an alert",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0),
)
INBOUND_WAIT_SECONDS = Histogram(
    "kengele_inbound_wait_seconds",
    "Time from a message's storing to the start of its processing (inline: the request's own "
    "next step; queued: the wait for the background loop, which a surge makes grow)",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10, 30, 60, 300),
)
DELIVERIES = Counter(
    "kengele_deliveries_total",
    "Deliveries moving to a status (sending: claimed for an attempt; retrying: back to "
    "pending after a failed attempt; queued/sent/delivered/undelivered/failed: the "
    "provider's word; dead: given up)",
    ["channel", "status"],
)
FIRST_PAGE_SECONDS = Histogram(
    "kengele_alert_first_page_seconds",
    "Time from an alert's receipt to its first page handed to the SMS provider",
    buckets=(1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 1800, 3600),
)
CLOCK_OFF = Counter(
    "kengele_channel_clock_off_total",
    "Requests of a channel's device (SMS Gateway for Android) whose clock was more than five "
    "minutes from ours: taken all the same, the device's date or time zone to be set right",
    ["channel"],
)
STEPS_UNPAGED = Counter(
    "kengele_escalation_steps_unpaged_total",
    "Escalation steps whose SMS paged nobody: nobody they name was on duty (or active), "
    "and no JOC officer was on duty; or a page that failed with nobody left to pass it on to "
    "(the alert's trail has a `nobody_paged` event)",
)
HTTP_SECONDS = Histogram(
    "kengele_http_request_duration_seconds",
    "HTTP requests by route template, method and status class (event streams: time to the "
    "response headers; others: to the end of the body)",
    ["route", "method", "status"],
)

CHANNELS = ("sms", "webhook")


def count_delivery(channel: str, before: str | None, after: str) -> None:
    """Count a delivery that moved from `before` to `after` (nothing when it did not move)."""
    if before == after:
        return
    status = "retrying" if after == "pending" and before == "sending" else after
    DELIVERIES.labels(channel, status).inc()


def after_commit(session: AsyncSession, action: Callable[[], None]) -> None:
    """Count with `action` once the session's transaction commits (app.kit.hooks.on_commit):
    counting inside a transaction that later rolls back (and is retried) would count twice."""
    hooks.on_commit(session, action)


@dataclass(frozen=True)
class Backlog:
    """Due deliveries of one channel not yet sent, and when the oldest of them fell due."""

    channel: str
    due: int
    oldest_due_at: datetime | None


class _BacklogCollector(Collector):
    def __init__(self, backlog: Iterable[Backlog] | None, now: datetime) -> None:
        self.backlog = None if backlog is None else {b.channel: b for b in backlog}
        self.now = now

    def collect(self) -> Iterator[Metric]:
        up = GaugeMetricFamily(
            "kengele_database_up", "Whether the database answered this scrape (1) or not (0)"
        )
        up.add_metric([], 0 if self.backlog is None else 1)
        yield up
        if self.backlog is None:
            return
        due = GaugeMetricFamily(
            "kengele_outbox_due",
            "Deliveries due and not yet sent (pending, retrying, or their worker's lease expired)",
            labels=["channel"],
        )
        age = GaugeMetricFamily(
            "kengele_outbox_oldest_due_age_seconds",
            "How long the oldest due delivery has waited since it fell due (0: none due)",
            labels=["channel"],
        )
        for channel in sorted(set(CHANNELS) | set(self.backlog)):
            row = self.backlog.get(channel)
            due.add_metric([channel], row.due if row else 0)
            waited = 0.0
            if row is not None and row.oldest_due_at is not None:
                waited = max((self.now - row.oldest_due_at).total_seconds(), 0.0)
            age.add_metric([channel], waited)
        yield due
        yield age


def outbox_exposition(backlog: Iterable[Backlog] | None, now: datetime) -> bytes:
    """Text exposition of the outbox backlog read at this scrape (None: the database failed)."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_BacklogCollector(backlog, now))
    return generate_latest(registry)


def exposition(*extra: bytes) -> bytes:
    """This process's metrics in the Prometheus text format, followed by `extra` blocks."""
    return b"".join((generate_latest(), *extra))


@dataclass(frozen=True)
class ChannelState:
    """A channel's state at a scrape."""

    name: str
    up: bool
    waiting: int


class _ChannelCollector(Collector):
    def __init__(self, channels: Iterable[ChannelState]) -> None:
        self.channels = list(channels)

    def collect(self) -> Iterator[Metric]:
        up = GaugeMetricFamily(
            "kengele_channel_up",
            "Whether a channel is up (1) or known down (0)",
            labels=["channel"],
        )
        waiting = GaugeMetricFamily(
            "kengele_channel_waiting",
            "SMS waiting by this channel because every channel of their route is down",
            labels=["channel"],
        )
        for channel in self.channels:
            up.add_metric([channel.name], 1 if channel.up else 0)
            waiting.add_metric([channel.name], channel.waiting)
        yield up
        yield waiting


def channels_exposition(channels: Iterable[ChannelState]) -> bytes:
    """Text exposition of the channels' states read at this scrape."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_ChannelCollector(channels))
    return generate_latest(registry)


class _InboundCollector(Collector):
    def __init__(self, count: int, oldest: datetime | None, now: datetime) -> None:
        self.count = count
        self.waited = max((now - oldest).total_seconds(), 0.0) if oldest is not None else 0.0

    def collect(self) -> Iterator[Metric]:
        waiting = GaugeMetricFamily(
            "kengele_inbound_waiting",
            "Stored messages not processed yet (queued, failed and waiting for a retry, or "
            "in a request's hands)",
        )
        waiting.add_metric([], self.count)
        yield waiting
        age = GaugeMetricFamily(
            "kengele_inbound_oldest_waiting_seconds",
            "How long the oldest stored message not processed yet has waited (0: none)",
        )
        age.add_metric([], self.waited)
        yield age


def inbound_exposition(count: int, oldest: datetime | None, now: datetime) -> bytes:
    """Text exposition of the inbound messages waiting, read at this scrape."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_InboundCollector(count, oldest, now))
    return generate_latest(registry)
