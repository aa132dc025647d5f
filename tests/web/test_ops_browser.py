"""The operations page in a real headless Chromium against a real gateway."""

from __future__ import annotations

import importlib.util
import time
from typing import TYPE_CHECKING

from app.kit.config import Settings
from tests.harness.gateway import Gateway, serve
from tests.web.support import artifacts_dir, chromium, require_browser

if TYPE_CHECKING:
    from selenium.webdriver.remote.webdriver import WebDriver
    from selenium.webdriver.support.ui import WebDriverWait

MAVIVI_FOCAL_POINT = "+243810000101"
FIRST_ROW = "#alerts button.alert[data-ref]"


def _stale() -> tuple[type[Exception], ...]:
    from selenium.common.exceptions import StaleElementReferenceException

    return (StaleElementReferenceException,)


# The list and the detail are drawn again at each stream event: an element found a moment
# ago may be gone. Waits look again instead of failing; actions find their element anew.
STALE = _stale() if importlib.util.find_spec("selenium") else ()


def _wait(driver: WebDriver, seconds: float, poll: float = 0.5) -> WebDriverWait[WebDriver]:
    """A wait that looks again when what it read was drawn anew meanwhile."""
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, seconds, poll_frequency=poll, ignored_exceptions=STALE)


def _click(driver: WebDriver, selector: str) -> None:
    """Click what `selector` finds now, looking again if it was drawn anew meanwhile."""
    from selenium.webdriver.common.by import By

    _wait(driver, 5).until(lambda d: d.find_element(By.CSS_SELECTOR, selector).click() or True)


def _row_text(driver: WebDriver) -> tuple[str, str]:
    """The first row's text and status, read together."""
    from selenium.webdriver.common.by import By

    def read(d: WebDriver) -> tuple[str, str]:
        row = d.find_element(By.CSS_SELECTOR, FIRST_ROW)
        return row.text, row.get_attribute("data-status") or ""

    result: tuple[str, str] = _wait(driver, 5).until(read)
    return result


def _sign_in(driver: WebDriver, gateway: Gateway, key: str) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec

    driver.get(gateway.url + "/ops/")
    field = _wait(driver, 10).until(ec.visibility_of_element_located((By.ID, "key")))
    field.send_keys(key)
    driver.find_element(By.ID, "signin-button").click()
    _wait(driver, 10).until(ec.visibility_of_element_located((By.ID, "alerts")))
    # Live: the stream is open, so what the webhook does next must arrive through it.
    _wait(driver, 10).until(
        lambda d: d.find_element(By.ID, "conn").get_attribute("data-state") == "live"
    )


def test_operator_sees_a_new_alert_live_and_acknowledges_it(
    gateway: Gateway, keys: dict[str, str]
) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec

    with chromium() as driver:
        _sign_in(driver, gateway, keys["operator"])
        assert "opérateur" in driver.find_element(By.ID, "who").text
        assert (
            driver.execute_script("return sessionStorage.getItem('kengele.key')")
            == (keys["operator"])
        )
        assert keys["operator"] not in driver.current_url

        response = gateway.sms(MAVIVI_FOCAL_POINT, "Attaque en cours a Mavivi, 2 morts")
        assert response.status_code == 200
        posted = time.monotonic()
        _wait(driver, 2, poll=0.05).until(ec.element_to_be_clickable((By.CSS_SELECTOR, FIRST_ROW)))
        seen_after = time.monotonic() - posted
        assert seen_after < 2, seen_after
        text, status = _row_text(driver)
        assert "Mavivi" in text
        assert status == "new"
        assert "critique" in text.lower()
        # A critical alert is announced in the header too.
        assert "Mavivi" in driver.find_element(By.ID, "flash").text

        _click(driver, FIRST_ROW)
        detail = _wait(driver, 5).until(ec.visibility_of_element_located((By.ID, "detail")))
        _wait(driver, 5).until(lambda d: d.find_elements(By.CSS_SELECTOR, "#events li"))
        assert "Attaque en cours a Mavivi" in detail.text
        events_before = len(driver.find_elements(By.CSS_SELECTOR, "#events li"))

        _wait(driver, 5).until(
            lambda d: (
                d.find_element(By.ID, "action-note").send_keys("CLA Beni rappelle le point focal")
                or True
            )
        )
        _click(driver, "#detail [data-action='acknowledge']")
        _wait(driver, 5).until(
            lambda d: (
                d.find_element(By.ID, "detail-status").get_attribute("data-status")
                == "acknowledged"
            )
        )
        _wait(driver, 5).until(
            lambda d: len(d.find_elements(By.CSS_SELECTOR, "#events li")) > events_before
        )
        # The stream may draw the history anew between a find and a read: read it afresh.
        _wait(driver, 5).until(
            lambda d: "CLA Beni rappelle le point focal" in d.find_element(By.ID, "events").text
        )
        # The list follows (through the action's answer and the stream).
        _wait(driver, 5).until(
            lambda d: (
                d.find_element(By.CSS_SELECTOR, "#alerts button.alert").get_attribute("data-status")
                == "acknowledged"
            )
        )
        # The page asked nothing of any other host.
        urls = driver.execute_script(
            "return performance.getEntriesByType('resource').map(e => e.name)"
            ".concat([location.href])"
        )
        assert urls and all(u.startswith(gateway.url + "/") for u in urls), urls
        driver.save_screenshot(str(artifacts_dir() / "ops-operator.png"))


