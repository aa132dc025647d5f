"""Liaisons correct alerts by SMS (LIEU, CAT, GRAV, MORTS…) and describe a FLASH called back."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import pytest
from sqlalchemy import select

from app.alerts.models import AlertEvent
from app.escalation.commands import addressed, category_of, count_of, parse, severity_of
from app.kit.config import Settings
from app.kit.db import unit_of_work
from app.kit.gsm7 import fits_one_segment
from app.people.models import Liaison, Reporter
from tests.escalation.support import (
    CLA_BENI,
    CLA_OICHA,
    CLA_RUTSHURU,
    FOCAL_MAVIVI,
    JOC_NORD_KIVU,
    gateway,
    ref_in,
)
from tests.support import call_form, make_key, post_twilio

pytestmark = pytest.mark.usefixtures("engine")  # tables emptied first

CAP = "{urn:oasis:names:tc:emergency:cap:1.2}"
FOCAL_OICHA = "+243810000102"


@pytest.mark.parametrize(
    ("text", "action", "ref", "value"),
    [
        ("LIEU 2F7Q Oicha", "place", "K-2F7Q", "Oicha"),
        ("lieu oicha", "place", None, "oicha"),
        ("Mahali 2f7q Eringeti", "place", "K-2F7Q", "Eringeti"),
        ("PLACE K-2F7Q Kiwanja", "place", "K-2F7Q", "Kiwanja"),
        ("CAT 2F7Q enlèvement", "category", "K-2F7Q", "ABDUCTION"),
        ("aina 2F7Q utekaji", "category", "K-2F7Q", "ABDUCTION"),
        ("TYPE 2F7Q armed men", "category", "K-2F7Q", "ARMED_PRESENCE"),
        ("Cat 2F7Q hommes armés", "category", "K-2F7Q", "ARMED_PRESENCE"),
        ("GRAV 2F7Q critique", "severity", "K-2F7Q", "critical"),
        ("uzito 2F7Q hatari kubwa", "severity", "K-2F7Q", "critical"),
        ("SEV 2F7Q low", "severity", "K-2F7Q", "low"),
        ("MORTS 2F7Q 4", "killed", "K-2F7Q", 4),
        ("morts 4", "killed", None, 4),
        ("wafu 2F7Q 3", "killed", "K-2F7Q", 3),
        ("BLESSES 2F7Q 12", "wounded", "K-2F7Q", 12),
        ("mateka 2F7Q 7", "abducted", "K-2F7Q", 7),
        ("ABDUCTED 2F7Q 2", "abducted", "K-2F7Q", 2),
    ],
)
def test_correction_words(text: str, action: str, ref: str | None, value: object) -> None:
    command = parse(text)
    assert command is not None and command.bad_ref is None
    assert (command.action, command.ref) == (action, ref)
    read = {
        "place": lambda n: n,
        "category": category_of,
        "severity": severity_of,
        "killed": count_of,
        "wounded": count_of,
        "abducted": count_of,
    }[action]
    assert read(command.note) == value


def test_a_flash_is_no_category_a_human_gives() -> None:
    assert category_of("bip") is None and category_of("FLASH") is None


async def test_lieu_and_cat_by_sms_change_the_alert_audited_streamed_and_hooked(
    settings: Settings,
) -> None:
    async with gateway(settings, webhook_allow_private=True) as gw:
        admin = {"Authorization": f"Bearer {await make_key(gw.sessionmaker, 'admin')}"}
        hook = {"url": "http://127.0.0.1:9/hook", "event_types": ["alert.updated"]}
        assert (await gw.client.post("/api/v1/webhooks", json=hook, headers=admin)).is_success
        ref = ref_in((await gw.sms(FOCAL_MAVIVI, "Hommes armes vus a Mavivi")).text)
        await gw.wait_for(lambda: bool(gw.sent_to(CLA_BENI)))
        alert = await gw.alert(ref)
        cap_url = f"/api/v1/alerts/{alert.id}.cap"

        cat = await gw.sms(CLA_BENI, f"CAT {ref[2:]} enlevement")
        place = await gw.sms(CLA_OICHA, f"mahali {ref[2:].lower()} Eringeti")

        assert f"{ref} corrige: ENLEVEMENT." in cat.text
        assert f"{ref} imesahihishwa: mahali Eringeti (Beni)." in place.text
        for reply in (cat.text, place.text):
            body = ET.fromstring(reply).findtext("Message") or ""
            assert fits_one_segment(body), body
        changed = await gw.alert(ref)
        assert (changed.category, changed.place_name) == ("ABDUCTION", "Eringeti")
        assert changed.correction is not None
        original = changed.correction["original"]
        assert (original["category"], original["place"]["name"]) == ("ARMED_PRESENCE", "Mavivi")
        async with gw.sessionmaker() as s:
            liaisons = {x.phone: x.id for x in (await s.scalars(select(Liaison))).all()}
            stmt = select(AlertEvent).where(AlertEvent.alert_id == alert.id)
            events = [e for e in (await s.scalars(stmt)).all() if e.action == "corrected"]
        assert [(e.actor, e.detail["after"]) for e in events] == [
            (f"liaison:{liaisons[CLA_BENI]}", {"category": "ABDUCTION"}),
            (
                f"liaison:{liaisons[CLA_OICHA]}",
                {
                    "place": {
                        **original["place"],
                        "id": "eringeti",
                        "name": "Eringeti",
                        "lat": 0.975,
                        "lon": 29.63,
                    }
                },
            ),
        ]
        hooks = [json.loads(d.body)["data"] for d in await gw.outbox(event_type="alert.updated")]
        hooked = [h["correction"] for h in hooks if "correction" in h]
        assert hooked[0] == {"category": {"from": "ARMED_PRESENCE", "to": "ABDUCTION"}}
        assert hooked[1]["place"]["to"]["name"] == "Eringeti"
        viewer = {"Authorization": f"Bearer {await make_key(gw.sessionmaker, 'viewer')}"}
        polled = await gw.client.get("/api/v1/alerts", headers=viewer)
        [seen] = polled.json()["items"]
        assert seen["correction"]["fields"] == ["category", "place"]
        cap = ET.fromstring((await gw.client.get(cap_url, headers=viewer)).text)
        assert cap.findtext(f"{CAP}msgType") == "Update"


async def test_grav_critique_by_sms_pages_again_and_morts_sets_the_count(
    settings: Settings,
) -> None:
    async with gateway(settings) as gw:
        ref = ref_in((await gw.sms(FOCAL_MAVIVI, "Hommes armes vus a Mavivi")).text)
        await gw.wait_for(lambda: gw.paged(CLA_BENI))
        answer = await gw.sms(CLA_BENI, "MORTS 4")  # the last alert paged to this liaison
        assert f"{ref} corrige: morts 4." in answer.text
        assert "CRITIQUE" in (await gw.sms(CLA_BENI, f"GRAV {ref[2:]} critique")).text
        pages = await gw.outbox(recipient=CLA_OICHA, purpose="page")
        assert len(pages) == 2 and "HATARI KUBWA" in pages[1].body
        alert = await gw.alert(ref)
        assert (alert.killed, alert.severity) == (4, "critical")
        await gw.advance(301)
        await gw.wait_for(lambda: bool(gw.sent_to(JOC_NORD_KIVU)))


async def test_bad_correction_values_get_the_corrections_help(settings: Settings) -> None:
    async with gateway(settings) as gw:
        ref = ref_in((await gw.sms(FOCAL_MAVIVI, "Pillage a Mavivi")).text)
        assert "LIEU ref lieu" in (await gw.sms(CLA_BENI, f"CAT {ref[2:]} bizarre")).text
        assert "inconnu" in (await gw.sms(CLA_BENI, f"LIEU {ref[2:]} Zzyzxville")).text
        assert "deja ainsi" in (await gw.sms(CLA_BENI, f"CAT {ref[2:]} pillage")).text
        assert (await gw.alert(ref)).correction is None


async def test_aide_lists_the_corrections_too(settings: Settings) -> None:
    async with gateway(settings) as gw:
        assert "OK ref" in (await gw.sms(CLA_RUTSHURU, "AIDE")).text
        await gw.wait_for(lambda: any("LIEU ref" in t for t in gw.sent_to(CLA_RUTSHURU)))
        assert all(fits_one_segment(t) for t in gw.sent_to(CLA_RUTSHURU))


async def test_a_flash_called_back_becomes_a_triaged_alert_joined_to_its_incident(
    settings: Settings,
) -> None:
    async with gateway(settings) as gw:
        # An attack at Oicha reported by SMS: its incident is there.
        oicha = await gw.alert(ref_in((await gw.sms(FOCAL_OICHA, "Attaque ADF a Oicha")).text))
        # The Mavivi focal point flashes; the liaison calls back and tells what they heard.
        await post_twilio(gw.client, "/webhooks/twilio/voice", call_form(FOCAL_MAVIVI))
        flash = await gw.alert()
        assert flash.category == "FLASH" and flash.place_name == "Mavivi"
        assert flash.incident_id != oicha.incident_id

        answer = await gw.sms(
            CLA_BENI, f"INFO {flash.ref[2:]} attaque des ADF en cours a Oicha, 3 morts"
        )

        described = await gw.alert(flash.ref)
        assert (described.category, described.severity) == ("ATTACK", "critical")
        assert (described.place_name, described.killed) == ("Oïcha", 3)
        assert described.summary == "attaque des ADF en cours a Oicha, 3 morts"
        assert described.incident_id == oicha.incident_id
        assert described.correction is not None
        assert described.correction["original"]["category"] == "FLASH"
        assert f"{flash.ref} corrige: ATTAQUE, CRITIQUE, lieu Oicha (Beni), morts 3." in (
            answer.text
        )
        # Paged with the incident's first report: no second page of its own.
        assert len(await gw.outbox(alert_id=flash.id, purpose="page", recipient=CLA_BENI)) == 1
        async with gw.sessionmaker() as s:
            stmt = select(AlertEvent).where(AlertEvent.alert_id == oicha.id)
            trail = [e.action for e in (await s.scalars(stmt)).all()]
        assert "corroborated_by" in trail


def test_a_correction_without_reference_may_be_a_report() -> None:
    assert not addressed(parse("Morts a Mavivi ce matin"))
    assert addressed(parse("MORTS 2F7Q 4")) and addressed(parse("OK")) and addressed(parse("FIN"))
    assert not addressed(parse("Attaque a Mavivi"))


async def test_a_liaison_who_also_reports_is_heard_as_a_reporter(settings: Settings) -> None:
    async with gateway(settings) as gw:
        async with unit_of_work(gw.sessionmaker) as s:
            s.add(Reporter(phone=CLA_BENI, name="CLA Beni", home_place_id="mavivi"))
        reply = await gw.sms(CLA_BENI, "Morts a Mavivi, les ADF attaquent")
        alert = await gw.alert(ref_in(reply.text))
        assert alert.category == "ATTACK" and alert.from_phone == CLA_BENI
        assert "corrige" in (await gw.sms(CLA_BENI, f"MORTS {alert.ref[2:]} 5")).text


async def test_unclear_words_never_lower_a_flash_and_a_later_info_is_a_note(
    settings: Settings,
) -> None:
    async with gateway(settings) as gw:
        await post_twilio(gw.client, "/webhooks/twilio/voice", call_form(FOCAL_MAVIVI))
        flash = await gw.alert()
        assert flash.severity == "high"
        await gw.wait_for(lambda: bool(gw.sent_to(CLA_BENI)))

        await gw.sms(CLA_BENI, f"INFO {flash.ref[2:]} ils sont la")
        described = await gw.alert(flash.ref)
        assert described.severity == "high", "the paging goes on"
        assert described.summary == "ils sont la"

        await gw.sms(CLA_BENI, f"INFO {flash.ref[2:]} ils sont partis vers la foret")
        again = await gw.alert(flash.ref)
        assert (again.category, again.summary) == (described.category, "ils sont la")
        async with gw.sessionmaker() as s:
            stmt = select(AlertEvent).where(AlertEvent.alert_id == flash.id)
            notes = [e.note for e in (await s.scalars(stmt)).all() if e.action == "note"]
        assert "ils sont partis vers la foret" in notes
