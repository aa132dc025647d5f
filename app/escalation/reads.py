"""Alerts as the operations room reads them: each with how far its paging went."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from app.alerts import reliability
from app.alerts import service as alerts
from app.alerts.models import Alert
from app.alerts.schemas import AlertPage, AlertRead, IncidentDetail, IncidentRead, PagingRead
from app.alerts.service import AlertRows
from app.escalation.repository import paging_states
from app.people.schemas import ReliabilityRead


async def alert_reads(
    session: AsyncSession, alerts: Sequence[Alert], *, mask_phone: bool
) -> list[AlertRead]:
    """Alerts as the operations room sees them, with how far their paging went."""
    states = await paging_states(session, alerts)
    histories: dict[int, reliability.Reliability] = {}
    if not mask_phone:  # a focal point's record is for the operations room only
        ids = sorted({a.reporter_id for a in alerts if a.reporter_id is not None})
        histories = await reliability.of_reporters(session, ids)
    reads = []
    for alert in alerts:
        read = AlertRead.model_validate(alert, context={"mask_phone": mask_phone})
        state = states.get(alert.id)
        if state is not None:
            read.paging = PagingRead.model_validate(state)
        if alert.reporter_id is not None and not mask_phone:
            history = histories.get(alert.reporter_id, reliability.Reliability())
            read.reporter_reliability = ReliabilityRead.model_validate(history)
        reads.append(read)
    return reads


async def alert_page(session: AsyncSession, rows: AlertRows, *, mask_phone: bool) -> AlertPage:
    """A page of the alert list (alerts.service.alert_rows), each alert with its paging."""
    return AlertPage(
        items=await alert_reads(session, rows.alerts, mask_phone=mask_phone),
        next_cursor=rows.next_cursor,
        sync_cursor=rows.sync_cursor,
    )


async def alert_detail(session: AsyncSession, alert: Alert, *, mask_phone: bool) -> AlertRead:
    """One alert as alert_reads() has it, with its audit trail."""
    [read] = await alert_reads(session, [alert], mask_phone=mask_phone)
    read.events = await alerts.alert_events(session, alert.id, mask_phone=mask_phone)
    return read


async def incident_detail(
    session: AsyncSession, incident_id: int, *, mask_phone: bool
) -> IncidentDetail:
    """One incident with its alerts (404 when there is none)."""
    incident = await alerts.get_incident(session, incident_id)
    members = await alerts.of_incident(session, incident_id)
    return IncidentDetail(
        **IncidentRead.model_validate(incident).model_dump(),
        alerts=await alert_reads(session, members, mask_phone=mask_phone),
    )
