"""Liaisons answer by SMS; reporters hear back; the same words from a focal point are a report."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.alerts import refs
from app.alerts.models import Alert, AlertEvent
from app.escalation.commands import parse
from app.escalation.messages import TEMPLATE_TABLES
from app.kit.config import Settings
from app.kit.crypto import lookup_hash
from app.kit.db import unit_of_work
from app.kit.gsm7 import fits_one_segment
from app.outbox import service as outbox
from app.people.models import Liaison
from tests.escalation.support import (
    CLA_BENI,
    CLA_OICHA,
    CLA_RUTSHURU,
    FOCAL_MAVIVI,
    JOC_NORD_KIVU,
    gateway,
    ref_in,
)

pytestmark = pytest.mark.usefixtures("engine")  # tables emptied first


async def test_commands_update_the_alert_and_its_audit_trail(settings: Settings) -> None:
    async with gateway(settings) as gw:
        ref = ref_in((await gw.sms(FOCAL_MAVIVI, "Attaque en cours a Mavivi")).text)
        await gw.wait_for(lambda: gw.paged(CLA_OICHA))

        assert ref in (await gw.sms(CLA_OICHA, "sawa")).text, "a bare OK takes the last page"
        assert "verifie" in (await gw.sms(CLA_BENI, f"Vu {ref[2:]}")).text
        await gw.sms(CLA_BENI, f"INFO {ref[2:]} FARDC sur place")
        done = await gw.sms(CLA_BENI, f"FIN {ref[2:]} calme revenu")
        assert "clos" in done.text

        alert = await gw.alert(ref)
        assert alert.status == "resolved"
        async with gw.sessionmaker() as s:
            stmt = select(AlertEvent).where(AlertEvent.alert_id == alert.id)
            events = (await s.scalars(stmt.order_by(AlertEvent.id))).all()
        trail = [(e.action, e.actor.split(":")[0], e.note) for e in events if e.actor != "system"]
        assert ("acknowledged", "liaison", None) in trail
        assert ("verified", "liaison", None) in trail
        assert ("note", "liaison", "FARDC sur place") in trail
        assert ("resolved", "liaison", "calme revenu") in trail
        # The reporter heard twice: taken, then closed; never who or which mission.
        await gw.wait_for(lambda: len(gw.sent_to(FOCAL_MAVIVI)) == 2)
        for text in gw.sent_to(FOCAL_MAVIVI):
            assert ref in text and "CLA" not in text and fits_one_segment(text)


async def test_unknown_commands_and_refs_get_the_help(settings: Settings) -> None:
    async with gateway(settings) as gw:
        assert "OK ref" in (await gw.sms(CLA_BENI, "bonjour chef")).text
        assert "inconnue" in (await gw.sms(CLA_BENI, "OK ZZZZ")).text
        assert "aucune alerte" in (await gw.sms(CLA_BENI, "OK")).text
        async with gw.sessionmaker() as s:
            assert (await s.scalar(select(Alert))) is None, "a liaison's text is no report"


async def test_a_liaison_cannot_take_another_zones_alert_by_a_mistyped_ref(
    settings: Settings,
) -> None:
    """Rutshuru's liaison mistypes a ref and names Mavivi's open alert, in Beni, which nobody
    paged them for: nothing is taken, Beni's paging goes on, and they are told. The JOC
    officer of the province may act on it, as may Rutshuru's liaison once paged for it."""
    async with gateway(settings) as gw:
        ref = ref_in((await gw.sms(FOCAL_MAVIVI, "Attaque en cours a Mavivi")).text)

        for command in (
            f"OK {ref[2:]}",
            f"FIN {ref[2:]}",
            f"FAUX {ref[2:]}",
            f"LIEU {ref[2:]} Goma",
        ):
            reply = await gw.sms(CLA_RUTSHURU, command)
            assert ref in reply.text and "pas une alerte de votre zone" in reply.text
        alert = await gw.alert(ref)
        assert (alert.status, alert.place_id) == ("new", "mavivi")
        await gw.wait_for(lambda: gw.paged(CLA_OICHA))

        # Paged for it (a policy may name any number): theirs to take.
        async with unit_of_work(gw.sessionmaker) as session:
            rutshuru = await session.scalar(
                select(Liaison).where(Liaison.phone_hash == lookup_hash(CLA_RUTSHURU))
            )
            assert rutshuru is not None
            await outbox.enqueue_sms(
                session,
                gw.settings,
                to=CLA_RUTSHURU,
                body="page",
                purpose="page",
                alert_id=alert.id,
                liaison_id=rutshuru.id,
            )
        assert "pas une alerte" not in (await gw.sms(CLA_RUTSHURU, f"VU {ref[2:]}")).text
        assert (await gw.alert(ref)).status == "verified"

        assert "pas une alerte" not in (await gw.sms(JOC_NORD_KIVU, f"FIN {ref[2:]}")).text
        assert (await gw.alert(ref)).status == "resolved"


