"""A real gateway on a loopback port and a headless Chromium driven by selenium."""

from __future__ import annotations

import os
import shutil
import socket
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
import pytest
import uvicorn

from app.kit.config import Settings
from tests.support import REPO_ROOT, sign, sms_form

if TYPE_CHECKING:
    from selenium.webdriver.remote.webdriver import WebDriver

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--window-size=1366,768",  # a small laptop
)


def artifacts_dir() -> Path:
    """Where screenshots go: $KENGELE_ARTIFACTS_DIR or tests/artifacts (ignored by git)."""
    path = Path(os.environ.get("KENGELE_ARTIFACTS_DIR") or REPO_ROOT / "tests" / "artifacts")
    path.mkdir(parents=True, exist_ok=True)
    return path


def require_browser() -> None:
    """Skip without Debian's chromium and chromedriver, except in CI where it is a failure."""
    missing = [p for p in (CHROMIUM, CHROMEDRIVER) if not shutil.which(p)]
    try:
        import selenium  # noqa: F401
    except ImportError:
        missing.append("the selenium package")
    if not missing:
        return
    reason = (
        f"the browser test needs {', '.join(missing)} "
        "(apt-get install chromium chromium-driver; pip install -e '.[dev]')"
    )
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{reason}: .ci/run installs them, so CI must have them", pytrace=False)
    pytest.skip(reason)


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
    """Run the app with uvicorn in a thread on a loopback port (a free one unless given)."""
    from app.main import create_app

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", port))
    url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    settings = settings.model_copy(update={"public_url": url})
    config = uvicorn.Config(
        create_app(settings), log_level="warning", lifespan="on", timeout_graceful_shutdown=2
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise AssertionError("the gateway did not start")
        time.sleep(0.05)
    try:
        yield Gateway(url, settings)
    finally:
        server.should_exit = True
        thread.join(15)
        sock.close()


# Any host but the loopback gateway fails to resolve: the page must work with no internet.
NO_INTERNET = "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"


@contextmanager
def chromium(*flags: str) -> Iterator[WebDriver]:
    """A headless Chromium with a fresh profile, driven through Debian's chromedriver."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    with tempfile.TemporaryDirectory(prefix="kengele-chromium-") as profile:
        options = webdriver.ChromeOptions()
        options.binary_location = CHROMIUM
        for flag in (*CHROMIUM_FLAGS, *flags):
            options.add_argument(flag)
        options.add_argument(f"--user-data-dir={profile}")
        options.add_argument("--lang=fr-FR")
        options.add_experimental_option("prefs", {"intl.accept_languages": "fr-FR,fr"})
        driver = webdriver.Chrome(options=options, service=Service(CHROMEDRIVER))
        try:
            yield driver
        finally:
            driver.quit()
