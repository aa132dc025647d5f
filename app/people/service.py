"""Who sent a message: a registered focal point, a liaison, or an unknown number."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from app.geo.matcher import Gazetteer
from app.people import repository as repo
from app.people.models import Liaison, Reporter
from app.triage.types import Sender

UNREGISTERED = "unregistered"


@dataclass(frozen=True)
class Identity:
    """The sender as the database knows it, and what triage may know of them."""

    phone: str
    reporter: Reporter | None
    liaison: Liaison | None
    sender: Sender

    @property
    def registered(self) -> bool:
        """A registered focal point or a liaison (not a number first seen by texting)."""
        return self.sender.known


def is_registered(reporter: Reporter | None) -> bool:
    """Whether this reporter was registered (imported), not just seen."""
    return reporter is not None and reporter.role != UNREGISTERED and reporter.active


async def identify(session: AsyncSession, phone: str, gazetteer: Gazetteer) -> Identity:
    """Look the E.164 `phone` up among reporters and liaisons."""
    reporter = await repo.reporter_by_phone(session, phone)
    liaison = await repo.liaison_by_phone(session, phone)
    if liaison is not None and not liaison.active:
        liaison = None
    if reporter is not None and is_registered(reporter):
        home = gazetteer.get(reporter.home_place_id) if reporter.home_place_id else None
        sender = Sender(
            known=True, verified=reporter.verified, home=home, language=reporter.language
        )
        return Identity(phone, reporter, liaison, sender)
    if liaison is not None:
        sender = Sender(known=True, verified=True, language=liaison.language)
        return Identity(phone, reporter, liaison, sender)
    return Identity(phone, reporter, None, Sender(known=False, verified=False))


def add_unregistered(session: AsyncSession, phone: str, language: str | None) -> Reporter:
    """Remember a number first seen by texting (for its language and opt-out)."""
    reporter = Reporter(
        phone=phone[:20],
        name="",
        language=language or "fr",
        role=UNREGISTERED,
        verified=False,
        active=True,
        opted_out=False,
    )
    session.add(reporter)
    return reporter
