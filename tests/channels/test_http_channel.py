"""The generic HTTP channel, configured as data with the two presets of docs/CHANNELS.md:
aggregators' messages become alerts once, forgeries are refused, sends take the preset's
shape against local stand-ins, and delivery reports map to delivery status."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.alerts.models import Alert
from app.api import channel_webhooks
from app.inbound.models import InboundMessage
from app.kit.config import Settings
from app.outbox.models import Delivery
from tests.channels.support import add_channel, has_provider_id
from tests.escalation.support import FOCAL_MAVIVI, gateway, ref_in
from tests.fakes.aggregator_api import AggregatorFake
from tests.support import PUBLIC_URL, data_file

PRESETS: dict[str, Any] = json.loads(data_file("http_presets.json").read_text())
SECRET = "aggregator-callback-secret-0123456789"
TOKENS = {name: preset["secrets"]["token"] for name, preset in PRESETS.items()}


async def add_preset(app_or_gw: Any, settings: Settings, name: str, base: str = "") -> None:
    """Add the channel `name` configured by its preset (its stand-in at `base`)."""
    preset = PRESETS[name]
    options = {k: v.replace("{base}", base) for k, v in preset["options"].items()}
    await add_channel(
        app_or_gw.sessionmaker if hasattr(app_or_gw, "client") else app_or_gw.state.sessionmaker,
        settings,
        "http",
        name,
        numbers=preset["numbers"],
        options={**options, **preset["secrets"], "secret": SECRET},
    )


async def _count(session: AsyncSession, model: type[object]) -> int:
    await session.rollback()  # a fresh snapshot of the database
    return int(await session.scalar(select(func.count()).select_from(model)) or 0)


def dmark_mo(
    text: str = "Attaque en cours a Mavivi", when: str = "2026-12-01 10:00:00"
) -> dict[str, str]:
    return {"msisdn": "243810000101", "text": text, "short_code": "4040", "tstamp": when}


@pytest.fixture
async def channels(client: httpx.AsyncClient, app: FastAPI, settings: Settings, demo: None) -> None:
    """Both presets (sending nowhere: these tests are about what comes in)."""
    for name in PRESETS:
        await add_preset(app, settings, name)


async def test_a_short_code_message_becomes_an_alert_once(
    client: httpx.AsyncClient, channels: None, session: AsyncSession
) -> None:
    url = f"/webhooks/http/dmark/{SECRET}"
    answers = [(await client.post(url, data=dmark_mo())).json() for _ in range(5)]
    assert [a["status"] for a in answers] == ["stored"] + ["replayed"] * 4
    message = await session.scalar(select(InboundMessage))
    assert message is not None
    assert (message.provider, message.from_phone, message.to_phone) == (
        "dmark",
        "243810000101",
        "4040",
    )
    alert = await session.scalar(select(Alert))
    assert alert is not None and (alert.category, alert.place_id) == ("ATTACK", "mavivi")
    assert alert.from_phone == FOCAL_MAVIVI
    # The same text at another time is another report.
    again = await client.post(url, data=dmark_mo(when="2026-12-01 10:05:00"))
    assert again.json()["status"] == "stored"


async def test_without_id_or_time_a_retry_is_one_message_and_the_same_words_later_another(
    client: httpx.AsyncClient,
    app: FastAPI,
    settings: Settings,
    demo: None,
    session: AsyncSession,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The defaults: no in_id, no in_time. The minute the post came in tells them apart.
    await add_channel(
        app.state.sessionmaker,
        settings,
        "http",
        "agg",
        numbers=["+243970000050"],
        options={"secret": SECRET},
    )
    url = f"/webhooks/http/agg/{SECRET}"
    form = {"from": "+243810000101", "text": "Attaque en cours a Mavivi"}

    async def post_at(when: datetime) -> str:
        monkeypatch.setattr(channel_webhooks, "utcnow", lambda: when, raising=False)
        response = await client.post(url, data=form)
        assert response.status_code == 200, response.text
        return str(response.json()["status"])

    first = datetime(2026, 12, 1, 10, 0, 5, tzinfo=UTC)
    # The aggregator posts again seconds later (it got no answer in time): one message.
    assert [await post_at(first), await post_at(first + timedelta(seconds=20))] == [
        "stored",
        "replayed",
    ]
    assert await _count(session, InboundMessage) == 1
    # Days later, a new attack, the same words: stored, not dropped as a replay.
    assert await post_at(first + timedelta(days=2)) == "stored"
    assert await _count(session, InboundMessage) == 2


async def test_without_id_or_time_a_retry_across_a_minute_s_end_is_still_one_message(
    client: httpx.AsyncClient,
    app: FastAPI,
    settings: Settings,
    demo: None,
    session: AsyncSession,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The aggregator's retry comes in the next minute: one message, one alert, one paging and
    # one receipt for the reporter (as a resend it would get a receipt of its own).
    await add_channel(
        app.state.sessionmaker,
        settings,
        "http",
        "agg",
        numbers=["+243970000050"],
        options={"secret": SECRET},
    )
    url = f"/webhooks/http/agg/{SECRET}"
    form = {"from": "+243810000101", "text": "Attaque en cours a Mavivi"}

    async def post_at(when: datetime) -> Any:
        monkeypatch.setattr(channel_webhooks, "utcnow", lambda: when, raising=False)
        response = await client.post(url, data=form)
        assert response.status_code == 200, response.text
        return response.json()

    first = datetime(2026, 12, 1, 10, 0, 55, tzinfo=UTC)
    stored = await post_at(first)
    retried = await post_at(first + timedelta(seconds=10))
    assert (stored["status"], retried) == ("stored", {"status": "replayed", "id": stored["id"]})
    assert await _count(session, InboundMessage) == 1
    [alert] = (await session.scalars(select(Alert))).all()
    assert alert.message_count == 1
    sent = (await session.scalars(select(Delivery).where(Delivery.alert_id == alert.id))).all()
    assert sorted(d.purpose for d in sent) == ["page", "page", "reply"]
    # Two minutes on, the same words are a new report (a resend, folded into its alert).
    assert (await post_at(first + timedelta(seconds=125)))["status"] == "stored"
    assert await _count(session, InboundMessage) == 2


@pytest.mark.parametrize(
    "url",
    [
        "/webhooks/http/dmark/wrong-secret",
        "/webhooks/http/dmark",
        "/webhooks/http/dmark/%C3%A9",  # é: beyond ASCII, still a 403
    ],
)
async def test_a_wrong_or_missing_path_secret_is_refused_and_nothing_stored(
    client: httpx.AsyncClient, channels: None, session: AsyncSession, url: str
) -> None:
    response = await client.post(url, data=dmark_mo())
    assert response.status_code in (403, 404), response.text
    assert "error" in response.json()
    assert await _count(session, InboundMessage) == 0


@pytest.mark.parametrize(
    ("form", "names"),
    [({"text": "Attaque"}, "msisdn"), ({"msisdn": "243810000101"}, "text")],
)
async def test_a_message_without_sender_or_text_is_422_and_nothing_stored(
    client: httpx.AsyncClient,
    channels: None,
    session: AsyncSession,
    form: dict[str, str],
    names: str,
) -> None:
    response = await client.post(f"/webhooks/http/dmark/{SECRET}", data=form)
    assert response.status_code == 422 and names in response.json()["detail"]
    assert await _count(session, InboundMessage) == 0


async def test_a_message_posted_as_a_multipart_form_is_read_as_a_form(
    client: httpx.AsyncClient, channels: None, session: AsyncSession
) -> None:
    # An aggregator's client that posts its fields as multipart/form-data (PHP's curl with
    # an array, `curl -F`): a form all the same, not a body to read as JSON.
    fields = {k: (None, v) for k, v in dmark_mo().items()}
    response = await client.post(f"/webhooks/http/dmark/{SECRET}", files=fields)
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "stored"
    alert = await session.scalar(select(Alert))
    assert alert is not None and (alert.category, alert.place_id) == ("ATTACK", "mavivi")


async def test_a_json_aggregator_proves_itself_with_its_header(
    client: httpx.AsyncClient, channels: None, session: AsyncSession
) -> None:
    mo = {"from": "+243810000101", "to": "+243970000060", "message": "Attaque a Mavivi"}
    mo["messageID"] = "kc-778812"
    url = "/webhooks/http/keccel/{secret}"
    forged = await client.post(url, json=mo, headers={"X-Keccel-Key": "guess"})
    missing = await client.post(url, json=mo)
    assert (forged.status_code, missing.status_code) == (403, 403)
    assert await _count(session, InboundMessage) == 0
    for _ in range(5):
        ok = await client.post(url, json=mo, headers={"X-Keccel-Key": SECRET})
        assert ok.status_code == 200, ok.text
    assert (await _count(session, InboundMessage), await _count(session, Alert)) == (1, 1)
    bad = await client.post(url, content=b"[1, 2]", headers={"X-Keccel-Key": SECRET})
    assert bad.status_code == 422 and "JSON object" in bad.json()["detail"]


async def test_hmac_authentication_checks_the_body(
    client: httpx.AsyncClient, app: FastAPI, settings: Settings, session: AsyncSession
) -> None:
    await add_channel(
        app.state.sessionmaker,
        settings,
        "http",
        "signed",
        options={"auth": "hmac", "secret": SECRET},
    )
    body = json.dumps({"from": "+243810000101", "text": "Attaque", "id": "m-1"}).encode()
    good = hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    url = "/webhooks/http/signed/{secret}"
    forged = await client.post(
        url, content=body.replace(b"Attaque", b"Rien"), headers={"X-Signature": good}
    )
    assert forged.status_code == 403
    assert (await client.post(url, content=body, headers={"X-Signature": good})).status_code == 200
    assert await _count(session, InboundMessage) == 1


@pytest.mark.usefixtures("engine")
@pytest.mark.parametrize("preset", ["dmark", "keccel"])
async def test_receipts_leave_in_the_presets_shape_and_reports_map_to_status(
    settings: Settings, preset: str
) -> None:
    with AggregatorFake(TOKENS) as fake:
        async with gateway(settings) as gw:
            await add_preset(gw, settings, preset, fake.base_url)
            if preset == "dmark":
                incoming = await gw.client.post(f"/webhooks/http/dmark/{SECRET}", data=dmark_mo())
            else:
                mo = {"from": FOCAL_MAVIVI, "message": "Attaque a Mavivi", "messageID": "kc-1"}
                incoming = await gw.client.post(
                    "/webhooks/http/keccel/x", json=mo, headers={"X-Keccel-Key": SECRET}
                )
            assert incoming.status_code == 200, incoming.text

            to = "receiver" if preset == "dmark" else "to"

            def receipts() -> list[Any]:
                return [r for r in fake.accepted(preset) if r.fields[to] == FOCAL_MAVIVI]

            await gw.wait_for(lambda: len(receipts()) == 1)
            sent = receipts()[0]
            alert = await gw.alert()
            [receipt] = await gw.outbox(purpose="reply")
            await gw.wait_for(lambda: has_provider_id(gw, receipt.id))
            if preset == "dmark":
                assert (sent.fields["sender"], sent.fields["receiver"]) == (
                    "+243970000050",
                    FOCAL_MAVIVI,
                )
                assert ref_in(sent.fields["text"]) == alert.ref
                assert sent.fields["dlr_url"] == f"{PUBLIC_URL}/webhooks/http/dmark/{SECRET}"
                assert sent.headers["authorization"] == f"Token {TOKENS['dmark']}"
                dlr = await gw.client.post(
                    f"/webhooks/http/dmark/{SECRET}", data={"id": sent.id, "status": "1"}
                )
            else:
                assert set(sent.fields) == {"token", "to", "from", "message"}
                assert (sent.fields["to"], sent.fields["from"]) == (FOCAL_MAVIVI, "+243970000060")
                assert ref_in(sent.fields["message"]) == alert.ref
                dlr = await gw.client.post(
                    "/webhooks/http/keccel/x",
                    json={"messageID": sent.id, "status": "DELIVERED"},
                    headers={"X-Keccel-Key": SECRET},
                )
            assert dlr.status_code == 200 and dlr.json()["status"] == "recorded", dlr.text
            receipt = await gw.delivery(receipt.id)
            assert (receipt.via, receipt.provider_id) == (preset, sent.id)
            assert receipt.status == "delivered"
            # The pages went by the aggregator too (first in the default route), not by Twilio.
            assert gw.fake.requests == []


@pytest.mark.usefixtures("engine")
async def test_a_refusal_in_the_answer_body_fails_over_to_the_next_channel(
    settings: Settings,
) -> None:
    with AggregatorFake(TOKENS) as fake:
        async with gateway(settings) as gw:
            await add_preset(gw, settings, "keccel", fake.base_url)
            fake.refuse = True
            mo = {"from": FOCAL_MAVIVI, "message": "Attaque a Mavivi", "messageID": "kc-2"}
            headers = {"X-Keccel-Key": SECRET}
            assert (
                await gw.client.post("/webhooks/http/keccel/x", json=mo, headers=headers)
            ).is_success
            # The pages (not the receipt, which keeps to its channel) go on by Twilio.
            await gw.wait_for(lambda: len(gw.fake.requests) >= 2)
            [page, *_] = await gw.outbox(purpose="page")
            await gw.wait_for(lambda: has_provider_id(gw, page.id))
            page = await gw.delivery(page.id)
            assert page.route[:1] == ["keccel"] and page.via == "twilio"
            assert len([r for r in fake.requests if r.fields.get("to") == page.recipient]) == 1


async def test_an_answer_quoting_the_request_keeps_the_channel_s_secrets_out_of_the_error(
    caplog: pytest.LogCaptureFixture,
) -> None:
    from app.providers.http_channel_client import HttpChannelSender

    preset = PRESETS["dmark"]
    options = {
        k: v.replace("{base}", "https://sms.example.org") for k, v in preset["options"].items()
    }
    dlr_url = f"{PUBLIC_URL}/webhooks/http/dmark/{SECRET}"
    secrets = {**preset["secrets"], "secret": SECRET}
    sender = HttpChannelSender(options, secrets, preset["numbers"][0], dlr_url)

    def quoting(request: httpx.Request) -> httpx.Response:
        # An aggregator that quotes the request it refused (its fields, its headers).
        asked = f"{request.content.decode()} {request.headers.get('authorization')}"
        return httpx.Response(400, text=f"invalid request: {asked}")

    sender._http = httpx.AsyncClient(transport=httpx.MockTransport(quoting))
    try:
        with caplog.at_level("INFO", logger="app.providers"):
            result = await sender.send_sms(to=FOCAL_MAVIVI, body="Kengele: test", message_id="d1")
    finally:
        await sender.aclose()
    assert not result.ok and result.error is not None and result.error.startswith("HTTP 400")
    # The answer is kept in part, its quote of the token removed whole (not cut in two).
    assert "Token [redacted]" in result.error and "dmark%2F[redacted]" in result.error
    ours = [r.getMessage() for r in caplog.records if r.name.startswith("app.")]
    assert ours
    # The token it sends with, and the secret its delivery reports prove themselves with.
    for secret in (preset["secrets"]["token"], SECRET):
        # Not even the start of one (an excerpt cut in the middle of a secret).
        assert secret[:12] not in result.error, secret
        assert not any(secret[:12] in line for line in ours), secret


@pytest.mark.parametrize(
    ("fields", "answer", "known_by"),
    [
        ("to={to},text={text},ref={id}", {"detail": "queued"}, "k-41-1"),
        ("to={to},text={text}", {"detail": "queued"}, None),
    ],
)
async def test_without_an_id_in_the_answer_a_send_is_known_by_the_id_it_gave(
    fields: str, answer: dict[str, str], known_by: str | None
) -> None:
    """An aggregator that answers no id of its own, given ours (`{id}`): its delivery reports
    name the message by ours, so the send is recorded under it (else they match nothing)."""
    from app.providers.http_channel_client import HttpChannelSender

    options = {"out_url": "https://sms.example.org/send", "out_fields": fields}
    sender = HttpChannelSender(options, {"token": "t"}, "+243970000070", "https://k/dlr")
    sent: list[dict[str, str]] = []

    def aggregator(request: httpx.Request) -> httpx.Response:
        sent.append(dict(httpx.QueryParams(request.content.decode())))
        return httpx.Response(200, json=answer)

    sender._http = httpx.AsyncClient(transport=httpx.MockTransport(aggregator))
    try:
        result = await sender.send_sms(to=FOCAL_MAVIVI, body="Kengele", message_id="k-41-1")
    finally:
        await sender.aclose()
    assert result.ok and result.provider_id == known_by
    assert sent[0].get("ref") == known_by


async def test_an_aggregator_s_key_and_secret_both_go_and_no_error_keeps_them() -> None:
    """An aggregator asks for an API key and its secret in each request (as some SMS APIs
    do): the key as `token2` ({token2}), the secret as `token` ({token}). Both go in the
    request; its refusal quoting them back keeps neither in the error."""
    from app.channels.service import _split
    from app.providers.http_channel_client import HttpChannelSender

    options = {
        "out_url": "https://sms.example.org/sms/json",
        "out_fields": "api_key={token2},api_secret={token},to={to},text={text}",
    }
    plain, hidden = _split("http", {**options, "token": "s3cr3t-2b", "token2": "k3y-a1b2"})
    assert "token2" in hidden and "k3y-a1b2" not in str(plain)
    sender = HttpChannelSender(plain, hidden, "+243970000070", "https://k/dlr")
    sent: list[dict[str, str]] = []

    def aggregator(request: httpx.Request) -> httpx.Response:
        sent.append(dict(httpx.QueryParams(request.content.decode())))
        return httpx.Response(401, text="bad credentials k3y-a1b2 / s3cr3t-2b")

    sender._http = httpx.AsyncClient(transport=httpx.MockTransport(aggregator))
    try:
        result = await sender.send_sms(to=FOCAL_MAVIVI, body="Kengele", message_id="k-41-1")
    finally:
        await sender.aclose()
    assert (sent[0]["api_key"], sent[0]["api_secret"]) == ("k3y-a1b2", "s3cr3t-2b")
    assert not result.ok and result.error is not None
    assert "k3y-a1b2" not in result.error and "s3cr3t-2b" not in result.error
