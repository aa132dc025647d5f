"""The operations page at a glance, in a real Chromium: what matters first, the map, the words."""

from __future__ import annotations

import itertools
from typing import TYPE_CHECKING

from tests.harness.gateway import Gateway
from tests.web.support import NO_INTERNET, artifacts_dir, chromium
from tests.web.test_ops_browser import FIRST_ROW, _click, _sign_in, _wait

if TYPE_CHECKING:
    from selenium.webdriver.remote.webdriver import WebDriver

# Demo focal points of Beni territoire: their villages are a few km apart.
MAVIVI, OICHA, ERINGETI, MBAU = (f"+24381000010{i}" for i in (1, 2, 3, 4))
KALEMIE = "+243810000116"


def _rows(driver: WebDriver) -> list[tuple[str, str, str]]:
    """(reference, severity class, status) of each row, top to bottom."""
    return list(
        driver.execute_script(
            "return [...document.querySelectorAll('#alerts button.alert')].map(b => "
            "[b.dataset.ref, [...b.classList].find(c => c.startsWith('sev-')), b.dataset.status])"
        )
    )


def _row_text(driver: WebDriver, ref: str) -> str:
    """The text of the row of `ref`, read at once (rows are drawn anew at each event)."""
    return str(
        driver.execute_script(
            "return document.querySelector(`#alerts button.alert[data-ref='${arguments[0]}']`)"
            "?.innerText || ''",
            ref,
        )
    )


def _ref(response_text: str) -> str:
    return "K-" + response_text.split("K-", 1)[1][:4]


def test_open_critical_alerts_come_first_and_are_announced_at_sign_in(
    gateway: Gateway, keys: dict[str, str]
) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    # The critical alert is the oldest: newest-first would put it below the others.
    critical = _ref(gateway.sms(MAVIVI, "Attaque en cours a Mavivi, 3 morts").text)
    high = _ref(gateway.sms(KALEMIE, "Hommes armes vus pres de Kalemie").text)
    for i in range(6):
        gateway.sms(f"+24381000011{i}", f"Bonjour, test du reseau {i}")
    with chromium() as driver:
        _sign_in(driver, gateway, keys["operator"])
        # Announced at once, though it arrived before the sign-in.
        flash = _wait(driver, 5).until(lambda d: d.find_element(By.ID, "flash"))
        _wait(driver, 5).until(lambda d: flash.is_displayed())
        assert critical in flash.text and "Mavivi" in flash.text
        # The banner speaks the page's language, also when it changes after the alert.
        Select(driver.find_element(By.ID, "lang")).select_by_value("en")
        _wait(driver, 5).until(lambda d: "Attack" in flash.text and "Attaque" not in flash.text)
        Select(driver.find_element(By.ID, "lang")).select_by_value("fr")
        _wait(driver, 5).until(lambda d: len(_rows(d)) == 8)
        rows = _rows(driver)
        assert [r[0] for r in rows[:2]] == [critical, high]
        assert rows[0][1] == "sev-critical" and rows[1][1] == "sev-high"
        driver.save_screenshot(str(artifacts_dir() / "ops-priority.png"))

        Select(driver.find_element(By.ID, "f-sort")).select_by_value("newest")
        _wait(driver, 5).until(lambda d: _rows(d)[0][0] not in (critical, high))
        assert _rows(driver)[-1][0] == critical
        # The choice is kept for the next visit.
        assert '"sort":"newest"' in driver.execute_script(
            "return localStorage.getItem('kengele.prefs')"
        )


