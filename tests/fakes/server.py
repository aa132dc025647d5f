"""Serve a provider stand-in (an ASGI app) with uvicorn in a thread, on a free loopback port."""

from __future__ import annotations

import socket
import threading
import time
from dataclasses import dataclass
from typing import Self

import uvicorn
from starlette.types import ASGIApp


@dataclass
class ThreadedServer:
    """A running stand-in: its URL, and `stop()`."""

    server: uvicorn.Server
    thread: threading.Thread
    base_url: str

    def stop(self) -> None:
        """Stop the server and wait for its thread."""
        self.server.should_exit = True
        self.thread.join(timeout=10.0)


def serve_in_thread(app: ASGIApp, name: str, host: str = "127.0.0.1") -> ThreadedServer:
    """Start `app` on a free port of `host` in a daemon thread; returns once it listens."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(
        app,
        log_config=None,
        log_level="warning",
        access_log=False,
        lifespan="off",
        timeout_graceful_shutdown=1,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name=name, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10.0
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            sock.close()
            raise RuntimeError(f"the {name} stand-in did not start")
        time.sleep(0.01)
    return ThreadedServer(server, thread, f"http://{host}:{port}")


class StandIn:
    """Base of the provider stand-ins: `with Fake() as fake:` serves `self.app` in a thread;
    `fail_with(status)` answers every send with that status until `fail_with(None)`."""

    name = "stand-in"
    app: ASGIApp  # set by the subclass

    def __init__(self) -> None:
        self.base_url = ""
        self.status: int | None = None
        self.lock = threading.Lock()
        self._served: ThreadedServer | None = None

    def __enter__(self) -> Self:
        self._served = serve_in_thread(self.app, self.name)
        self.base_url = self._served.base_url
        return self

    def __exit__(self, *exc: object) -> None:
        if self._served is not None:
            self._served.stop()
        self._served = None

    def fail_with(self, status: int | None) -> None:
        """Answer every send with `status` (None: accept again)."""
        self.status = status
