"""SMS texts to liaisons and reporters: short, GSM-7 only, in the recipient's language."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from app.kit.gsm7 import SINGLE_SEGMENT, septets, to_gsm7, truncate

SEVERITY = {
    "fr": {"critical": "CRITIQUE", "high": "HAUTE", "medium": "MOYENNE", "low": "BASSE"},
    "sw": {"critical": "HATARI KUBWA", "high": "JUU", "medium": "WASTANI", "low": "CHINI"},
    "ln": {"critical": "MAKASI MINGI", "high": "MAKASI", "medium": "MOKE", "low": "MOKE MINGI"},
    "en": {"critical": "CRITICAL", "high": "HIGH", "medium": "MEDIUM", "low": "LOW"},
}
CATEGORY = {
    "fr": {
        "ATTACK": "ATTAQUE",
        "ABDUCTION": "ENLEVEMENT",
        "SEXUAL_VIOLENCE": "VIOL",
        "CLASH": "AFFRONTEMENT",
        "ARSON": "INCENDIE",
        "LOOTING": "PILLAGE",
        "ARMED_PRESENCE": "HOMMES ARMES",
        "DISPLACEMENT": "DEPLACEMENT",
        "THREAT": "MENACE",
        "OTHER": "AUTRE",
        "FLASH": "BIP",
    },
    "sw": {
        "ATTACK": "SHAMBULIO",
        "ABDUCTION": "UTEKAJI",
        "SEXUAL_VIOLENCE": "UBAKAJI",
        "CLASH": "MAPIGANO",
        "ARSON": "MOTO",
        "LOOTING": "WIZI",
        "ARMED_PRESENCE": "WATU WENYE SILAHA",
        "DISPLACEMENT": "WAKIMBIZI",
        "THREAT": "VITISHO",
        "OTHER": "MENGINE",
        "FLASH": "BIP",
    },
    "ln": {
        "ATTACK": "BITUMBA",
        "ABDUCTION": "BAKANGI BATO",
        "SEXUAL_VIOLENCE": "KOSANGISA NZOTO NA MAKASI",
        "CLASH": "BITUMBA YA BASODA",
        "ARSON": "MOTO",
        "LOOTING": "BOYIBI",
        "ARMED_PRESENCE": "BATO YA MINDOKI",
        "DISPLACEMENT": "BATO BAKIMI",
        "THREAT": "BATISI BANGO",
        "OTHER": "MOSUSU",
        "FLASH": "BIP",
    },
    "en": {
        "ATTACK": "ATTACK",
        "ABDUCTION": "ABDUCTION",
        "SEXUAL_VIOLENCE": "SEXUAL VIOLENCE",
        "CLASH": "CLASH",
        "ARSON": "ARSON",
        "LOOTING": "LOOTING",
        "ARMED_PRESENCE": "ARMED MEN",
        "DISPLACEMENT": "DISPLACEMENT",
        "THREAT": "THREAT",
        "OTHER": "OTHER",
        "FLASH": "FLASH",
    },
}
NO_PLACE = {
    "fr": "lieu inconnu",
    "sw": "mahali hapajulikani",
    "ln": "esika eyebani te",
    "en": "place unknown",
}
# (one, more): "taarifa" and "sango" are the same word for one and for several.
MORE_REPORTS = {
    "fr": ("(+{n} rapport)", "(+{n} rapports)"),
    "sw": ("(+{n} taarifa)", "(+{n} taarifa)"),
    "ln": ("(+{n} sango)", "(+{n} sango)"),
    "en": ("(+{n} report)", "(+{n} reports)"),
}
FLASH_TEXT = {
    "fr": "Bip (appel manque) de {phone}. Rappelez vite.",
    "sw": "Bip (simu bila kujibu) kutoka {phone}. Piga haraka.",
    "ln": "Bip (telefone) ya {phone}. Benga ye noki.",
    "en": "Missed call from {phone}. Call back now.",
}
CALL_BACK = {
    "fr": "Tel {phone}.",
    "sw": "Simu {phone}.",
    "ln": "Tel {phone}.",
    "en": "Tel {phone}.",
}
ANSWER = {
    "fr": "Rep: OK {code}",
    "sw": "Jibu: OK {code}",
    "ln": "Yanola: OK {code}",
    "en": "Reply: OK {code}",
}
TAKEN = {
    "fr": "Kengele: {ref} pris en charge par {name}. Plus besoin d'agir.",
    "sw": "Kengele: {ref} imeshughulikiwa na {name}. Hakuna haja ya kufanya kitu.",
    "ln": "Kengele: {ref} ezwami na {name}. Osala eloko te.",
    "en": "Kengele: {ref} taken by {name}. No action needed.",
}
REPORTER_ACK = {
    "fr": "Kengele: votre alerte {ref} est prise en charge. Restez en securite.",
    "sw": "Kengele: taarifa yako {ref} inashughulikiwa. Kaa salama.",
    "ln": "Kengele: sango na yo {ref} ezwami. Batela nzoto na yo.",
    "en": "Kengele: your alert {ref} is being handled. Stay safe.",
}
REPORTER_RESOLVED = {
    "fr": "Kengele: votre alerte {ref} est close. Merci de nous avoir alertes.",
    "sw": "Kengele: taarifa yako {ref} imefungwa. Asante kwa kutujulisha.",
    "ln": "Kengele: sango na yo {ref} esili. Matondo mpo na sango.",
    "en": "Kengele: your alert {ref} is closed. Thank you for telling us.",
}
HELP = {
    "fr": "Kengele: OK ref = je prends. VU ref = verifie. FIN ref note = clos. FAUX ref = "
    "fausse alerte. INFO ref texte = note. Ex: OK 2F7Q",
    "sw": "Kengele: OK ref = nimepokea. VU ref = imethibitishwa. FIN ref = imeisha. FAUX ref "
    "= uongo. INFO ref maandishi = habari. Mfano: OK 2F7Q",
    "ln": "Kengele: OK ref = nazwi. VU ref = emonani. FIN ref = esili. FAUX ref = lokuta. "
    "INFO ref makomi = sango. Ndakisa: OK 2F7Q",
    "en": "Kengele: OK ref = I take it. VU ref = verified. FIN ref note = resolved. FAUX ref "
    "= false alarm. INFO ref text = note. E.g. OK 2F7Q",
}
HELP_CORRECT = {
    "fr": "Kengele corriger: LIEU ref lieu. CAT ref type. GRAV ref niveau. MORTS / BLESSES / "
    "ENLEVES ref nombre. Ex: LIEU 2F7Q Oicha, GRAV 2F7Q critique",
    "sw": "Kengele sahihisha: MAHALI ref mahali. AINA ref aina. UZITO ref kiwango. WAFU / "
    "MAJERUHI / MATEKA ref idadi. Mfano: MAHALI 2F7Q Oicha",
    "ln": "Kengele bongisa: LIEU ref esika. CAT ref lolenge. GRAV ref makasi. MORTS / "
    "BLESSES / ENLEVES ref motango. Ndakisa: LIEU 2F7Q Oicha",
    "en": "Kengele correct: PLACE ref place. TYPE ref type. SEV ref level. DEAD / WOUNDED / "
    "ABDUCTED ref number. E.g. PLACE 2F7Q Oicha, SEV 2F7Q critical",
}
CORRECTED = {
    "fr": "Kengele: {ref} corrige: {changes}.",
    "sw": "Kengele: {ref} imesahihishwa: {changes}.",
    "ln": "Kengele: {ref} ebongisami: {changes}.",
    "en": "Kengele: {ref} corrected: {changes}.",
}
NOT_CHANGED = {
    "fr": "Kengele: {ref} deja ainsi, rien change.",
    "sw": "Kengele: {ref} tayari hivyo, hakuna mabadiliko.",
    "ln": "Kengele: {ref} ezali bongo, eloko ebongwani te.",
    "en": "Kengele: {ref} already so, nothing changed.",
}
UNKNOWN_PLACE = {
    "fr": "Kengele: lieu {name} inconnu. Ex: LIEU 2F7Q Oicha",
    "sw": "Kengele: mahali {name} hapajulikani. Mfano: MAHALI 2F7Q Oicha",
    "ln": "Kengele: esika {name} eyebani te. Ndakisa: LIEU 2F7Q Oicha",
    "en": "Kengele: unknown place {name}. E.g. PLACE 2F7Q Oicha",
}
FIELD = {
    "fr": {"killed": "morts", "wounded": "blesses", "abducted": "enleves", "place": "lieu"},
    "sw": {"killed": "wafu", "wounded": "majeruhi", "abducted": "mateka", "place": "mahali"},
    "ln": {"killed": "bakufi", "wounded": "bazoki", "abducted": "bakangami", "place": "esika"},
    "en": {"killed": "dead", "wounded": "wounded", "abducted": "abducted", "place": "place"},
}
UNKNOWN_REF = {
    "fr": "Kengele: ref {ref} inconnue. Envoyez AIDE pour l'aide.",
    "sw": "Kengele: kumbukumbu {ref} haijulikani. Tuma AIDE kwa msaada.",
    "ln": "Kengele: ref {ref} eyebani te. Tinda AIDE mpo na lisalisi.",
    "en": "Kengele: unknown ref {ref}. Send AIDE for help.",
}
NOT_YOURS = {
    "fr": "Kengele: {ref} n'est pas une alerte de votre zone. Verifiez la ref, ou appelez la JOC.",
    "sw": "Kengele: {ref} si taarifa ya eneo lako. Hakikisha kumbukumbu, au piga simu JOC.",
    "ln": "Kengele: {ref} ezali alerte ya zone na yo te. Tala lisusu ref, to benga JOC.",
    "en": "Kengele: {ref} is not an alert of your zone. Check the ref, or call the JOC.",
}
NO_ALERT = {
    "fr": "Kengele: aucune alerte recente pour vous. Precisez la ref: OK 2F7Q",
    "sw": "Kengele: hakuna taarifa ya karibuni kwako. Andika kumbukumbu: OK 2F7Q",
    "ln": "Kengele: sango ya sika te mpo na yo. Koma ref: OK 2F7Q",
    "en": "Kengele: no recent alert for you. Give the ref: OK 2F7Q",
}
DONE = {
    "ack": {
        "fr": "Kengele: {ref} pris. Merci.",
        "sw": "Kengele: {ref} umepokea. Asante.",
        "ln": "Kengele: {ref} ozwi. Matondo.",
        "en": "Kengele: {ref} is yours. Thank you.",
    },
    "verify": {
        "fr": "Kengele: {ref} verifie.",
        "sw": "Kengele: {ref} imethibitishwa.",
        "ln": "Kengele: {ref} emonani.",
        "en": "Kengele: {ref} verified.",
    },
    "resolve": {
        "fr": "Kengele: {ref} clos.",
        "sw": "Kengele: {ref} imefungwa.",
        "ln": "Kengele: {ref} esili.",
        "en": "Kengele: {ref} resolved.",
    },
    "false_alarm": {
        "fr": "Kengele: {ref} fausse alerte.",
        "sw": "Kengele: {ref} ni uongo.",
        "ln": "Kengele: {ref} lokuta.",
        "en": "Kengele: {ref} false alarm.",
    },
    "note": {
        "fr": "Kengele: note ajoutee a {ref}.",
        "sw": "Kengele: habari imeongezwa {ref}.",
        "ln": "Kengele: sango ebakisami na {ref}.",
        "en": "Kengele: note added to {ref}.",
    },
}

TEMPLATE_TABLES = {
    "flash": FLASH_TEXT,
    "taken": TAKEN,
    "reporter_ack": REPORTER_ACK,
    "reporter_resolved": REPORTER_RESOLVED,
    "help": HELP,
    "help_correct": HELP_CORRECT,
    "corrected": CORRECTED,
    "not_changed": NOT_CHANGED,
    "unknown_place": UNKNOWN_PLACE,
    "unknown_ref": UNKNOWN_REF,
    "not_yours": NOT_YOURS,
    "no_alert": NO_ALERT,
    **{f"done_{k}": v for k, v in DONE.items()},
}


def lang(language: str | None) -> str:
    """A language we have texts in (French by default)."""
    return language if language in SEVERITY else "fr"


def _t(table: dict[str, str], language: str | None, **values: object) -> str:
    return to_gsm7(table[lang(language)].format(**values))


def code_of(ref: str) -> str:
    """The part of a reference a liaison types: K-2F7Q → 2F7Q."""
    return ref.removeprefix("K-")


def page(
    *,
    language: str | None,
    ref: str,
    severity: str,
    category: str,
    place: str | None,
    admin2: str | None,
    at: datetime,
    body: str,
    reporter_phone: str | None,
    new_reports: int,
    timezone: str,
    answer: bool = True,
) -> str:
    """The page of an alert to a liaison: one GSM-7 segment, the report cut to fit. Without
    `answer`, the page does not say how to take the alert (a number of no liaison, whose
    reply would not take it)."""
    lg = lang(language)
    where = place or NO_PLACE[lg]
    if admin2 and admin2 != place:
        where += f" ({admin2})"
    local = at.astimezone(ZoneInfo(timezone)).strftime("%H:%M")
    head = f"{ref} {SEVERITY[lg].get(severity, severity)} {CATEGORY[lg].get(category, category)}"
    head += f" {where} {local}"
    if new_reports:
        head += " " + MORE_REPORTS[lg][new_reports > 1].format(n=new_reports)
    head = to_gsm7(head)
    tail = to_gsm7(ANSWER[lg].format(code=code_of(ref))) if answer else ""
    if category == "FLASH":
        report = ""
        call = to_gsm7(FLASH_TEXT[lg].format(phone=reporter_phone or "?"))
    else:
        report = to_gsm7(" ".join(body.split()))
        call = to_gsm7(CALL_BACK[lg].format(phone=reporter_phone)) if reporter_phone else ""
    fixed = " ".join(part for part in (call, tail) if part)
    text = f"{head}: " + " ".join(part for part in (report, fixed) if part)
    if septets(text) <= SINGLE_SEGMENT:
        return text
    # Cut the report, never the reference, the call-back number or how to answer.
    room = SINGLE_SEGMENT - septets(f"{head}: .. {fixed}")
    cut = f"{truncate(report, max(room, 0)).rstrip()}.."
    return f"{head}: " + " ".join(part for part in (cut, fixed) if part)


def taken(language: str | None, ref: str, name: str) -> str:
    """To the other paged liaisons: someone took the alert."""
    return truncate(_t(TAKEN, language, ref=ref, name=name))


def reporter_ack(language: str | None, ref: str) -> str:
    """To the reporter: their alert is being handled (no mission, no liaison named)."""
    return _t(REPORTER_ACK, language, ref=ref)


def reporter_resolved(language: str | None, ref: str) -> str:
    """To the reporter: their alert is closed."""
    return _t(REPORTER_RESOLVED, language, ref=ref)


def help_text(language: str | None) -> str:
    """The commands a liaison can send."""
    return _t(HELP, language)


def unknown_ref(language: str | None, ref: str) -> str:
    """A command named a reference we do not know."""
    return truncate(_t(UNKNOWN_REF, language, ref=ref[:12]))


def not_yours(language: str | None, ref: str) -> str:
    """A command named an alert of another zone, which nobody paged the liaison for."""
    return truncate(_t(NOT_YOURS, language, ref=ref))


def no_alert(language: str | None) -> str:
    """A bare command, but nothing was sent to this liaison lately."""
    return _t(NO_ALERT, language)


def done(action: str, language: str | None, ref: str) -> str:
    """Confirmation of a command."""
    return _t(DONE[action], language, ref=ref)


def help_correct(language: str | None) -> str:
    """The corrections a liaison can send."""
    return _t(HELP_CORRECT, language)


def unknown_place(language: str | None, name: str) -> str:
    """A correction named a place the gazetteer does not know."""
    return truncate(_t(UNKNOWN_PLACE, language, name=name[:40]))


def corrected(language: str | None, ref: str, after: dict[str, Any]) -> str:
    """What a correction changed, in one segment: 'K-2F7Q corrige: ENLEVEMENT, lieu Oicha'."""
    lg = lang(language)
    if not after:
        return _t(NOT_CHANGED, lg, ref=ref)
    parts = []
    if "category" in after:
        parts.append(CATEGORY[lg].get(after["category"], after["category"]))
    if "severity" in after:
        parts.append(SEVERITY[lg].get(after["severity"], after["severity"]))
    if "place" in after:
        place = after["place"] or {}
        where = place.get("name") or NO_PLACE[lg]
        if place.get("admin2") and place.get("admin2") != where:
            where += f" ({place['admin2']})"
        parts.append(f"{FIELD[lg]['place']} {where}")
    for name in ("killed", "wounded", "abducted"):
        if name in after:
            parts.append(f"{FIELD[lg][name]} {after[name]}")
    return truncate(_t(CORRECTED, lg, ref=ref, changes=", ".join(parts)))
