"""Replies to reporters, in their language, each within one GSM-7 segment."""

from __future__ import annotations

from app.kit.gsm7 import fits_one_segment, to_gsm7

# {ref} is the alert's short reference, e.g. K-2F7Q (at most 8 characters).
RECEIPT = {
    "fr": "Kengele: alerte recue, ref {ref}. Merci. Gardez cette ref. STOP pour ne plus "
    "recevoir de reponse.",
    "sw": "Kengele: taarifa imepokelewa, kumbukumbu {ref}. Asante. Tuma STOP kuacha kupokea "
    "majibu.",
    "ln": "Kengele: sango ekomi, ref {ref}. Matondo. Tinda STOP mpo na kotika koyamba biyano.",
    "en": "Kengele: alert received, ref {ref}. Thank you. Keep this ref. Reply STOP to get "
    "no more replies.",
}

OPTED_OUT = {
    "fr": "Kengele: vous ne recevrez plus de reponse. Vos alertes sont toujours recues. "
    "START pour reprendre.",
    "sw": "Kengele: hutapokea majibu tena. Taarifa zako bado zinapokelewa. Tuma START kurudisha.",
    "ln": "Kengele: okozwa lisusu biyano te. Ba sango na yo ekokoma. Tinda START mpo na kozonga.",
    "en": "Kengele: you will get no more replies. Your alerts are still received. Reply "
    "START to resume.",
}

OPTED_IN = {
    "fr": "Kengele: les reponses reprennent. Merci.",
    "sw": "Kengele: majibu yamerudishwa. Asante.",
    "ln": "Kengele: biyano ezongi. Matondo.",
    "en": "Kengele: replies resumed. Thank you.",
}

TEMPLATES = {"receipt": RECEIPT, "opted_out": OPTED_OUT, "opted_in": OPTED_IN}
LONGEST_REF = "K-WWWWW"


def _pick(table: dict[str, str], language: str | None) -> str:
    return table.get(language or "fr", table["fr"])


def receipt(ref: str, language: str | None) -> str:
    """The receipt of an alert: its reference, in the reporter's language."""
    return to_gsm7(_pick(RECEIPT, language).format(ref=ref))


def opted_out(language: str | None) -> str:
    """Confirmation that the sender will get no more replies."""
    return _pick(OPTED_OUT, language)


def opted_in(language: str | None) -> str:
    """Confirmation that replies resume."""
    return _pick(OPTED_IN, language)


def all_fit() -> bool:
    """Whether every template, filled with the longest reference, fits one GSM-7 segment."""
    return all(
        fits_one_segment(text.format(ref=LONGEST_REF))
        for table in TEMPLATES.values()
        for text in table.values()
    )
