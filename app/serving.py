"""`kengele serve`: uvicorn in our log format; where it listens; the first steps, once."""

from __future__ import annotations

import csv
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import uvicorn
from fastapi import FastAPI

from app.config import Settings
from app.demo import DATA as DEMO_DATA
from app.startup import describe_database, forget_serve, record_serve

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
    create_app: Callable[[Settings], FastAPI], settings: Settings, *, host: str, port: int
) -> None:
    """Run the gateway until interrupted."""
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

    config = uvicorn.Config(
        create_app(settings),
        host=host,
        port=port,
        # None: uvicorn's own lines go through our handler (text on a terminal, else JSON).
        log_config=None,
        log_level=settings.log_level.lower(),
        proxy_headers=True,
        # Live streams never end by themselves: give them a few seconds, then stop.
        timeout_graceful_shutdown=5,
    )
    try:
        _Server(config, ready).run()
    finally:
        for path in record:
            forget_serve(path)
