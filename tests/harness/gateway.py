"""The gateway as the tests start it, in one of three ways:

- `running(app)`: in this process and event loop, its lifespan run, a client over the
  in-memory transport (most tests);
- `serve(settings)`: on a free loopback port, in a thread (a synchronous test drives it with
  a browser); `tests.harness.server.live_server(app)` serves an app on a port in the test's
  own loop instead;
- `tests.harness.processes.start_gateway(...)`: `kengele serve` as a process of its own.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass

import httpx
from fastapi import FastAPI

from app.kit.config import Settings
from tests.harness.server import loopback_socket, serve_in_thread
from tests.support import PUBLIC_URL, sign, sms_form


@asynccontextmanager
async def running(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """Run the app's lifespan and give a client to it (a 'process' start and stop)."""
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url=PUBLIC_URL) as client:
            yield client


@dataclass
class Gateway:
    """A gateway served by uvicorn on 127.0.0.1."""

    url: str
    settings: Settings

    def sms(self, phone: str, body: str) -> httpx.Response:
        """Post an SMS as Twilio would, signed for this gateway's public URL."""
        path = "/webhooks/twilio/sms"
        form = sms_form(phone, body)
        token = self.settings.twilio_auth_token.get_secret_value()
        signature = sign(path, form, token=token, base=self.url)
        return httpx.post(
            self.url + path, data=form, headers={"X-Twilio-Signature": signature}, timeout=10
        )


@contextmanager
def serve(settings: Settings, port: int = 0) -> Iterator[Gateway]:
    """The gateway of `settings` in a thread on a loopback port (a free one unless given),
    its public URL the one it listens on."""
    from app.main import create_app

    sock = loopback_socket(port)
    url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    settings = settings.model_copy(update={"public_url": url})
    served = serve_in_thread(create_app(settings), "gateway", lifespan="on", sock=sock)
    try:
        yield Gateway(url, settings)
    finally:
        served.stop()
