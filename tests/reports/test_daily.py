"""GET /api/v1/reports/daily: a demo day as HTML, Markdown and PDF (checked by its text)."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

import httpx
import pypdf
import pytest
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.alerts.models import Alert
from app.api.reports import today
from tests.support import sign, sms_form

MAVIVI, OICHA, KALEMIE, MBAU = "+243810000101", "+243810000102", "+243810000116", "+243810000104"
ZONE = "Africa/Lubumbashi"


async def _sms(client: httpx.AsyncClient, phone: str, body: str) -> str:
    form = sms_form(phone, body)
    path = "/webhooks/twilio/sms"
    response = await client.post(path, data=form, headers={"X-Twilio-Signature": sign(path, form)})
    assert response.status_code == 200
    return "K-" + response.text.split("K-", 1)[1][:4]


@pytest.fixture
async def demo_day(
    client: httpx.AsyncClient,
    demo: None,
    sessionmaker: async_sessionmaker[AsyncSession],
    viewer_headers: dict[str, str],
    admin_headers: dict[str, str],
) -> dict[str, str]:
    """A day of the demo: three alerts today (one acknowledged), one yesterday still open."""
    refs = {
        "attack": await _sms(client, MAVIVI, "Attaque en cours a Mavivi, 2 morts"),
        "armed": await _sms(client, OICHA, "Hommes armes vus pres de Oicha"),
        "kalemie": await _sms(client, KALEMIE, "Attaque a Kalemie maintenant"),
        "old": await _sms(client, MBAU, "Pillage a Mbau"),
    }
    async with sessionmaker() as session:
        yesterday = datetime.now(UTC) - timedelta(days=1)
        await session.execute(
            update(Alert).where(Alert.ref == refs["old"]).values(received_at=yesterday)
        )
        await session.commit()
    operator = {"Authorization": admin_headers["Authorization"]}
    alerts = (await client.get("/api/v1/alerts", headers=operator)).json()["items"]
    alert = next(a for a in alerts if a["ref"] == refs["armed"])
    done = await client.post(
        f"/api/v1/alerts/{alert['id']}/actions", json={"action": "acknowledge"}, headers=operator
    )
    assert done.status_code == 200, done.text
    return refs


def _day() -> str:
    return today(ZONE, datetime.now(UTC)).isoformat()


async def test_html_report_of_the_day(
    client: httpx.AsyncClient, demo_day: dict[str, str], viewer_headers: dict[str, str]
) -> None:
    response = await client.get(
        f"/api/v1/reports/daily?date={_day()}&format=html", headers=viewer_headers
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/html")
    html = response.text
    assert "Rapport de situation quotidien" in html
    # By territoire and category, with totals.
    assert "<td>Beni</td>" in html and "<td>Kalemie</td>" in html
    assert "Attaque" in html and "Présence armée" in html
    assert "3 alertes reçues" in html
    # The map: the day's three alerts, numbered as in the list.
    assert html.count('r="6"') == 3 and "<svg" in html
    assert 'fill="#bcd5ea"' in html  # lakes under the alerts, from the page's landmarks
    assert 'stroke="#a58fae"' in html and 'stroke="#7a7f87"' in html  # provinces, borders
    # Response times: one acknowledged.
    assert "Réception → prise en charge" in html
    # Open alerts include yesterday's, still open; today's list does not.
    open_part = html.split("Alertes ouvertes en fin de journée")[1].split("Alertes du jour")[0]
    assert demo_day["old"] in open_part and demo_day["attack"] in open_part
    assert demo_day["old"] not in html.split("Alertes du jour")[1]
    assert "+24381" not in html  # no phone number in a shared report


async def test_markdown_and_english(
    client: httpx.AsyncClient, demo_day: dict[str, str], viewer_headers: dict[str, str]
) -> None:
    response = await client.get(
        f"/api/v1/reports/daily?date={_day()}&format=md&lang=en", headers=viewer_headers
    )
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/markdown")
    md = response.text
    assert md.startswith("# Daily situation report")
    assert "| Territoire | Attack | Armed presence | Total |" in md
    assert "| Beni | 1 | 1 | 2 |" in md and "| Kalemie | 1 |  | 1 |" in md
    assert "| Total | 2 | 1 | 3 |" in md
    assert f"| {demo_day['armed']} |" in md and "acknowledged" in md


async def test_pdf_report_reads_as_the_html(
    client: httpx.AsyncClient, demo_day: dict[str, str], viewer_headers: dict[str, str]
) -> None:
    response = await client.get(
        f"/api/v1/reports/daily?date={_day()}&format=pdf", headers=viewer_headers
    )
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/pdf"
    assert f'filename="sitrep-{_day()}-fr.pdf"' in response.headers["content-disposition"]
    reader = pypdf.PdfReader(io.BytesIO(response.content))
    text = "\n".join(page.extract_text() for page in reader.pages)
    for expected in (
        "Rapport de situation quotidien",
        "Alertes par territoire et catégorie",
        "Beni",
        "Kalemie",
        "Présence armée",
        "Délais de réponse",
        "Alertes ouvertes en fin de journée",
        demo_day["attack"],
        demo_day["old"],
    ):
        assert expected in text, expected


async def test_a_day_without_alerts_and_bad_parameters(
    client: httpx.AsyncClient, viewer_headers: dict[str, str], engine: object
) -> None:
    quiet = await client.get(
        "/api/v1/reports/daily?date=2020-01-01&format=md&lang=en", headers=viewer_headers
    )
    assert quiet.status_code == 200
    assert "No alert received that day." in quiet.text and "No open alert." in quiet.text
    for query in ("date=2020-13-01", "format=docx", "lang=sw"):
        bad = await client.get(f"/api/v1/reports/daily?{query}", headers=viewer_headers)
        assert bad.status_code == 422, query
        assert bad.json()["error"]
