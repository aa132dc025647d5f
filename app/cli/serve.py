"""`kengele serve` and `kengele worker`: the long-running processes."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from typing import Annotated, Any

import typer

from app.cli.common import preflight, setup_logging
from app.kit.config import get_settings


def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    demo: Annotated[bool, typer.Option("--demo", help="Load the bundled demo data.")] = False,
    no_worker: Annotated[
        bool, typer.Option("--no-worker", help="API only; run `kengele worker` elsewhere.")
    ] = False,
    workers: Annotated[
        int,
        typer.Option(
            min=1, help="Processes serving webhooks, one per core (PostgreSQL only beyond 1)."
        ),
    ] = 1,
) -> None:
    """Run the API (and, unless --no-worker, the background work) on SQLite by default."""
    from app.main import create_app
    from app.serving import serve_app
    from app.startup import StartupError

    settings = get_settings()
    updates: dict[str, Any] = {}
    if demo:
        updates["demo"] = True
        updates["demo_handset"] = True
    if no_worker:
        updates["run_worker"] = False
    settings = settings.model_copy(update=updates)
    setup_logging(settings.log_level)
    preflight(settings, create=True)
    try:
        serve_app(create_app, settings, host=host, port=port, workers=workers)
    except StartupError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None


def worker(
    metrics_port: Annotated[
        int | None,
        typer.Option(help="Serve Prometheus metrics of this worker on this port (/metrics)."),
    ] = None,
    metrics_host: Annotated[str, typer.Option(help="Address of the metrics server.")] = "127.0.0.1",
) -> None:
    """Run only the background work (outbox, escalations, safety net); scale out on PostgreSQL."""
    from app.runtime import Runtime

    settings = get_settings().model_copy(update={"run_worker": True})
    setup_logging(settings.log_level)
    preflight(settings)
    if metrics_port is not None:
        from prometheus_client import start_http_server

        # Deliveries and first pages are counted where they happen: in the worker.
        start_http_server(metrics_port, addr=metrics_host)

    async def run() -> None:
        runtime = await Runtime.open(settings)
        loop = asyncio.get_running_loop()
        for signame in ("SIGINT", "SIGTERM"):
            with contextlib.suppress(NotImplementedError, AttributeError):
                loop.add_signal_handler(getattr(signal, signame), runtime.stop.set)
        await runtime.start_background()
        logging.getLogger("kengele").info("worker %s started", runtime.worker.name)
        await runtime.stop.wait()
        await runtime.close()

    asyncio.run(run())


def register(app: typer.Typer) -> None:
    """Add `serve` and `worker` to the `kengele` command."""
    app.command()(serve)
    app.command()(worker)
