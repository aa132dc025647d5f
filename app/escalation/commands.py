"""Liaisons' SMS commands (pure): OK / VU / FIN / FAUX / INFO / AIDE, and the corrections
LIEU / CAT / GRAV / MORTS / BLESSES / ENLEVES, in French, Swahili and English."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from app.alerts.refs import COURTESIES, normalise_ref
from app.escalation.messages import CATEGORY, SEVERITY
from app.kit.text import ascii_fold

Action = Literal[
    "ack",
    "verify",
    "resolve",
    "false_alarm",
    "note",
    "help",
    "place",
    "category",
    "severity",
    "killed",
    "wounded",
    "abducted",
]
# Commands that correct one field of an alert: the rest of the SMS is the new value.
CORRECTIONS: tuple[Action, ...] = ("place", "category", "severity", "killed", "wounded", "abducted")
COUNTS: tuple[Action, ...] = ("killed", "wounded", "abducted")

WORDS: dict[str, Action] = {
    **dict.fromkeys(("ok", "okay", "ack", "sawa", "recu", "nimepokea", "pokea"), "ack"),
    **dict.fromkeys(
        ("vu", "verifie", "verified", "confirme", "confirmed", "thibitisha", "kweli"), "verify"
    ),
    **dict.fromkeys(("fin", "resolu", "resolved", "done", "imeisha", "mwisho"), "resolve"),
    **dict.fromkeys(("faux", "false", "fake", "uongo"), "false_alarm"),
    **dict.fromkeys(("info", "note", "habari"), "note"),
    **dict.fromkeys(("aide", "help", "msaada", "lisalisi", "?"), "help"),
    # Corrections. Swahili: mahali = place, aina = kind, uzito = weight (seriousness),
    # wafu = the dead, majeruhi = the wounded, mateka = captives.
    **dict.fromkeys(("lieu", "endroit", "mahali", "place", "where"), "place"),
    **dict.fromkeys(("cat", "categorie", "type", "aina", "category"), "category"),
    **dict.fromkeys(("grav", "gravite", "niveau", "uzito", "sev", "severity"), "severity"),
    **dict.fromkeys(("morts", "mort", "tues", "wafu", "dead", "killed"), "killed"),
    **dict.fromkeys(("blesses", "blesse", "majeruhi", "wounded", "injured"), "wounded"),
    **dict.fromkeys(
        ("enleves", "enleve", "otages", "mateka", "waliotekwa", "abducted", "kidnapped"),
        "abducted",
    ),
}


def _key(text: str) -> str:
    return "".join(ch for ch in ascii_fold(text).lower() if ch.isalnum())


# What liaisons call a category or a severity: every label of our own SMS, the codes, and
# the words people use for them.
CATEGORY_WORDS: dict[str, str] = {
    **{_key(label): code for table in CATEGORY.values() for code, label in table.items()},
    **{_key(code): code for code in CATEGORY["en"]},
    **dict.fromkeys(("attaques", "shambulizi", "tirs", "risasi"), "ATTACK"),
    **dict.fromkeys(("enlevements", "kidnapping", "rapt", "otage", "utekaji"), "ABDUCTION"),
    **dict.fromkeys(("viols", "rape", "ubakaji"), "SEXUAL_VIOLENCE"),
    **dict.fromkeys(("combats", "accrochage", "mapambano", "fighting"), "CLASH"),
    **dict.fromkeys(("incendies", "brule", "fire", "kuchoma"), "ARSON"),
    **dict.fromkeys(("pillages", "vol", "uporaji", "theft"), "LOOTING"),
    **dict.fromkeys(("armes", "hommesarmes", "silaha", "armedmen", "armed"), "ARMED_PRESENCE"),
    **dict.fromkeys(("deplaces", "fuite", "kukimbia", "displaced"), "DISPLACEMENT"),
    **dict.fromkeys(("menaces", "tishio", "threats"), "THREAT"),
}
for _flash in ("flash", "bip"):
    CATEGORY_WORDS.pop(_flash, None)  # a missed call is no category a human gives
SEVERITY_WORDS: dict[str, str] = {
    **{_key(label): code for table in SEVERITY.values() for code, label in table.items()},
    **{code: code for code in SEVERITY["en"]},
    **dict.fromkeys(("elevee", "eleve", "grave", "serious"), "high"),
    **dict.fromkeys(("moyen", "kati"), "medium"),
    **dict.fromkeys(("faible", "ndogo", "minor"), "low"),
    **dict.fromkeys(("tresgrave", "hatari"), "critical"),
}


@dataclass(frozen=True)
class Command:
    """A parsed command; `ref` None means "the last alert sent to me"."""

    action: Action
    ref: str | None = None
    note: str | None = None
    # The word typed where a reference was expected but is none of ours (e.g. "OK 12").
    bad_ref: str | None = None


def _fold(text: str) -> str:
    return ascii_fold(text).lower()


def parse(text: str) -> Command | None:
    """The command in an SMS of a liaison, or None when it is not one."""
    words = text.strip().split()
    if not words:
        return None
    action = WORDS.get(_fold(words[0]).strip(".,:;!"))
    if action is None:
        return None
    if action == "help":
        return Command("help")
    rest = words[1:]
    if action == "ack":
        # "OK merci", "OK bien recu 2F7Q", "Sawa sana": the courtesies are no reference.
        while rest and _fold(rest[0]).strip(".,:;!") in COURTESIES:
            rest = rest[1:]
    ref = None
    bad_ref = None
    if rest:
        ref = normalise_ref(rest[0])
        if ref is not None:
            rest = rest[1:]
        elif action in COUNTS and rest[0].isdigit():
            pass  # MORTS 4: a count for the last alert paged
        elif (action != "resolve" and action not in CORRECTIONS) or _looks_like_ref(rest[0]):
            # FIN and corrections may be followed directly by their text or value; other
            # commands only take a reference.
            bad_ref = rest[0]
            rest = rest[1:]
    note = " ".join(rest).strip() or None
    if action == "note" and ref is None and bad_ref is None:
        return Command("help")
    return Command(action, ref=ref, note=note, bad_ref=bad_ref)


def _looks_like_ref(word: str) -> bool:
    cleaned = "".join(ch for ch in word if ch.isalnum())
    return 3 <= len(cleaned) <= 6 and any(ch.isdigit() for ch in cleaned)


def addressed(command: Command | None) -> bool:
    """Whether a text is surely a command, even from a liaison who also reports: a correction
    without a reference ("Morts a Mavivi") may be a report."""
    return command is not None and (command.action not in CORRECTIONS or command.ref is not None)


def category_of(text: str | None) -> str | None:
    """The category a liaison names ('enlevement', 'utekaji', 'hommes armes'), or None."""
    return CATEGORY_WORDS.get(_key(text or "")) if text else None


def severity_of(text: str | None) -> str | None:
    """The severity a liaison names ('critique', 'hatari kubwa', 'high'), or None."""
    return SEVERITY_WORDS.get(_key(text or "")) if text else None


def count_of(text: str | None) -> int | None:
    """The count in 'MORTS 2F7Q 4' (0 to 9999), or None."""
    word = (text or "").split()[0] if (text or "").split() else ""
    return int(word) if word.isdigit() and len(word) <= 4 else None
