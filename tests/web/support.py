"""A headless Chromium driven by selenium (the gateway it shows: tests/harness/gateway.py)."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.support import REPO_ROOT

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
    """Skip without Debian's chromium and chromedriver (.ci/run installs them)."""
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
    pytest.skip(reason)  # a failure in CI (tests/conftest.py)


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
