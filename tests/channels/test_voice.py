"""Voice fallback: where the Twilio channel has voice on, a critical page that no SMS channel
can carry is read to the liaison by phone (the real twilio client's calls.create against the
local stand-in), once per liaison and escalation step, its call status recorded."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from app.channels.service import named
from app.escalation.models import Escalation
from app.kit.clock import utcnow
from app.kit.config import Settings
from app.kit.db import unit_of_work
from app.outbox import service as outbox_service
from app.outbox import voice
from app.outbox.models import Delivery, DeliveryAttempt
from app.outbox.service import WAITING
from tests.channels.support import set_down
from tests.escalation.support import (
    CLA_BENI,
    CLA_OICHA,
    DUTY_PHONE,
    DUTY_PHONE_AND_BENI,
    FOCAL_ERINGETI,
    FOCAL_MAVIVI,
    JOC_NORD_KIVU,
    Gateway,
    gateway,
    ref_in,
)
from tests.support import make_key

pytestmark = pytest.mark.usefixtures("engine")

# The reporter gives a number to call back in the report: the page's SMS carries numbers,
# the voice never reads one.
ERINGETI = "Attaque en cours a Eringeti, les ADF ont tue 2 personnes"
ATTACK = "Attaque en cours a Mavivi, les ADF ont tue 3 personnes, rappelez le 0990000777"


async def _voice(gw: Gateway, value: str | None) -> int:
    admin = await make_key(gw.sessionmaker, "admin")
    async with gw.sessionmaker() as s:
        channel_id = (await named(s, "twilio")).id
    response = await gw.client.patch(
        f"/api/v1/channels/{channel_id}",
        json={"options": {"voice": value}},
        headers={"Authorization": f"Bearer {admin}"},
    )
    return response.status_code


async def _calls(gw: Gateway, to: str) -> list[Delivery]:
    async with gw.sessionmaker() as s:
        stmt = select(Delivery).where(Delivery.channel == "voice", Delivery.recipient == to)
        return list((await s.scalars(stmt.order_by(Delivery.id))).all())


def _called(gw: Gateway, to: str) -> list[str]:
    return [r.form.get("Twiml", "") for r in gw.fake.calls if r.to == to]


async def test_a_critical_page_no_sms_channel_can_carry_is_read_by_phone_once_per_step(
    settings: Settings,
) -> None:
    async with gateway(settings, channel_wait_seconds=0.1) as gw:
        assert await _voice(gw, "loud") == 422  # on or off, nothing else
        assert await _voice(gw, "on") == 200
        await set_down(gw.sessionmaker, "twilio")  # SMS cut off: no channel carries pages
        gw.fake.set_call_status(CLA_OICHA, "no-answer")

        ref = ref_in((await gw.sms(FOCAL_MAVIVI, ATTACK)).text)
        await gw.wait_for(lambda: bool(_called(gw, CLA_BENI) and _called(gw, CLA_OICHA)))
        twiml = _called(gw, CLA_BENI)[0]
        assert twiml.count('<Say language="fr-FR">') == 2
        code = ", ".join(ref[2:])
        assert "Alerte critique de Kengele. Attaque à Mavivi, territoire de Beni." in twiml
        assert f"Référence {code}." in twiml and f"OK {code}" in twiml
        assert "0990000777" not in twiml and "777" not in twiml
        assert FOCAL_MAVIVI[-9:] not in twiml and "+243" not in twiml
        call = gw.fake.calls[0]
        assert call.form["From"] == "+243800000000"
        assert call.form["StatusCallback"].endswith("/webhooks/twilio/call-status")

        # The pages keep waiting for a channel (looked at every 0.1 s): no second call.
        async with gw.sessionmaker() as s:
            waiting = (await s.scalars(select(Delivery).where(Delivery.purpose == "page"))).all()
        assert {p.recipient for p in waiting} == {CLA_BENI, CLA_OICHA}
        assert gw.sent_to(CLA_BENI) == []
        await gw.wait_for(lambda: _looked_again(gw, waiting[0].id))
        assert len(_called(gw, CLA_BENI)) == len(_called(gw, CLA_OICHA)) == 1

        # Twilio reports how each call went: answered, and not answered.
        await gw.wait_for(lambda: len(gw.fake.pending_callbacks) >= 4)
        await gw.flush_callbacks()
        [beni] = await _calls(gw, CLA_BENI)
        [oicha] = await _calls(gw, CLA_OICHA)
        assert (beni.status, beni.purpose, beni.escalation_step) == ("delivered", "call", 0)
        assert (oicha.status, oicha.last_error) == ("failed", "call no-answer")
        async with gw.sessionmaker() as s:
            stmt = select(DeliveryAttempt.status).where(DeliveryAttempt.delivery_id == beni.id)
            attempts = list((await s.scalars(stmt.order_by(DeliveryAttempt.id))).all())
        assert attempts == ["ok", "callback:sent", "callback:delivered"]

        # The JOC's step: its officer is called; the liaisons are not called again.
        async with gw.sessionmaker() as s:
            started = await s.scalar(select(Escalation.started_at))
        assert started is not None
        assert await gw.advance_to(started + timedelta(seconds=301)) == 1
        await gw.wait_for(lambda: bool(_called(gw, JOC_NORD_KIVU)))
        assert len(_called(gw, CLA_BENI)) == 1

        # SMS is back: the waiting pages go out by it.
        await set_down(gw.sessionmaker, "twilio", down=False)
        await gw.wait_for(lambda: bool(gw.sent_to(CLA_BENI) and gw.sent_to(CLA_OICHA)))
        assert ref in gw.sent_to(CLA_BENI)[0]


async def _looked_again(gw: Gateway, delivery_id: int) -> bool:
    """The page was looked at again after its first wait (its due time moved on)."""
    async with gw.sessionmaker() as s:
        page = await s.get(Delivery, delivery_id)
        assert page is not None
        first = await s.scalar(
            select(DeliveryAttempt.at).where(DeliveryAttempt.delivery_id == delivery_id)
        )
    return first is not None and page.due_at > first + timedelta(seconds=0.25)


async def test_without_voice_nobody_is_called_and_the_pages_wait(settings: Settings) -> None:
    async with gateway(settings, channel_wait_seconds=0.1) as gw:
        await set_down(gw.sessionmaker, "twilio")
        ref_in((await gw.sms(FOCAL_MAVIVI, ATTACK)).text)
        await gw.wait_for(lambda: _waiting(gw, 2))
        async with gw.sessionmaker() as s:
            page = await s.scalar(select(Delivery).where(Delivery.purpose == "page"))
        assert page is not None
        await gw.wait_for(lambda: _looked_again(gw, page.id))
        assert gw.fake.calls == []


async def test_with_voice_a_page_sms_can_carry_goes_by_sms_only(settings: Settings) -> None:
    async with gateway(settings, channel_wait_seconds=0.1) as gw:
        assert await _voice(gw, "on") == 200
        ref_in((await gw.sms(FOCAL_MAVIVI, ATTACK)).text)
        await gw.wait_for(lambda: bool(gw.sent_to(CLA_BENI) and gw.sent_to(CLA_OICHA)))
        assert gw.fake.calls == []


async def _waiting(gw: Gateway, n: int) -> bool:
    async with gw.sessionmaker() as s:
        stmt = select(Delivery).where(Delivery.purpose == "page", Delivery.status == "pending")
        pages = (await s.scalars(stmt)).all()
    return len([p for p in pages if p.last_error and p.last_error.startswith("waiting")]) == n


async def test_a_call_not_yet_placed_is_cancelled_when_a_liaison_takes_the_alert(
    settings: Settings,
) -> None:
    """A call reading a page waits its turn (a retry after Twilio's 503, say) when CLA Beni
    answers OK: it is cancelled with the pages not yet sent, not placed afterwards to ask
    CLA Oicha for an OK the alert no longer needs."""
    async with gateway(settings, run_worker=False) as gw:  # nothing leaves: all stays pending
        assert await _voice(gw, "on") == 200
        ref = ref_in((await gw.sms(FOCAL_MAVIVI, ATTACK)).text)
        async with unit_of_work(gw.sessionmaker) as s:
            page = await s.scalar(
                select(Delivery).where(Delivery.purpose == "page", Delivery.recipient == CLA_OICHA)
            )
            assert page is not None
            call = await voice.call_instead(s, gw.settings, page)
            assert call is not None and call.status == "pending"

        await gw.sms(CLA_BENI, f"OK {ref[2:]}")

        [cancelled] = await _calls(gw, CLA_OICHA)
        assert (cancelled.status, cancelled.last_error) == ("cancelled", "alert acknowledged")


async def test_a_bare_ok_after_a_call_takes_the_alert_the_call_read(settings: Settings) -> None:
    """CLA Oicha got the SMS page of Eringeti's attack. SMS is then cut off, and Mavivi's
    attack reaches her by phone: the call reads it to her. Her bare "sawa" is about what she
    heard last, Mavivi: taking Eringeti (the last page sent by SMS) would stop the paging of
    an attack nobody took, while the one she answered went on."""
    async with gateway(settings, channel_wait_seconds=0.1) as gw:
        assert await _voice(gw, "on") == 200
        eringeti = ref_in((await gw.sms(FOCAL_ERINGETI, ERINGETI)).text)
        await gw.wait_for(lambda: gw.paged(CLA_OICHA))
        await set_down(gw.sessionmaker, "twilio")
        mavivi = ref_in((await gw.sms(FOCAL_MAVIVI, ATTACK)).text)
        await gw.wait_for(lambda: bool(_called(gw, CLA_OICHA)))
        await gw.wait_for(lambda: _sent(gw, CLA_OICHA))

        answer = await gw.sms(CLA_OICHA, "sawa")

        assert mavivi in answer.text and eringeti not in answer.text
        assert (await gw.alert(mavivi)).status == "acknowledged"
        assert (await gw.alert(eringeti)).status == "new"


async def _sent(gw: Gateway, to: str) -> bool:
    return any(call.sent_at is not None for call in await _calls(gw, to))


async def test_a_call_to_a_number_of_no_liaison_does_not_ask_for_an_ok(
    settings: Settings,
) -> None:
    """A policy lists the duty officer's phone (no liaison of the roster) beside CLA Beni's.
    SMS is cut off and the critical page is read by phone to both. Only a liaison's OK takes
    an alert: the duty phone's call tells of the alert, its reference included, and asks for
    no OK (its SMS page asks for none either); Beni's asks for his."""
    duty_phone, listed = DUTY_PHONE, DUTY_PHONE_AND_BENI
    async with gateway(settings, channel_wait_seconds=0.1) as gw:
        admin = await make_key(gw.sessionmaker, "admin")
        created = await gw.client.post(
            "/api/v1/policies", json=listed, headers={"Authorization": f"Bearer {admin}"}
        )
        assert created.status_code == 201, created.text
        assert await _voice(gw, "on") == 200
        await set_down(gw.sessionmaker, "twilio")

        ref = ref_in((await gw.sms(FOCAL_MAVIVI, ATTACK)).text)
        await gw.wait_for(lambda: bool(_called(gw, duty_phone) and _called(gw, CLA_BENI)))

        code = ", ".join(ref[2:])
        duty, beni = _called(gw, duty_phone)[0], _called(gw, CLA_BENI)[0]
        assert f"Référence {code}." in duty and "Mavivi" in duty
        assert "Répondez OK" not in duty, duty
        assert f"Répondez OK {code}" in beni


async def test_a_call_whose_worker_died_at_every_attempt_leaves_the_page_and_the_next_step(
    settings: Settings,
) -> None:
    """SMS is cut off: CLA Beni's critical page waits for a channel, and a call reads it to
    him. The worker that held the call died at its last attempt: the call is buried dead,
    and, as a call Twilio reports not answered, not passed on (the escalation passes on pages,
    not calls). Nobody is left unpaged for it: his SMS page still waits for a channel (it
    goes out when one comes back, or to the next liaison if it fails), and the escalation
    keeps its timer: the JOC's step pages the JOC officer at 300 s."""
    async with gateway(settings, run_worker=False) as gw:  # the worker's passes run by hand
        assert await _voice(gw, "on") == 200
        await set_down(gw.sessionmaker, "twilio")
        ref = ref_in((await gw.sms(FOCAL_MAVIVI, ATTACK)).text)
        alert_id = (await gw.alert(ref)).id
        later = utcnow() + timedelta(hours=1)
        async with unit_of_work(gw.sessionmaker) as s:
            pages = (await s.scalars(select(Delivery).where(Delivery.purpose == "page"))).all()
            assert {p.recipient for p in pages} == {CLA_BENI, CLA_OICHA}
            for waiting in pages:  # as the worker leaves a page no channel can carry
                waiting.last_error, waiting.due_at = WAITING, later
            beni_page = next(p for p in pages if p.recipient == CLA_BENI)
            call = await voice.call_instead(s, gw.settings, beni_page)
            assert call is not None
            call.status, call.leased_by = "sending", "a worker since gone"
            call.attempts = call.max_attempts
            call.lease_until = utcnow() - timedelta(seconds=1)  # its last lease ran out

        await gw.app.state.runtime.worker.run_once(10)  # the claim buries what ran out

        [buried] = await _calls(gw, CLA_BENI)
        assert (buried.status, buried.last_error) == ("dead", "its worker died at every attempt")
        assert gw.fake.calls == []
        assert len(await gw.outbox(purpose="page")) == 2, "the call is passed on to nobody"
        assert (await gw.delivery(beni_page.id)).status == "pending", "his page still waits"
        async with gw.sessionmaker() as s:
            assert await outbox_service.has_live_page(s, alert_id)
            escalation = await s.scalar(select(Escalation))
        assert escalation is not None and escalation.state == "active"
        assert escalation.next_due_at == escalation.started_at + timedelta(seconds=300)

        assert await gw.advance_to(escalation.started_at + timedelta(seconds=301)) == 1
        assert await gw.outbox(recipient=JOC_NORD_KIVU, alert_id=alert_id, purpose="page")
