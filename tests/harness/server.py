"""Serve an ASGI app with uvicorn on a free loopback port: in the test's event loop
(`live_server`) or in a thread with a loop of its own (`serve_in_thread`).

The port is the one the kernel gives a socket bound to port 0, held until uvicorn serves on
it: parallel test processes never race for a port.
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Literal

import uvicorn
from starlette.types import ASGIApp

from tests.support import wait_until


def free_port() -> int:
    """A port nothing listens on now (for a process that must be given a number)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def loopback_socket(port: int = 0, host: str = "127.0.0.1") -> socket.socket:
    """A socket bound to `port` of `host` (a free one unless given), to serve on."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    return sock


def _server(app: ASGIApp, lifespan: Literal["on", "off"]) -> uvicorn.Server:
    """A gateway (lifespan on) gets uvicorn's loggers as `kengele serve` does (its startup
    joins them to ours); a stand-in (lifespan off) logs nothing of its own."""
    quiet: dict[str, object] = {"log_config": None, "access_log": False}
    config = uvicorn.Config(
        app,
        log_level="warning",
        lifespan=lifespan,
        timeout_graceful_shutdown=2 if lifespan == "on" else 1,
        **(quiet if lifespan == "off" else {}),
    )
    return uvicorn.Server(config)


@dataclass
class ThreadedServer:
    """A server running in a thread: its URL, and `stop()`."""

    server: uvicorn.Server
    thread: threading.Thread
    sock: socket.socket
    base_url: str

    def stop(self) -> None:
        """Stop the server and wait for its thread."""
        self.server.should_exit = True
        self.thread.join(timeout=15.0)
        self.sock.close()


def serve_in_thread(
    app: ASGIApp,
    name: str,
    *,
    lifespan: Literal["on", "off"] = "off",
    sock: socket.socket | None = None,
    host: str = "127.0.0.1",
) -> ThreadedServer:
    """Start `app` in a daemon thread on `sock` (default: a free port of `host`); returns once
    it listens.

    For the provider stand-ins, which answer a gateway whatever loop it runs in, and for what
    a synchronous test drives (a browser).
    """
    sock = sock or loopback_socket(host=host)
    host, port = sock.getsockname()[:2]
    server = _server(app, lifespan)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name=name, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30.0
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            server.should_exit = True
            sock.close()
            raise RuntimeError(f"{name} did not start")
        time.sleep(0.01)
    return ThreadedServer(server, thread, sock, f"http://{host}:{port}")


@asynccontextmanager
async def live_server(app: ASGIApp) -> AsyncIterator[str]:
    """Serve `app` (its lifespan on) in this event loop; yields its URL.

    For what the in-memory transport cannot do (a response that streams, a real socket),
    with the app in the test's loop: the test may await what the app holds.
    """
    sock = loopback_socket()
    port = sock.getsockname()[1]
    server = _server(app, "on")
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        await wait_until(lambda: server.started or task.done(), within=20, what="server start")
        if task.done():
            task.result()
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, timeout=20)
        sock.close()
