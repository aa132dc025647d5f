"""Prometheus metrics of the gateway."""

from __future__ import annotations

from prometheus_client import Counter, Histogram

INBOUND = Counter(
    "kengele_inbound_messages_total", "Messages handed over by the provider", ["kind", "outcome"]
)
ALERTS = Counter("kengele_alerts_created_total", "Alerts created", ["category", "severity"])
PIPELINE_FAILURES = Counter(
    "kengele_pipeline_failures_total", "Pipeline attempts that failed and will be retried"
)
PIPELINE_SECONDS = Histogram(
    "kengele_pipeline_seconds",
    "Time to turn a stored message into an alert",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0),
)