def test_viewer_sees_no_action_buttons(gateway: Gateway, keys: dict[str, str]) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec

    assert gateway.sms(MAVIVI_FOCAL_POINT, "Attaque en cours a Mavivi").status_code == 200
    with chromium() as driver:
        _sign_in(driver, gateway, keys["viewer"])
        assert "lecture" in driver.find_element(By.ID, "who").text
        _wait(driver, 5).until(ec.element_to_be_clickable((By.CSS_SELECTOR, FIRST_ROW)))
        _click(driver, FIRST_ROW)
        _wait(driver, 5).until(lambda d: d.find_elements(By.CSS_SELECTOR, "#events li"))
        detail = driver.find_element(By.ID, "detail")
        assert "Attaque en cours a Mavivi" in detail.text
        assert driver.find_elements(By.CSS_SELECTOR, "[data-action]") == []
        assert driver.find_elements(By.ID, "action-note") == []
        # Viewers see reporters' numbers masked.
        assert "+243810000101" not in detail.text
        driver.save_screenshot(str(artifacts_dir() / "ops-viewer.png"))


def test_page_catches_up_through_last_event_id_after_the_gateway_restarts(
    settings: Settings, keys: dict[str, str]
) -> None:
    from selenium.webdriver.common.by import By

    require_browser()

    def refs(driver: WebDriver) -> set[str]:
        rows = driver.find_elements(By.CSS_SELECTOR, "#alerts button.alert")
        return {r.get_attribute("data-ref") or "" for r in rows}

    def list_reads(driver: WebDriver) -> int:
        """Reads of the list a gateway answered: while none is up, the page's slow poll (after
        15 s without the stream, which a loaded machine reaches) fails with status 0."""
        return int(
            driver.execute_script(
                "return performance.getEntriesByType('resource')"
                ".filter(e => e.name.includes('/api/v1/alerts?') && e.responseStatus > 0).length"
            )
        )

    with chromium() as driver:
        with serve(settings) as first:
            _sign_in(driver, first, keys["operator"])
            assert first.sms(MAVIVI_FOCAL_POINT, "Attaque en cours a Mavivi").status_code == 200
            _wait(driver, 5).until(lambda d: len(refs(d)) == 1)
            port = int(first.url.rsplit(":", 1)[1])
        _wait(driver, 10).until(
            lambda d: d.find_element(By.ID, "conn").get_attribute("data-state") != "live"
        )
        # While the page's gateway is down, another process takes a report.
        with serve(settings) as other:
            assert other.sms("+243810000107", "Enlèvement à Rutshuru").status_code == 200
        with serve(settings, port=port):
            _wait(driver, 40).until(lambda d: len(refs(d)) == 2)
            assert driver.find_element(By.ID, "conn").get_attribute("data-state") == "live"
        # It came through the stream's replay: the list was read once, at sign-in.
        assert list_reads(driver) == 1
