"""Inbound SMS webhook: signature, storage, receipts, replays, any body."""

from __future__ import annotations

import asyncio
import re

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.alerts import service as alerts
from app.alerts.models import Alert
from app.inbound.models import InboundMessage
from app.kit.clock import utcnow
from app.kit.config import Settings
from app.kit.db import unit_of_work
from app.outbox.models import Delivery
from app.people.models import Reporter
from tests.support import post_twilio, sign, sms_form

SMS = "/webhooks/twilio/sms"
FOCAL_MAVIVI = "+243810000101"  # registered, French, home Mavivi
FOCAL_OICHA = "+243810000102"  # registered, Swahili, home Oicha
REF = re.compile(r"K-[2-9A-HJKMNP-Z]{4}")


async def count_rows(session: AsyncSession, model: type) -> int:
    return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def test_signed_sms_becomes_a_triaged_geotagged_alert(
    client: httpx.AsyncClient, demo: None, session: AsyncSession
) -> None:
    response = await post_twilio(client, SMS, sms_form(FOCAL_MAVIVI, "Attaque en cours a Mavivi"))

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/xml")
    ref = REF.search(response.text)
    assert ref, response.text
    alert = await session.scalar(select(Alert))
    assert alert is not None
    assert (alert.ref, alert.category, alert.severity) == (ref.group(), "ATTACK", "critical")
    assert (alert.place_id, alert.admin2, alert.admin1) == ("mavivi", "Beni", "Nord-Kivu")
    assert alert.location_source == "text"
    assert alert.reasons, "an alert explains its triage"
    message = await session.scalar(select(InboundMessage))
    assert message is not None
    assert (message.status, message.alert_id) == ("processed", alert.id)


async def test_receipt_is_in_the_reporters_language(client: httpx.AsyncClient, demo: None) -> None:
    french = await post_twilio(client, SMS, sms_form(FOCAL_MAVIVI, "hommes armes a Mavivi"))
    swahili = await post_twilio(client, SMS, sms_form(FOCAL_OICHA, "hommes armes a Oicha"))
    assert "Merci" in french.text
    assert "Asante" in swahili.text


@pytest.mark.parametrize(
    "case",
    ["forged", "missing", "other-url", "other-token", "tampered-body"],
)
async def test_unsigned_or_forged_requests_get_403_and_store_nothing(
    client: httpx.AsyncClient, demo: None, session: AsyncSession, case: str
) -> None:
    form = sms_form(FOCAL_MAVIVI, "Attaque en cours a Mavivi")
    headers = {"X-Twilio-Signature": sign(SMS, form)}
    if case == "forged":
        headers["X-Twilio-Signature"] = "bm90IGEgc2lnbmF0dXJl"
    elif case == "missing":
        headers = {}
    elif case == "other-url":
        headers["X-Twilio-Signature"] = sign(SMS, form, base="https://elsewhere.test")
    elif case == "other-token":
        headers["X-Twilio-Signature"] = sign(SMS, form, token="someone-elses-token")
    elif case == "tampered-body":
        form = {**form, "Body": "Calme a Mavivi"}

    response = await client.post(SMS, data=form, headers=headers)

    assert response.status_code == 403
    assert response.json()["error"] == "Forbidden"
    assert await count_rows(session, InboundMessage) == 0
    assert await count_rows(session, Alert) == 0


async def test_signature_covers_the_query_string(
    client: httpx.AsyncClient, demo: None, session: AsyncSession
) -> None:
    form = sms_form(FOCAL_MAVIVI, "Attaque a Mavivi")
    good = sign(f"{SMS}?tenant=beni", form)
    ok = await client.post(f"{SMS}?tenant=beni", data=form, headers={"X-Twilio-Signature": good})
    assert ok.status_code == 200
    other = sms_form(FOCAL_MAVIVI, "Attaque a Mavivi")
    signed_without_query = sign(SMS, other)
    bad = await client.post(
        f"{SMS}?tenant=beni", data=other, headers={"X-Twilio-Signature": signed_without_query}
    )
    assert bad.status_code == 403


