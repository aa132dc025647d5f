"""The operations page, in a real Chromium, says while an SMS channel is down: which one and
since when, and the zone it leaves with no channel, in French and English; the banner goes
when the channel comes back."""

from __future__ import annotations

from typing import TYPE_CHECKING

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.channels import service as channel_service
from app.kit.config import Settings
from tests.channels.support import add_channel
from tests.fakes.httpsms_api import HttpSmsFake
from tests.harness.gateway import Gateway
from tests.web.support import artifacts_dir, chromium
from tests.web.test_ops_browser import _sign_in, _wait

if TYPE_CHECKING:
    from selenium.webdriver.remote.webdriver import WebDriver

PATH = "/webhooks/httpsms/oicha"


@pytest.fixture
async def phone(sessionmaker: async_sessionmaker[AsyncSession], settings: Settings) -> HttpSmsFake:
    """The channel oicha, an httpSMS phone signing with the stand-in's key (not started): the
    only channel of zone Beni."""
    fake = HttpSmsFake()
    options = {"signing_key": fake.signing_key, "api_key": fake.api_key}
    await add_channel(sessionmaker, settings, "httpsms", "oicha", options=options, zones=["Beni"])
    return fake


@pytest.fixture
async def second(sessionmaker: async_sessionmaker[AsyncSession], settings: Settings) -> int:
    """The channel beni-b, a handset of zone Beni too (up): Beni is cut off only without it."""
    await add_channel(
        sessionmaker,
        settings,
        "smsgate",
        "beni-b",
        options={"signing_key": "k" * 32},
        zones=["Beni"],
    )
    async with sessionmaker() as session:
        found = await channel_service.find(session, "beni-b")
    assert found is not None
    return found.id


def _heartbeat(gateway: Gateway, phone: HttpSmsFake, online: bool) -> None:
    """httpSMS says the phone went offline (or is online again)."""
    event = "phone.heartbeat.online" if online else "phone.heartbeat.offline"
    body, headers = phone.webhook(event, gateway.url + PATH)
    response = httpx.post(gateway.url + PATH, content=body, headers=headers, timeout=10)
    assert response.status_code == 200, response.text


def _banner(driver: WebDriver) -> str:
    """The banner's text, empty while it is hidden."""
    return str(
        driver.execute_script(
            "const b = document.getElementById('channels-down');"
            "return b.hidden || !b.offsetParent ? '' : b.innerText"
        )
    )


def test_a_banner_names_the_channel_down_and_since_when_until_it_is_back(
    gateway: Gateway, keys: dict[str, str], phone: HttpSmsFake
) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    _heartbeat(gateway, phone, online=False)
    with chromium() as driver:
        # Down before the sign-in: the health read at sign-in shows it.
        _sign_in(driver, gateway, keys["viewer"])
        _wait(driver, 5).until(lambda d: "oicha" in _banner(d) and "Beni" in _banner(d))
        zone, channel = _banner(driver).splitlines()
        assert zone.startswith("ZONE Beni INJOIGNABLE PAR SMS depuis ")
        assert zone.endswith("· 0 page(s) en attente")
        assert channel.startswith("Canal SMS en panne : oicha depuis ")
        driver.save_screenshot(str(artifacts_dir() / "ops-channel-down.png"))
        Select(driver.find_element(By.ID, "lang")).select_by_value("en")
        _wait(driver, 5).until(lambda d: "SMS channel down: oicha since " in _banner(d))
        assert _banner(driver).startswith("ZONE Beni UNREACHABLE BY SMS since ")

        # Back, then down again: the stream's channel.up and channel.down move the banner.
        _heartbeat(gateway, phone, online=True)
        _wait(driver, 5).until(lambda d: _banner(d) == "")
        _heartbeat(gateway, phone, online=False)
        _wait(driver, 5).until(lambda d: "SMS channel down: oicha since " in _banner(d))
        _wait(driver, 5).until(lambda d: _banner(d).startswith("ZONE Beni UNREACHABLE BY SMS"))


def test_an_admins_edit_that_cuts_a_zone_off_shows_on_the_banner_at_once(
    gateway: Gateway,
    keys: dict[str, str],
    phone: HttpSmsFake,
    second: int,
    admin_headers: dict[str, str],
) -> None:
    _heartbeat(gateway, phone, online=False)  # oicha down; beni-b still serves Beni
    with chromium() as driver:
        _sign_in(driver, gateway, keys["viewer"])
        _wait(driver, 5).until(lambda d: "oicha" in _banner(d))
        assert "Beni" not in _banner(driver)

        def edit(active: bool) -> None:
            url = f"{gateway.url}/api/v1/channels/{second}"
            answer = httpx.patch(url, json={"active": active}, headers=admin_headers, timeout=10)
            assert answer.status_code == 200, answer.text

        # An admin turns beni-b off: the stream's channel.edited, not a sign-in, shows Beni cut.
        edit(active=False)
        _wait(driver, 5).until(lambda d: _banner(d).startswith("ZONE Beni INJOIGNABLE PAR SMS"))
        edit(active=True)
        _wait(driver, 5).until(lambda d: "Beni" not in _banner(d) and "oicha" in _banner(d))
