"""`kengele serve`: uvicorn in our log format; where it listens; the first steps, once."""

from __future__ import annotations

import asyncio
import csv
import os
import signal
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import uvicorn
from fastapi import FastAPI

from app.demo import DATA as DEMO_DATA
from app.kit.config import Settings, get_settings
from app.kit.observability import configure_logging
from app.main import create_app
from app.runtime import Runtime
from app.startup import StartupError, describe_database, forget_serve, record_serve

_ANY_ADDRESS = {"0.0.0.0", "::", ""}
# Of the demo's people, the few of one territoire (Beni): enough to play an alert end to end.
_DEMO_SHOWN = 4


def local_url(host: str, port: int) -> str:
    """The URL this machine reaches a server listening on host:port by."""
    if host in _ANY_ADDRESS:
        host = "127.0.0.1"
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{port}"


def _demo_rows(name: str) -> list[dict[str, str]]:
    with (DEMO_DATA / name).open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def first_steps(settings: Settings, url: str) -> str:
    """What a newcomer does next, printed once when `serve` is ready on a terminal."""
    lines = [
        "",
        f"Kengele is ready at {url}",
        f"  operations page  {url}/ops/",
        f"  API docs         {url}/docs",
        f"  database         {describe_database(settings)}",
        f"  public URL       {settings.public_url} (webhooks are signed for it)",
        "",
        "A key for the operations page, in another terminal (same settings):",
        "  kengele apikey create --name me --role operator",
    ]
    if settings.demo:
        reporters = _demo_rows("reporters.csv")[:_DEMO_SHOWN]
        liaisons = [r for r in _demo_rows("liaisons.csv") if "Beni" in r["zones"].split("|")]
        lines += ["", "Demo focal points (they send alerts):"]
        lines += [f"  {r['phone']}  {r['name']} ({r['language']})" for r in reporters]
        lines += ["Demo liaisons and JOC of Beni (they are paged, and answer OK):"]
        lines += [f"  {r['phone']}  {r['name']} ({r['language']})" for r in liaisons]
        lines += [
            "Try:",
            f'  kengele simulate sms --from {reporters[0]["phone"]} "Attaque en cours a Mavivi"',
            f"  kengele simulate sms --from {liaisons[0]['phone']} OK",
            "(the console provider logs each SMS it would send, with numbers masked)",
        ]
    return "\n".join(lines) + "\n"


class _Server(uvicorn.Server):
    """uvicorn's server that says where it listens once it does."""

    def __init__(self, config: uvicorn.Config, on_ready: Callable[[int], None]) -> None:
        super().__init__(config)
        self.on_ready = on_ready

    async def startup(self, sockets: Any = None) -> None:
        """Start listening, then tell on_ready the port (a free one when asked for 0)."""
        await super().startup(sockets)
        if self.started and self.servers:
            self.on_ready(self.servers[0].sockets[0].getsockname()[1])


def serve_app(
    create_app: Callable[[Settings], FastAPI],
    settings: Settings,
    *,
    host: str,
    port: int,
    workers: int = 1,
) -> None:
    """Run the gateway until interrupted (`workers` > 1: that many processes, PostgreSQL only)."""
    if workers > 1 and settings.is_sqlite:
        raise StartupError(
            f"--workers {workers} needs PostgreSQL: SQLite takes one writer at a time, so more "
            "processes would only wait on each other; set KENGELE_DATABASE_URL to a PostgreSQL "
            "database, or serve with --workers 1"
        )
    if "public_url" not in settings.model_fields_set and port != 0:
        # No KENGELE_PUBLIC_URL: the gateway is its own public URL (`simulate` signs for it).
        settings = settings.model_copy(update={"public_url": local_url(host, port)})
    record: list[Path] = []

    def ready(bound: int) -> None:
        url = local_url(host, bound)
        path = record_serve(settings, url)
        if path is not None:
            record.append(path)
        if sys.stdout.isatty():
            sys.stdout.write(first_steps(settings, url))
            sys.stdout.flush()

    try:
        if workers > 1:
            _serve_processes(settings, host=host, port=port, workers=workers, ready=ready)
        else:
            app = create_app(settings)
            app.state.serving = True  # a process that serves until it stops
            _Server(_config(app, settings, host, port), ready).run()
    finally:
        for path in record:
            forget_serve(path)


def _config(app: Any, settings: Settings, host: str, port: int, **more: Any) -> uvicorn.Config:
    return uvicorn.Config(
        app,
        host=host,
        port=port,
        # None: uvicorn's own lines go through our handler (text on a terminal, else JSON).
        log_config=None,
        log_level=settings.log_level.lower(),
        proxy_headers=True,
        # Live streams never end by themselves: give them a few seconds, then stop.
        timeout_graceful_shutdown=5,
        **more,
    )


def _serve_processes(
    settings: Settings, *, host: str, port: int, workers: int, ready: Callable[[int], None]
) -> None:
    """`workers` uvicorn processes on one socket, each with its own background work (the
    roles are safe in several processes on PostgreSQL, as with several `kengele worker`);
    uvicorn's supervisor starts a new process in place of one that dies."""
    from uvicorn.supervisors import Multiprocess

    # Migrations, default rows and the demo data once, here, before the processes start.
    asyncio.run(_prepare(settings))
    # The processes read their settings from the environment: pass on what the command set.
    os.environ.update(
        {
            "KENGELE_PUBLIC_URL": settings.public_url,
            "KENGELE_RUN_WORKER": str(settings.run_worker).lower(),
            "KENGELE_DEMO": "false",  # loaded above
            "KENGELE_DEMO_HANDSET": str(settings.demo_handset).lower(),
            "KENGELE_AUTO_MIGRATE": "false",  # done above
            # Auto intake's messages in hand, and the loops' at once, are the gateway's: the
            # processes share the machine's cores, so each takes its share (at least one).
            "KENGELE_INLINE_AT_ONCE": str(_share(settings.inline_at_once, workers)),
            "KENGELE_INBOUND_CONCURRENCY": str(_share(settings.inbound_concurrency, workers)),
        }
    )
    config = _config(
        "app.serving:worker_app",
        settings,
        host,
        port,
        factory=True,
        workers=workers,
        # A process answers the supervisor's pings once it has imported the app, which takes
        # seconds on a busy machine: 5 s (uvicorn's default) had healthy ones killed at start.
        timeout_worker_healthcheck=30,
    )
    sock = config.bind_socket()  # says "Uvicorn running on ..."
    ready(sock.getsockname()[1])
    Multiprocess(config, sockets=[sock]).run()


def _share(total: int, processes: int) -> int:
    """One process's share of `total`, rounded up (at least one each)."""
    return max(1, -(-total // processes))


async def _prepare(settings: Settings) -> None:
    runtime = await Runtime.open(settings)
    await runtime.close()


def worker_app() -> FastAPI:
    """The application of one process of `serve --workers N` (settings from the environment)."""
    settings = get_settings()
    configure_logging(settings, settings.log_level)
    parent = os.getppid()
    threading.Thread(target=_stop_with, args=(parent,), name="parent-watch", daemon=True).start()
    app = create_app(settings)
    app.state.serving = True  # a process that serves until it stops
    return app


def _stop_with(parent: int) -> None:
    """Stop this process (as SIGTERM does: its sends are finished and recorded) once the
    process that started it is gone (killed -9: nobody else would ever stop this one)."""
    while os.getppid() == parent:
        time.sleep(1.0)
    os.kill(os.getpid(), signal.SIGTERM)