@pytest.mark.parametrize("answer", ["OK merci", "Sawa sana", "OK bien reçu", "ok, asante!"])
async def test_an_ok_with_a_courtesy_takes_the_last_page(settings: Settings, answer: str) -> None:
    """Liaisons thank as they answer. "OK merci" or "Sawa sana" (OK, very well) is an OK of
    the last page, not a reference "merci" or K-SANA that does not exist: refused, the liaison
    would have to answer again while the paging went on."""
    async with gateway(settings) as gw:
        ref = ref_in((await gw.sms(FOCAL_MAVIVI, "Attaque en cours a Mavivi")).text)
        await gw.wait_for(lambda: gw.paged(CLA_OICHA))

        reply = (await gw.sms(CLA_OICHA, answer)).text
        assert ref in reply and "inconnue" not in reply, reply
        assert (await gw.alert(ref)).status == "acknowledged"


async def test_the_same_words_from_a_focal_point_are_a_report(settings: Settings) -> None:
    async with gateway(settings) as gw:
        reply = await gw.sms(FOCAL_MAVIVI, "OK")
        assert ref_in(reply.text)
        assert (await gw.alert()).category == "OTHER"


async def test_opted_out_reporter_is_not_told(settings: Settings) -> None:
    async with gateway(settings) as gw:
        await gw.sms(FOCAL_MAVIVI, "STOP")
        alert_reply = await gw.sms(FOCAL_MAVIVI, "Attaque en cours a Mavivi")
        assert "K-" not in alert_reply.text
        alert = await gw.alert()
        await gw.wait_for(lambda: bool(gw.sent_to(CLA_BENI)))
        await gw.sms(CLA_BENI, f"OK {alert.ref}")
        # What the OK decided is in the outbox as soon as it is answered.
        assert [d.purpose for d in await gw.outbox(alert_id=alert.id)].count("taken") == 1
        assert await gw.outbox(recipient=FOCAL_MAVIVI) == []


@pytest.mark.parametrize(
    ("text", "action", "ref"),
    [
        ("OK", "ack", None),
        ("ok k-2f7q", "ack", "K-2F7Q"),
        ("Sawa 2F7Q", "ack", "K-2F7Q"),
        ("VU 2F7Q", "verify", "K-2F7Q"),
        ("Vérifié 2F7Q", "verify", "K-2F7Q"),
        ("fin 2F7Q tout calme", "resolve", "K-2F7Q"),
        ("FAUX 2F7Q", "false_alarm", "K-2F7Q"),
        ("uongo 2F7Q", "false_alarm", "K-2F7Q"),
        ("INFO 2F7Q ils sont partis", "note", "K-2F7Q"),
        ("AIDE", "help", None),
        ("msaada", "help", None),
        ("OK merci 2F7Q", "ack", "K-2F7Q"),
        ("Sawa sana", "ack", None),
        ("OK recu", "ack", None),
        ("OK KMNP", "ack", "K-KMNP"),
    ],
)
def test_command_words(text: str, action: str, ref: str | None) -> None:
    command = parse(text)
    assert command is not None
    assert (command.action, command.ref) == (action, ref)


def test_a_word_that_is_no_courtesy_is_still_refused_as_a_reference() -> None:
    """Only the courtesies are passed over: a mistyped reference is not the last page."""
    command = parse("OK 2F7O")
    assert command is not None and command.bad_ref == "2F7O"
    command = parse("OK blabla")
    assert command is not None and command.bad_ref == "blabla"


def test_no_reference_is_a_courtesy(monkeypatch: pytest.MonkeyPatch) -> None:
    """The generator draws again when it meets one: "OK sawa" never names K-SAWA."""
    drawn = iter("SAWA" + "RECU" + "2F7Q")
    monkeypatch.setattr(refs.secrets, "choice", lambda _alphabet: next(drawn))
    assert refs.new_ref() == "K-2F7Q"


def test_not_a_command() -> None:
    assert parse("Attaque a Mavivi") is None
    assert parse("") is None


@pytest.mark.parametrize("name", sorted(TEMPLATE_TABLES))
def test_liaison_and_reporter_texts_fit_one_gsm7_segment(name: str) -> None:
    for language, text in TEMPLATE_TABLES[name].items():
        filled = text.format(
            ref="K-WWWW",
            name="CLA Beni-Oicha",
            phone="+243810000101",
            changes="ENLEVEMENT, CRITIQUE, lieu Oicha (Beni)",
        )
        assert fits_one_segment(filled), (name, language, filled)
