"""Liaisons' SMS commands: take, verify, close, note or correct an alert, and the replies."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from app.alerts import service as alerts
from app.alerts.corrections import Changes, describe, resolve_place
from app.alerts.models import Alert
from app.escalation import commands, messages
from app.escalation import service as escalation
from app.flows.status import (
    acknowledge,
    add_note,
    close,
    correct,
    follow_correction,
    lock_for_change,
    verify,
)
from app.geo.matcher import Gazetteer
from app.kit.clock import utcnow
from app.kit.config import Settings
from app.kit.errors import Unprocessable
from app.outbox import service as outbox
from app.people.models import Liaison


async def handle_command(
    session: AsyncSession,
    settings: Settings,
    liaison: Liaison,
    text: str,
    gazetteer: Gazetteer,
    received_at: datetime,
) -> str:
    """Carry out a liaison's SMS command (received at `received_at`); returns the reply."""
    command = commands.parse(text)
    language = liaison.language
    if command is None or command.action == "help":
        if command is not None:
            # Asked for: the corrections come as a second SMS (one segment each).
            await outbox.enqueue_sms(
                session,
                settings,
                to=liaison.phone,
                body=messages.help_correct(language),
                purpose="reply",
                liaison_id=liaison.id,
            )
        return messages.help_text(language)
    if command.bad_ref is not None:
        return messages.unknown_ref(language, command.bad_ref)
    alert: Alert | None
    if command.ref is not None:
        alert = await alerts.by_ref(session, command.ref)
        if alert is None:
            return messages.unknown_ref(language, command.ref)
        if not await escalation.may_act(session, liaison, alert):
            return messages.not_yours(language, alert.ref)
    else:
        last = await outbox.last_page_to(session, liaison.id, received_at)
        alert = await alerts.get(session, last.alert_id) if last and last.alert_id else None
        if alert is None:
            return messages.no_alert(language)
    actor = f"liaison:{liaison.id}"
    now = utcnow()
    if command.action in commands.CORRECTIONS:
        return await _correct_by_sms(session, settings, liaison, alert, command, gazetteer)
    if command.action in ("verify", "note") and command.note and alert.category == "FLASH":
        return await _describe_by_sms(session, settings, liaison, alert, command, gazetteer)
    if command.action in ("ack", "verify", "resolve", "false_alarm"):
        alert = await lock_for_change(session, alert.id)
    if command.action == "ack":
        await acknowledge(session, settings, alert, liaison)
    elif command.action == "verify":
        await verify(session, settings, alert, liaison, now, note=command.note)
    elif command.action == "resolve":
        await close(session, settings, alert, liaison, "resolve", command.note)
    elif command.action == "false_alarm":
        await close(session, settings, alert, liaison, "false_alarm", command.note)
    elif command.action == "note":
        await add_note(session, settings, alert, command.note, actor=actor)
    return messages.done(command.action, language, alert.ref)


async def _correct_by_sms(
    session: AsyncSession,
    settings: Settings,
    liaison: Liaison,
    alert: Alert,
    command: commands.Command,
    gazetteer: Gazetteer,
) -> str:
    """LIEU / CAT / GRAV / MORTS …: one field of the alert; the reply says what changed."""
    language = liaison.language
    value = command.note
    action = command.action
    changes: Changes | None = None
    if action == "place" and value:
        try:
            changes = Changes(place=resolve_place(gazetteer, name=value))
        except Unprocessable:
            return messages.unknown_place(language, value)
    elif action == "category" and (category := commands.category_of(value)):
        changes = Changes(category=category)
    elif action == "severity" and (severity := commands.severity_of(value)):
        changes = Changes(severity=severity)
    elif action in commands.COUNTS and (count := commands.count_of(value)) is not None:
        changes = Changes(
            killed=count if action == "killed" else None,
            wounded=count if action == "wounded" else None,
            abducted=count if action == "abducted" else None,
        )
    if changes is None:
        return messages.help_correct(language)
    alert = await lock_for_change(session, alert.id)
    fixed = await correct(session, settings, alert, changes, actor=f"liaison:{liaison.id}")
    return messages.corrected(language, alert.ref, {k: v["to"] for k, v in fixed.diff.items()})


async def _describe_by_sms(
    session: AsyncSession,
    settings: Settings,
    liaison: Liaison,
    alert: Alert,
    command: commands.Command,
    gazetteer: Gazetteer,
) -> str:
    """INFO / VU with words on a FLASH: what the liaison heard on the call-back is the report."""
    assert command.note is not None
    actor = f"liaison:{liaison.id}"
    alert = await lock_for_change(session, alert.id)
    if command.action == "verify":
        await verify(session, settings, alert, liaison, utcnow(), note=command.note, how="callback")
    else:
        alerts.add_event(session, alert, actor=actor, action="note", note=command.note)
    described = await describe(session, settings, alert, command.note, gazetteer, actor=actor)
    told = await follow_correction(session, settings, alert, described, actor=actor)
    return messages.corrected(
        liaison.language, alert.ref, {k: v["to"] for k, v in told.diff.items()}
    )
