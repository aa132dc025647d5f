"""Liaisons' SMS commands (pure): OK / VU / FIN / FAUX / INFO / AIDE in French, Swahili, English."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from app.alerts.refs import normalise_ref
from app.kit.text import ascii_fold

Action = Literal["ack", "verify", "resolve", "false_alarm", "note", "help"]

WORDS: dict[str, Action] = {
    **dict.fromkeys(("ok", "okay", "ack", "sawa", "recu", "nimepokea", "pokea"), "ack"),
    **dict.fromkeys(
        ("vu", "verifie", "verified", "confirme", "confirmed", "thibitisha", "kweli"), "verify"
    ),
    **dict.fromkeys(("fin", "resolu", "resolved", "done", "imeisha", "mwisho"), "resolve"),
    **dict.fromkeys(("faux", "false", "fake", "uongo"), "false_alarm"),
    **dict.fromkeys(("info", "note", "habari"), "note"),
    **dict.fromkeys(("aide", "help", "msaada", "lisalisi", "?"), "help"),
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
    ref = None
    bad_ref = None
    if rest:
        ref = normalise_ref(rest[0])
        if ref is not None:
            rest = rest[1:]
        elif action != "resolve" or _looks_like_ref(rest[0]):
            # FIN may be followed directly by its note; other commands only take a reference.
            bad_ref = rest[0]
            rest = rest[1:]
    note = " ".join(rest).strip() or None
    if action == "note" and ref is None and bad_ref is None:
        return Command("help")
    return Command(action, ref=ref, note=note, bad_ref=bad_ref)


def _looks_like_ref(word: str) -> bool:
    cleaned = "".join(ch for ch in word if ch.isalnum())
    return 3 <= len(cleaned) <= 6 and any(ch.isdigit() for ch in cleaned)