async def test_replayed_message_sid_creates_nothing_new_and_its_receipt_goes_once_by_sms(
    client: httpx.AsyncClient, demo: None, session: AsyncSession
) -> None:
    # Twilio posts again only when it gave up on the first answer: the receipt that answer
    # carried reached nobody, and goes by SMS, once; the retries' answers carry none (a
    # late first request may be sending it by SMS too: tests/inbound/test_outage.py).
    form = sms_form(FOCAL_MAVIVI, "Attaque en cours a Mavivi")
    first = await post_twilio(client, SMS, form)
    again = [await post_twilio(client, SMS, form) for _ in range(2)]

    assert [r.status_code for r in (first, *again)] == [200] * 3
    assert "K-" in first.text and all("K-" not in r.text for r in again)
    assert await count_rows(session, InboundMessage) == 1
    assert await count_rows(session, Alert) == 1
    replies = (await session.scalars(select(Delivery).where(Delivery.purpose == "reply"))).all()
    assert [(r.recipient, r.via) for r in replies] == [(FOCAL_MAVIVI, "twilio")]


async def test_a_panic_resend_counts_once(
    client: httpx.AsyncClient, demo: None, session: AsyncSession
) -> None:
    first = await post_twilio(client, SMS, sms_form(FOCAL_MAVIVI, "Attaque a Mavivi"))
    again = await post_twilio(client, SMS, sms_form(FOCAL_MAVIVI, "Attaque a Mavivi"))

    assert REF.search(first.text).group() == REF.search(again.text).group()  # type: ignore[union-attr]
    alerts = (await session.scalars(select(Alert))).all()
    assert len(alerts) == 1
    assert alerts[0].message_count == 2
    assert await count_rows(session, InboundMessage) == 2


BODIES = {
    "empty": "",
    "long": "Attaque a Mavivi " * 94 + "fin",  # 1,600 characters
    "emoji": "🔥🔥 attaque 🔫 Mavivi 😱",
    "arabic": "هجوم مسلح في القرية الآن",
    "control": "Attaque\x00 a\x07 Mavivi\x1b[31m\r\n\t",
    "mojibake": "Attaque Ã  Mavivi, tuÃ©s ÃƒÂ©",
    "sql": "'; DROP TABLE alerts; -- Robert'); SELECT * FROM reporters WHERE '1'='1",
    "lone-surrogate-like": "\ufffd\ufffe attaque",
    "only-spaces": "     ",
}


@pytest.mark.parametrize("name", sorted(BODIES))
async def test_any_body_is_stored_and_answered_without_a_500(
    client: httpx.AsyncClient, demo: None, session: AsyncSession, name: str
) -> None:
    response = await post_twilio(client, SMS, sms_form(FOCAL_MAVIVI, BODIES[name]))

    assert response.status_code == 200, response.text
    assert "<Response" in response.text
    message = await session.scalar(select(InboundMessage))
    assert message is not None
    assert message.status == "processed"
    assert await count_rows(session, Alert) == 1


async def test_unknown_sender_gets_a_receipt_in_the_language_of_the_text(
    client: httpx.AsyncClient, demo: None, session: AsyncSession
) -> None:
    response = await post_twilio(
        client, SMS, sms_form("+243899990002", "ADF wameteka watu Mangina sasa hivi")
    )
    assert "Asante" in response.text
    alert = await session.scalar(select(Alert))
    assert alert is not None
    assert alert.place_id == "mangina"
    reporter = await session.scalar(select(Reporter).where(Reporter.phone == "+243899990002"))
    assert reporter is not None
    assert (reporter.role, reporter.verified) == ("unregistered", False)