def test_selecting_an_alert_zooms_the_map_and_near_marks_are_one_cluster(
    gateway: Gateway, keys: dict[str, str]
) -> None:
    from selenium.webdriver.common.by import By

    for phone, place in ((MAVIVI, "Mavivi"), (OICHA, "Oicha"), (ERINGETI, "Eringeti")):
        assert gateway.sms(phone, f"Attaque en cours a {place}").status_code == 200
    assert gateway.sms(KALEMIE, "Attaque a Kalemie maintenant").status_code == 200
    with chromium() as driver:
        _sign_in(driver, gateway, keys["operator"])
        _wait(driver, 5).until(lambda d: len(_rows(d)) == 4)
        # The whole region in view: nearby Beni villages are one mark with their count, and
        # every alert is counted once.
        cluster = _wait(driver, 5).until(
            lambda d: d.find_element(By.CSS_SELECTOR, "#map .mark.cluster")
        )
        count = cluster.get_attribute("data-count") or "0"
        assert int(count) >= 2
        assert count in [e.text for e in driver.find_elements(By.CSS_SELECTOR, "#map .mark-count")]
        marks = driver.find_elements(By.CSS_SELECTOR, "#map .mark")
        assert sum(int(m.get_attribute("data-count") or 0) for m in marks) == 4
        _assert_no_label_overlaps(driver)
        driver.save_screenshot(str(artifacts_dir() / "ops-map-cluster.png"))

        before = float(driver.find_element(By.ID, "map").get_attribute("data-zoom") or 0)
        kalemie = [r[0] for r in _rows(driver)][-1]
        _click(driver, f"#alerts button.alert[data-ref='{kalemie}']")
        _wait(driver, 5).until(
            lambda d: (
                float(d.find_element(By.ID, "map").get_attribute("data-zoom") or 0) >= before * 4
            )
        )
        # The selected alert's mark is in the middle of the map.
        centre = driver.execute_script(
            "const m = document.getElementById('map').getBoundingClientRect();"
            "const s = document.querySelector('#map .mark.selected').getBoundingClientRect();"
            "return [m.left + m.width / 2 - (s.left + s.width / 2),"
            " m.top + m.height / 2 - (s.top + s.height / 2)]"
        )
        assert abs(centre[0]) < 5 and abs(centre[1]) < 5, centre
        _assert_no_label_overlaps(driver)
        driver.save_screenshot(str(artifacts_dir() / "ops-map-zoomed.png"))

        # Zoomed in on Beni, the cluster comes apart into its three places.
        _click(driver, f"#alerts button.alert[data-ref='{_rows(driver)[0][0]}']")
        _wait(driver, 5).until(
            lambda d: len(d.find_elements(By.CSS_SELECTOR, "#map .mark:not(.cluster)")) >= 3
        )
        _assert_no_label_overlaps(driver)


def _assert_no_label_overlaps(driver: WebDriver) -> None:
    boxes = driver.execute_script(
        "return [...document.querySelectorAll('#map text.place-label, #map text.hull-label,"
        " #map text.lake-label, #map text.province-label, #map text.road-label')]"
        ".map(t => { const r = t.getBoundingClientRect();"
        " return [t.textContent, r.left, r.top, r.right, r.bottom]; })"
    )
    assert boxes, "no label drawn"
    for (n1, *a), (n2, *b) in itertools.combinations(boxes, 2):
        overlap_x = min(a[2], b[2]) - max(a[0], b[0])
        overlap_y = min(a[3], b[3]) - max(a[1], b[1])
        assert overlap_x <= 1 or overlap_y <= 1, f"{n1!r} and {n2!r} overlap"


