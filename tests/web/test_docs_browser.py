"""/docs renders in a real Chromium that cannot reach any host but the gateway."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from app.kit.config import Settings
from tests.harness.gateway import Gateway, serve
from tests.web.support import NO_INTERNET, artifacts_dir, chromium, require_browser


@pytest.fixture
def gateway(settings: Settings, engine: AsyncEngine) -> Iterator[Gateway]:
    """The gateway on a loopback port."""
    require_browser()
    with serve(settings) as gw:
        yield gw


def _resources(driver: object) -> list[str]:
    urls: list[str] = driver.execute_script(  # type: ignore[attr-defined]
        "return performance.getEntriesByType('resource').map(e => e.name).concat([location.href])"
    )
    return urls


def test_swagger_ui_renders_the_api_with_no_internet(gateway: Gateway) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    with chromium(NO_INTERNET) as driver:
        # The rule holds: a host outside the gateway is unreachable from this browser.
        from selenium.common.exceptions import WebDriverException

        with pytest.raises(WebDriverException, match="ERR_NAME_NOT_RESOLVED"):
            driver.get("https://cdn.jsdelivr.net/npm/swagger-ui-dist@5/swagger-ui.css")

        driver.get(gateway.url + "/docs")
        WebDriverWait(driver, 20).until(
            lambda d: "Kengele" in d.find_element(By.CSS_SELECTOR, ".swagger-ui .info .title").text
        )
        WebDriverWait(driver, 20).until(
            lambda d: len(d.find_elements(By.CSS_SELECTOR, ".opblock")) > 20
        )
        body = driver.find_element(By.TAG_NAME, "body").text
        assert "/api/v1/alerts" in body
        urls = _resources(driver)
        assert all(u.startswith(gateway.url + "/") for u in urls), urls
        driver.save_screenshot(str(artifacts_dir() / "docs-offline.png"))


def test_docs_pages_name_only_the_gateways_assets(gateway: Gateway) -> None:
    html = httpx.get(gateway.url + "/docs", timeout=10).text
    assert "cdn." not in html and "https://" not in html, html
    for src in ("swagger-ui-bundle.js", "swagger-ui.css"):
        assert f"/docs/assets/{src}?v=" in html
    bundle = httpx.get(gateway.url + "/docs/assets/swagger-ui-bundle.js", timeout=10)
    assert bundle.status_code == 200
    assert bundle.headers["content-encoding"] == "gzip"
    assert httpx.get(gateway.url + "/docs/assets/../../etc/passwd", timeout=10).status_code == 404