async def test_stop_opts_out_of_receipts_and_start_resumes(
    client: httpx.AsyncClient, demo: None, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    stop = await post_twilio(client, SMS, sms_form(FOCAL_MAVIVI, "ARRET"))
    assert "START" in stop.text

    quiet = await post_twilio(client, SMS, sms_form(FOCAL_MAVIVI, "Attaque a Mavivi"))
    assert "<Message>" not in quiet.text
    assert REF.search(quiet.text) is None

    await post_twilio(client, SMS, sms_form(FOCAL_MAVIVI, "Start"))
    loud = await post_twilio(client, SMS, sms_form(FOCAL_MAVIVI, "Hommes armes a Mavivi"))
    assert REF.search(loud.text)

    async with sessionmaker() as s:
        alerts = (await s.scalars(select(Alert))).all()
        assert len(alerts) == 2, "opting out of receipts never stops alerts"


@pytest.mark.parametrize("word", ["STOP", "acha", "Arrêt", " stop. "])
async def test_opt_out_words(
    client: httpx.AsyncClient, demo: None, session: AsyncSession, word: str
) -> None:
    await post_twilio(client, SMS, sms_form(FOCAL_OICHA, word))
    reporter = await session.scalar(select(Reporter).where(Reporter.phone == FOCAL_OICHA))
    assert reporter is not None
    assert reporter.opted_out
    assert await count_rows(session, Alert) == 0


async def test_receipts_can_be_turned_off(
    settings, engine, demo: None, session: AsyncSession
) -> None:
    from app.main import create_app
    from tests.harness.gateway import running

    app = create_app(settings.model_copy(update={"receipts_enabled": False}))
    async with running(app) as client:
        response = await post_twilio(client, SMS, sms_form(FOCAL_MAVIVI, "Attaque a Mavivi"))
    assert response.status_code == 200
    assert "<Message>" not in response.text
    assert await count_rows(session, Alert) == 1


async def test_signature_check_can_be_turned_off_explicitly(
    settings, engine, demo: None, caplog: pytest.LogCaptureFixture
) -> None:
    from app.main import create_app
    from tests.harness.gateway import running

    app = create_app(settings.model_copy(update={"twilio_validate_signature": False}))
    with caplog.at_level("WARNING"):
        async with running(app) as client:
            response = await client.post(SMS, data=sms_form(FOCAL_MAVIVI, "Attaque a Mavivi"))
    assert response.status_code == 200
    assert any("signature check is OFF" in r.getMessage() for r in caplog.records)


async def test_missing_message_sid_is_a_clear_400(client: httpx.AsyncClient) -> None:
    form = {"From": FOCAL_MAVIVI, "Body": "Attaque"}
    response = await client.post(SMS, data=form, headers={"X-Twilio-Signature": sign(SMS, form)})
    assert response.status_code == 400
    assert "MessageSid" in response.json()["detail"]


@pytest.mark.postgresql  # row locks (SQLite runs one writing transaction at a time)
async def test_a_resend_that_comes_while_another_is_being_counted_counts_on_top_of_it(
    client: httpx.AsyncClient,
    demo: None,
    sessionmaker: async_sessionmaker[AsyncSession],
    settings: Settings,
) -> None:
    """A panicked reporter's resends can be processed at once: the second waits for the
    alert's row lock and counts on the first's count, instead of both writing count 2."""
    body = "Attaque a Mavivi"
    assert (await post_twilio(client, SMS, sms_form(FOCAL_MAVIVI, body))).status_code == 200
    async with unit_of_work(sessionmaker) as session:
        # Another resend of the same text, counted and not committed yet.
        alert = await alerts.find_resend(session, FOCAL_MAVIVI, body, utcnow(), settings)
        assert alert is not None and alert.message_count == 1
        alerts.fold_repeat(session, alert, utcnow(), actor="system")
        await session.flush()
        webhook = asyncio.create_task(post_twilio(client, SMS, sms_form(FOCAL_MAVIVI, body)))
        await asyncio.sleep(0.5)
        assert not webhook.done(), "the webhook's transaction waits for the alert's row lock"
    assert (await webhook).status_code == 200

    async with sessionmaker() as session:
        counts = (await session.scalars(select(Alert.message_count))).all()
    assert counts == [3]


async def test_a_text_triage_cannot_read_is_filed_for_a_human_and_paged(
    client: httpx.AsyncClient,
    demo: None,
    session: AsyncSession,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Triage raising on a text would raise again at every retry: the report is filed at
    once, unread, severity high from a registered focal point, and paged."""
    from app.escalation.models import Escalation
    from app.flows import inbound as pipeline_module
    from app.outbox.models import Delivery

    def broken(*args: object, **kwargs: object) -> None:
        raise ValueError("cannot read 'Attaque a Mavivi'")

    monkeypatch.setattr(pipeline_module, "triage_message", broken)
    caplog.set_level("ERROR", logger="app.flows.inbound")
    response = await post_twilio(client, SMS, sms_form(FOCAL_MAVIVI, "Attaque a Mavivi"))

    assert response.status_code == 200
    ref = REF.search(response.text)
    assert ref, "the reporter gets a receipt"
    alert = await session.scalar(select(Alert))
    assert alert is not None
    assert (alert.ref, alert.category, alert.severity) == (ref.group(), "OTHER", "high")
    assert alert.place_id == "mavivi", "the focal point's home"
    assert any("triage failed" in r for r in alert.reasons)
    message = await session.scalar(select(InboundMessage))
    assert message is not None and message.status == "processed"
    assert await session.scalar(select(Escalation).where(Escalation.alert_id == alert.id))
    pages = (await session.scalars(select(Delivery).where(Delivery.purpose == "page"))).all()
    assert pages, "a liaison is paged"
    assert "triage failed" in caplog.text and "ValueError" in caplog.text
    assert "Attaque" not in caplog.text and FOCAL_MAVIVI not in caplog.text
