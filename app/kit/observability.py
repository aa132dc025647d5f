"""JSON logs with a request id, HTTP metrics (filled in by the observability work)."""

from __future__ import annotations

from fastapi import FastAPI


def install_observability(app: FastAPI) -> None:
    """Request ids, access logs and HTTP latency metrics for every request."""
