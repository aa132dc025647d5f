"""The daily report in the operations room, in a real Chromium: rendered, printable, no request
outside the gateway."""

from __future__ import annotations

import io
from datetime import UTC, datetime

import pypdf

from app.api.reports import today
from tests.harness.gateway import Gateway
from tests.web.support import NO_INTERNET, artifacts_dir, chromium
from tests.web.test_ops_browser import _sign_in, _wait


def test_the_daily_report_renders_for_a_demo_day(gateway: Gateway, keys: dict[str, str]) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    refs = [
        gateway.sms(phone, body).text.split("K-", 1)[1][:4]
        for phone, body in (
            ("+243810000101", "Attaque en cours a Mavivi, 2 morts"),
            ("+243810000102", "Hommes armes vus pres de Oicha"),
            ("+243810000116", "Attaque a Kalemie maintenant"),
        )
    ]
    day = today(gateway.settings.timezone, datetime.now(UTC)).isoformat()
    with chromium(NO_INTERNET) as driver:
        _sign_in(driver, gateway, keys["viewer"])
        driver.get(f"{gateway.url}/ops/report?date={day}")
        article = _wait(driver, 10).until(lambda d: d.find_element(By.CSS_SELECTOR, "article"))
        text = article.text
        assert "Rapport de situation quotidien" in text
        assert "Alertes par territoire et catégorie" in text and "Beni" in text
        assert all(f"K-{ref}" in text for ref in refs)
        assert len(driver.find_elements(By.CSS_SELECTOR, "svg.sitrep-map circle[r='6']")) == 3
        assert driver.find_element(By.ID, "date").get_attribute("value") == day
        # The style sheet applies (the page's policy lets no inline style in).
        collapse = driver.execute_script(
            "return getComputedStyle(document.querySelector('.sitrep table')).borderCollapse"
        )
        assert collapse == "collapse"
        urls = driver.execute_script(
            "return performance.getEntriesByType('resource').map(e => e.name)"
        )
        assert all(u.startswith(gateway.url + "/") for u in urls), urls
        driver.save_screenshot(str(artifacts_dir() / "report-fr.png"))

        # The PDF button downloads the same report as a PDF whose text reads as the page.
        pdf = artifacts_dir() / f"sitrep-{day}-fr.pdf"
        pdf.unlink(missing_ok=True)
        driver.execute_cdp_cmd(
            "Page.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(pdf.parent)}
        )
        driver.find_element(By.ID, "pdf").click()
        _wait(driver, 20).until(
            lambda d: pdf.exists() and pdf.read_bytes().rstrip().endswith(b"%%EOF")
        )
        reader = pypdf.PdfReader(io.BytesIO(pdf.read_bytes()))
        pdf_text = "\n".join(page.extract_text() for page in reader.pages)
        assert "Rapport de situation quotidien" in pdf_text and "Beni" in pdf_text
        assert all(f"K-{ref}" in pdf_text for ref in refs), pdf_text

        Select(driver.find_element(By.ID, "lang")).select_by_value("en")
        _wait(driver, 10).until(
            lambda d: "Daily situation report" in d.find_element(By.CSS_SELECTOR, "article").text
        )
        assert "lang=en" in driver.current_url
        driver.save_screenshot(str(artifacts_dir() / "report-en.png"))


def test_the_report_page_asks_to_sign_in_first(gateway: Gateway) -> None:
    from selenium.webdriver.common.by import By

    with chromium() as driver:
        driver.get(f"{gateway.url}/ops/report")
        _wait(driver, 10).until(lambda d: "Connectez-vous" in d.find_element(By.ID, "msg").text)
        assert driver.find_elements(By.CSS_SELECTOR, "article") == []
