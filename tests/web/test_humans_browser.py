"""The operations page: correct an alert, work the call-back queue, enter an alert by hand."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import httpx

from tests.harness.gateway import Gateway
from tests.support import call_form, sign
from tests.web.support import artifacts_dir, chromium
from tests.web.test_ops_browser import FIRST_ROW, _click, _sign_in, _wait

if TYPE_CHECKING:
    from selenium.webdriver.remote.webdriver import WebDriver

FOCAL_MAVIVI = "+243810000101"
FOCAL_OICHA = "+243810000102"


def _flash(gw: Gateway, phone: str) -> None:
    """A missed call, signed as Twilio would."""
    path = "/webhooks/twilio/voice"
    form = call_form(phone)
    token = gw.settings.twilio_auth_token.get_secret_value()
    signature = sign(path, form, token=token, base=gw.url)
    response = httpx.post(gw.url + path, data=form, headers={"X-Twilio-Signature": signature})
    assert response.status_code == 200, response.text


def _type(driver: WebDriver, element_id: str, text: str) -> None:
    from selenium.webdriver.common.by import By

    _wait(driver, 5).until(lambda d: d.find_element(By.ID, element_id).send_keys(text) or True)


def _choose(driver: WebDriver, element_id: str, value: str) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    _wait(driver, 5).until(
        lambda d: Select(d.find_element(By.ID, element_id)).select_by_value(value) or True
    )


def _queue(driver: WebDriver) -> list[str]:
    from selenium.webdriver.common.by import By

    return [
        li.get_attribute("data-ref") or ""
        for li in driver.find_elements(By.CSS_SELECTOR, "#queue > li")
    ]


def _text(driver: WebDriver, element_id: str) -> str:
    from selenium.webdriver.common.by import By

    return str(_wait(driver, 5).until(lambda d: d.find_element(By.ID, element_id).text))


def test_operator_corrects_calls_back_and_enters_an_alert(
    gateway: Gateway,
    keys: dict[str, str],
) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec

    with chromium() as driver:
        _sign_in(driver, gateway, keys["operator"])

        # 1. Correct what triage got wrong; the original triage stays in view.
        assert gateway.sms(FOCAL_MAVIVI, "Hommes armes vus a Mavivi").status_code == 200
        _wait(driver, 5).until(ec.element_to_be_clickable((By.CSS_SELECTOR, FIRST_ROW)))
        mavivi = driver.find_element(By.CSS_SELECTOR, FIRST_ROW).get_attribute("data-ref")
        _click(driver, FIRST_ROW)
        _wait(driver, 5).until(lambda d: d.find_elements(By.CSS_SELECTOR, "#events li"))
        # An alert never corrected shows the form alone: no stray "null" where the original
        # triage and the correction's author would be.
        assert "null" not in driver.find_element(By.ID, "detail").text
        _choose(driver, "c-category", "ABDUCTION")
        _choose(driver, "c-severity", "critical")
        _type(driver, "c-abducted", "4")
        _click(driver, "#correct-submit")
        _wait(driver, 5).until(lambda d: "Présence armée" in _text(d, "original-triage"))
        _wait(driver, 5).until(lambda d: "corrigée" in _text(d, "events"))
        detail = driver.find_element(By.ID, "detail").text
        assert "Enlèvement" in detail and "4 enlevés" in detail
        _wait(driver, 5).until(
            lambda d: "critique" in d.find_element(By.CSS_SELECTOR, FIRST_ROW).text.lower()
        )

        # 2. The call-back queue: oldest first; the number through the audited reveal; the
        # FLASH described by what the focal point said becomes a triaged alert.
        _flash(gateway, FOCAL_OICHA)
        _click(driver, "#callbacks-open")
        _wait(driver, 5).until(lambda d: len(_queue(d)) == 2)
        flash = _queue(driver)[1]
        assert _queue(driver)[0] == mavivi, "the oldest waits longest"
        assert re.search(r"\(2\)", driver.find_element(By.ID, "callbacks-open").text)
        flash_item = f"#queue > li[data-ref='{flash}']"
        _click(driver, f"{flash_item} [data-reveal]")
        _wait(driver, 5).until(
            lambda d: FOCAL_OICHA in d.find_element(By.CSS_SELECTOR, flash_item).text
        )
        said = driver.find_element(By.CSS_SELECTOR, f"{flash_item} textarea")
        said.send_keys("Attaque des ADF en cours a Oicha, 2 morts")
        _click(driver, f"{flash_item} [data-callback]")
        _wait(driver, 5).until(lambda d: _queue(d) == [mavivi])
        assert "Attaque · Oïcha (Beni)" in _text(driver, "humans-msg")
        row = f"#alerts button.alert[data-ref='{flash}']"
        _wait(driver, 5).until(
            lambda d: (
                d.find_element(By.CSS_SELECTOR, row).get_attribute("data-status") == "verified"
            )
        )
        assert "Attaque" in driver.find_element(By.CSS_SELECTOR, row).text

        # 3. An alert that came by radio, entered by hand.
        _click(driver, "#entry-open")
        _type(driver, "e-text", "Radio: des hommes armes ont pille le marche d'Eringeti")
        _choose(driver, "e-source", "radio")
        _type(driver, "e-reporter", "+243810000103")
        _click(driver, "#entry-submit")
        _wait(driver, 5).until(lambda d: "enregistrée" in _text(d, "humans-msg"))
        entered = re.search(r"K-[2-9A-Z]{4}", _text(driver, "humans-msg"))
        assert entered is not None
        row = f"#alerts button.alert[data-ref='{entered.group()}']"
        _wait(driver, 5).until(lambda d: d.find_elements(By.CSS_SELECTOR, row))
        assert "Eringeti" in driver.find_element(By.CSS_SELECTOR, row).text
        driver.save_screenshot(str(artifacts_dir() / "ops-humans.png"))
