"""Voice fallback: a critical page that cannot leave by SMS is read to the liaison by phone.

When every channel of a critical page's route is down (the page waits, app.outbox.service),
and the Twilio channel has voice turned on (`voice=on`), the liaison is called once per
escalation step: Twilio reads the alert in French (TwiML <Say language="fr-FR">), twice. The
call is a delivery of its own (channel `voice`, purpose `call`) with its attempts, and Twilio's
call status callback moves it on (completed: delivered; busy, no-answer, failed: failed). The
SMS page still waits and goes out when a channel comes back.
"""

from __future__ import annotations

import re
from typing import Any
from xml.sax.saxutils import escape

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.alerts.models import Alert
from app.channels import service as channel_service
from app.channels.models import TWILIO, Channel
from app.kit.clock import utcnow
from app.kit.config import Settings
from app.kit.phones import mask_in_text
from app.outbox.models import CHANNEL_VOICE, PENDING, Delivery
from app.outbox.wakeup import mark_work

CALL_STATUS_PATH = "/webhooks/twilio/call-status"
TRUE = frozenset({"on", "true", "yes", "1"})
# Twilio's call statuses as a delivery's (forward only, as an SMS's).
CALL_STATUSES = {
    "queued": "queued",
    "initiated": "queued",
    "ringing": "sent",
    "in-progress": "sent",
    "completed": "delivered",
    "busy": "failed",
    "no-answer": "failed",
    "failed": "failed",
    "canceled": "failed",
}
# What is read: plain French words (the category's, the place's), never a number to call.
CATEGORY = {
    "ATTACK": "attaque",
    "ABDUCTION": "enlèvement",
    "SEXUAL_VIOLENCE": "violences sexuelles",
    "CLASH": "affrontement",
    "ARSON": "incendie",
    "LOOTING": "pillage",
    "ARMED_PRESENCE": "présence d'hommes armés",
    "DISPLACEMENT": "déplacement de population",
    "THREAT": "menace",
    "OTHER": "incident",
    "FLASH": "appel manqué d'un point focal",
}
_MASKED = re.compile(r"\+?\d*•+\d*")
_DIGITS = re.compile(r"\d[\d .\-]{5,}\d")


def wanted(value: Any) -> bool:
    """Whether an option's value turns voice on."""
    return str(value).strip().lower() in TRUE


async def voice_channel(session: AsyncSession) -> Channel | None:
    """The channel that places calls: `twilio`, active, with voice on (None: no fallback).

    Its SMS being down does not stop it: Twilio's calls ride the voice network.
    """
    channel = await channel_service.find(session, TWILIO)
    if channel is None or not channel.active or not wanted(channel.options.get("voice")):
        return None
    return channel


def _no_numbers(text: str) -> str:
    text = _MASKED.sub("numéro masqué", mask_in_text(text))
    return _DIGITS.sub("numéro masqué", text)


def speech(alert: Alert, *, answer: bool = True) -> str:
    """The French text read to the liaison (no phone number, not the reporter's either).
    Without `answer`, it does not ask for an OK (a number of no liaison, whose reply would
    not take the alert: app.escalation.messages.page)."""
    code = alert.ref.removeprefix("K-")
    spelled = ", ".join(code)
    what = CATEGORY.get(alert.category, "incident")
    where = alert.place_name or "lieu inconnu"
    if alert.admin2 and alert.admin2 != alert.place_name:
        where += f", territoire de {alert.admin2}"
    parts = [
        f"Alerte critique de Kengele. {what.capitalize()} à {_no_numbers(where)}.",
        f"Référence {spelled}.",
    ]
    report = " ".join(alert.body.split())[:300] if alert.category != "FLASH" else ""
    if report:
        parts.append(f"Message reçu : {_no_numbers(report)}.")
    if answer:
        parts.append(
            f"Les SMS ne passent pas dans votre zone. Répondez OK {spelled} par SMS ou appelez "
            "la salle des opérations dès que possible."
        )
    else:
        parts.append("Les SMS ne passent pas dans votre zone.")
    return " ".join(parts)


def twiml(text: str) -> str:
    """TwiML reading `text` in French, twice, with a pause between."""
    say = f'<Say language="fr-FR">{escape(text)}</Say>'
    head = '<?xml version="1.0" encoding="UTF-8"?>'
    return f'{head}<Response>{say}<Pause length="2"/>{say}</Response>'


async def call_instead(
    session: AsyncSession, settings: Settings, page: Delivery
) -> Delivery | None:
    """A call for a critical page that waits for a channel, once per liaison and escalation
    step; None when not wanted (not critical, no voice channel, already called)."""
    if page.purpose != "page" or page.alert_id is None:
        return None
    alert = await session.get(Alert, page.alert_id)
    if alert is None or alert.severity != "critical" or alert.status != "new":
        return None
    channel = await voice_channel(session)
    if channel is None:
        return None
    stmt = select(Delivery.id).where(
        Delivery.channel == CHANNEL_VOICE,
        Delivery.alert_id == page.alert_id,
        Delivery.recipient == page.recipient,
        Delivery.escalation_step.is_(None)
        if page.escalation_step is None
        else Delivery.escalation_step == page.escalation_step,
    )
    if await session.scalar(stmt.limit(1)) is not None:
        return None
    call = Delivery(
        channel=CHANNEL_VOICE,
        purpose="call",
        status=PENDING,
        alert_id=page.alert_id,
        liaison_id=page.liaison_id,
        recipient=page.recipient,
        sender="",
        route=[channel.name],
        via=channel.name,
        body=speech(alert, answer=page.liaison_id is not None),
        escalation_step=page.escalation_step,
        of_zone=page.of_zone,
        due_at=utcnow(),
        max_attempts=settings.delivery_max_attempts,
    )
    session.add(call)
    await session.flush()
    await mark_work(session)
    return call