def test_words_in_the_pages_language_no_paging_by_policy_and_a_phone(
    gateway: Gateway, keys: dict[str, str]
) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    low = _ref(gateway.sms(MBAU, "Bonjour, ici tout est calme").text)
    critical = _ref(gateway.sms(MAVIVI, "Attaque en cours a Mavivi").text)
    with chromium() as driver:
        driver.set_window_size(360, 740)  # a phone
        _sign_in(driver, gateway, keys["operator"])
        _wait(driver, 5).until(lambda d: len(_rows(d)) == 2)
        # The sign-out button is on screen and can be pressed.
        box = driver.execute_script(
            "const r = document.getElementById('signout').getBoundingClientRect();"
            "return [r.left, r.right, r.top, r.bottom, innerWidth]"
        )
        assert box[0] >= 0 and box[1] <= box[4] and box[3] > box[2], box
        # References never wrap.
        heights = driver.execute_script(
            "return [...document.querySelectorAll('#alerts .ref')]"
            ".map(e => e.getClientRects().length)"
        )
        assert heights and set(heights) == {1}
        low_row = _row_text(driver, low)
        assert "aucun appel (politique)" in low_row
        assert "sans réponse" not in low_row
        driver.save_screenshot(str(artifacts_dir() / "ops-phone.png"))

        driver.set_window_size(1366, 768)
        _click(driver, f"#alerts button.alert[data-ref='{critical}']")

        # The detail is drawn again at each stream event: read it whole, when it is there.
        def reasons(d: WebDriver) -> str:
            return str(d.find_element(By.CSS_SELECTOR, "#detail .reasons").text)

        text = _wait(driver, 5).until(lambda d: (r := reasons(d)) and "gravité critique" in r and r)
        assert "→ Attaque" in text and "(message)" in text
        assert "critical" not in text and "ATTACK" not in text
        assert "nouvelle" in driver.find_element(By.ID, "detail").text.lower()
        driver.save_screenshot(str(artifacts_dir() / "ops-detail-fr.png"))

        Select(driver.find_element(By.ID, "lang")).select_by_value("en")
        _wait(driver, 5).until(
            lambda d: (
                "critical severity" in d.find_element(By.CSS_SELECTOR, "#detail .reasons").text
            )
        )
        _wait(driver, 5).until(lambda d: "no paging (policy)" in _row_text(d, low))
        assert "no answer" not in _row_text(driver, low)
        assert "new" in driver.find_element(By.CSS_SELECTOR, FIRST_ROW).text.lower()


def test_the_map_shows_lakes_borders_rivers_provinces_territoires_and_roads(
    gateway: Gateway, keys: dict[str, str]
) -> None:
    from selenium.webdriver.common.by import By

    with chromium(NO_INTERNET) as driver:
        _sign_in(driver, gateway, keys["viewer"])
        _wait(driver, 10).until(lambda d: d.find_elements(By.CSS_SELECTOR, "#map path.lake"))
        assert len(driver.find_elements(By.CSS_SELECTOR, "#map path.border")) >= 3
        assert len(driver.find_elements(By.CSS_SELECTOR, "#map path.river")) >= 5
        names = set(
            driver.execute_script(
                "return [...document.querySelectorAll('#map text.lake-label')]"
                ".map(t => t.textContent)"
            )
        )
        assert {"Lac Kivu", "Lac Édouard", "Lac Albert", "Lac Tanganyika"} <= names, names
        driver.save_screenshot(str(artifacts_dir() / "ops-landmarks.png"))
        # Provinces, territoires (approximate) and national roads (schematic), said so.
        assert len(driver.find_elements(By.CSS_SELECTOR, "#map path.province")) >= 5
        assert len(driver.find_elements(By.CSS_SELECTOR, "#map path.territoire")) >= 20
        assert len(driver.find_elements(By.CSS_SELECTOR, "#map path.road")) >= 3
        provinces = set(
            driver.execute_script(
                "return [...document.querySelectorAll('#map text.province-label')]"
                ".map(t => t.textContent)"
            )
        )
        assert {"Nord-Kivu", "Sud-Kivu", "Ituri"} <= provinces, provinces
        roads = set(
            driver.execute_script(
                "return [...document.querySelectorAll('#map text.road-label')]"
                ".map(t => t.textContent)"
            )
        )
        assert roads & {"RN2", "RN4", "RN27"}, roads
        legend = driver.find_element(By.ID, "legend").text
        assert "territoire (approx.)" in legend and "route nationale (schématique)" in legend
        sources = driver.find_element(By.ID, "map-sources").get_attribute("title") or ""
        assert "ODbL" in sources and "schematic" in sources
        _assert_no_label_overlaps(driver)
        urls = driver.execute_script(
            "return performance.getEntriesByType('resource').map(e => e.name)"
        )
        assert all(u.startswith(gateway.url + "/") for u in urls), urls
