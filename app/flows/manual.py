"""Alerts entered by hand (a voice call, a radio message, a visit): the pipeline of an SMS."""

from __future__ import annotations

import logging
from dataclasses import replace

from sqlalchemy.ext.asyncio import AsyncSession

from app.alerts import service as alerts
from app.alerts.corrections import place_of
from app.alerts.models import Alert
from app.alerts.schemas import AlertCreate
from app.flows.inbound import file_alert, receipt_for
from app.geo.matcher import Gazetteer
from app.kit.clock import utcnow
from app.kit.config import Settings
from app.kit.errors import Unprocessable
from app.kit.phones import try_e164
from app.outbox import service as outbox
from app.people import service as people
from app.people.models import Reporter
from app.triage.engine import triage_message, triage_unread
from app.triage.scoring import cap_severity, rebanded, severity_for
from app.triage.types import GazPlace, Sender, TriageResult

log = logging.getLogger(__name__)


async def enter_alert(
    session: AsyncSession,
    settings: Settings,
    gazetteer: Gazetteer,
    entry: AlertCreate,
    *,
    actor: str,
) -> Alert:
    """Triage (unless category and severity are given), corroborate, page, audit; the
    reporter, if given, gets a receipt by SMS as if they had texted."""
    reporter, sender = await _reporter(session, settings, gazetteer, entry.reporter)
    try:
        result = triage_message(entry.text, gazetteer=gazetteer, sender=sender)
    except Exception as exc:
        # As for an SMS (app.flows.inbound): triage is pure, the operator's retry would fail
        # alike. Filed unread for a human, with what the operator gave; the log names the
        # error, not the text.
        log.error(
            "triage failed on an alert entered by hand (%s): filed unread", type(exc).__name__
        )
        result = triage_unread(sender=sender)
    result = _given(result, entry, gazetteer, by=actor)
    alert = await file_alert(
        session,
        settings,
        alerts.NewAlert(
            kind="manual",
            source=entry.source,
            from_phone=reporter.phone if reporter else "",
            body=entry.text,
            reporter_id=reporter.id if reporter else None,
            verified_reporter=sender.verified,
            received_at=utcnow(),
            result=result,
        ),
        actor=actor,
    )
    text = receipt_for(settings, reporter, alert.ref, alert.language) if reporter else None
    if reporter is not None and text:
        await outbox.enqueue_sms(
            session,
            settings,
            to=reporter.phone,
            body=text,
            purpose="receipt",
            alert_id=alert.id,
        )
    return alert


async def _reporter(
    session: AsyncSession, settings: Settings, gazetteer: Gazetteer, given: int | str | None
) -> tuple[Reporter | None, Sender]:
    """The focal point named by id or phone (a new number is remembered, as an SMS would)."""
    if given is None:
        return None, Sender()
    if isinstance(given, int):
        reporter = await people.find_reporter(session, given)
        if reporter is None:
            raise Unprocessable(f"reporter: no reporter {given}")
        phone = reporter.phone
    else:
        found = try_e164(given, settings.default_region)
        if found is None:
            raise Unprocessable(f"reporter: {given!r} is neither a reporter id nor a phone number")
        phone = found
    who = await people.identify(session, phone, gazetteer)
    reporter = who.reporter
    if reporter is None:
        reporter = people.add_unregistered(session, phone, None)
        await session.flush()
    return reporter, who.sender


def _given(
    result: TriageResult, entry: AlertCreate, gazetteer: Gazetteer, *, by: str
) -> TriageResult:
    """What the operator gave wins over what triage read in the text."""
    reasons = list(result.reasons)
    where = place_of(entry.place, gazetteer)
    if where is not None:
        # A place given as coordinates has no gazetteer id: "" stores none.
        place = GazPlace(
            where.id or "",
            where.name or "",
            where.lat,
            where.lon,
            admin1=where.admin1,
            admin2=where.admin2,
            kind=where.level,
        )
        result = replace(result, place=place, location_source="human", location_confidence=1.0)
        reasons.append(f"place given by {by}")
    category = entry.category or result.category
    severity = entry.severity or (
        severity_for(category, is_past=result.is_past, is_ongoing=result.is_ongoing)
        if entry.category
        else result.severity
    )
    if entry.category or entry.severity:
        reasons.append(f"{category} → {severity} given by {by}")
    return replace(
        result,
        category=category,
        severity=severity,
        score=rebanded(result.score, result.severity, severity),
        cap_severity=cap_severity(severity),
        reasons=tuple(reasons),
    )
