"""The one way to start a provider stand-in: `with Fake() as fake:` serves its ASGI app in a
thread on a free loopback port (`fake.base_url`), whatever event loop the gateway runs in."""

from __future__ import annotations

import threading
from typing import Self

from starlette.types import ASGIApp

from tests.harness.server import ThreadedServer, serve_in_thread


class StandIn:
    """Base of the stand-ins (tests/fakes/): `start()` and `stop()`, or `with`."""

    name = "stand-in"
    host = "127.0.0.1"
    app: ASGIApp  # set by the subclass

    def __init__(self) -> None:
        self.base_url = ""
        self._served: ThreadedServer | None = None

    def start(self) -> Self:
        """Serve `self.app` on a free port of `self.host` in a background thread."""
        self._served = serve_in_thread(self.app, self.name, host=self.host)
        self.base_url = self._served.base_url
        return self

    def stop(self) -> None:
        """Stop the server and its thread."""
        if self._served is not None:
            self._served.stop()
        self._served = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


class SimpleStandIn(StandIn):
    """A stand-in whose sends all fail with one HTTP status after `fail_with(status)`."""

    def __init__(self) -> None:
        super().__init__()
        self.status: int | None = None
        self.lock = threading.Lock()

    def fail_with(self, status: int | None) -> None:
        """Answer every send with `status` (None: accept again)."""
        self.status = status
