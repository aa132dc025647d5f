"""Operations API: alerts and incidents, their workflow and audit trail."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Header, Query, Request, Response

from app.alerts import service, workflow
from app.alerts.filters import AlertFilter
from app.alerts.schemas import (
    AlertAction,
    AlertCreate,
    AlertEventRead,
    AlertPage,
    AlertRead,
    IncidentDetail,
    IncidentMerge,
    IncidentRead,
    SeverityName,
)
from app.api.deps import Gazetteers, Operator, SessionDep, SettingsDep, Viewer
from app.api.filters import alert_filters
from app.auth.service import Principal
from app.changes import service as changes
from app.escalation import reads
from app.flows import manual
from app.flows import status as status_flow
from app.kit.errors import errors_doc
from app.kit.etags import json_with_etag, not_modified_or_json
from app.kit.ids import Id
from app.kit.pagination import Page, decode_id, next_id_cursor

router = APIRouter(prefix="/api/v1", tags=["alerts"])

Filters = Annotated[AlertFilter, Depends(alert_filters)]


@router.get("/alerts", response_model=AlertPage, responses=errors_doc(304, 400, 422))
async def list_alerts(
    request: Request,
    session: SessionDep,
    principal: Viewer,
    filters: Filters,
    updated_after: Annotated[
        str | None,
        Query(
            description="a sync_cursor (or next_cursor) of an earlier answer: the alerts that "
            "changed since, in the order of their changes, each once at its latest state"
        ),
    ] = None,
    cursor: Annotated[str | None, Query(description="next_cursor of the previous page")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> Response:
    """Alerts newest first (follow `next_cursor`), or what changed since `updated_after`."""
    # Read before the alerts: every change numbered up to here is committed and in the answer.
    current = await changes.current(session)
    rows = await service.alert_rows(
        session, filters, current=current, updated_after=updated_after, cursor=cursor, limit=limit
    )
    page = await reads.alert_page(session, rows, mask_phone=not principal.can("operator"))
    return not_modified_or_json(request, page)


@router.post("/alerts", response_model=AlertRead, status_code=201, responses=errors_doc(422))
async def enter_alert(
    body: AlertCreate,
    session: SessionDep,
    settings: SettingsDep,
    gazetteers: Gazetteers,
    principal: Operator,
) -> Response:
    """Enter an alert by hand (a voice call, a radio message, a visit).

    It goes through what an SMS goes through: triage (unless category and severity are
    given), corroboration into incidents, paging, audit; the reporter, given by id or phone,
    gets a receipt by SMS.
    """
    alert = await manual.enter_alert(
        session, settings, await gazetteers.fresh(session), body, actor=principal.actor
    )
    read = await reads.alert_detail(session, alert, mask_phone=False)
    response = json_with_etag(read, version=alert.version)
    response.status_code = 201
    response.headers["Location"] = f"/api/v1/alerts/{alert.id}"
    return response


@router.get("/alerts/{alert_id}", response_model=AlertRead, responses=errors_doc(304, 404))
async def get_alert(
    request: Request, alert_id: Id, session: SessionDep, principal: Viewer
) -> Response:
    """One alert with its audit trail; send its ETag back in If-Match to change it."""
    alert = await service.get_alert(session, alert_id)
    read = await reads.alert_detail(session, alert, mask_phone=not principal.can("operator"))
    return not_modified_or_json(request, read, version=alert.version)


@router.get(
    "/alerts/{alert_id}/events", response_model=list[AlertEventRead], responses=errors_doc(404)
)
async def alert_events(
    alert_id: Id, session: SessionDep, principal: Viewer
) -> list[AlertEventRead]:
    """The audit trail of an alert, oldest first: who did what, when, from which status to which."""
    await service.get_alert(session, alert_id)
    mask_phone = not principal.can("operator")
    return await service.alert_events(session, alert_id, mask_phone=mask_phone)


@router.post(
    "/alerts/{alert_id}/actions",
    response_model=AlertRead,
    responses=errors_doc(404, 409, 412, 422),
)
async def act_on_alert(
    alert_id: Id,
    body: AlertAction,
    session: SessionDep,
    settings: SettingsDep,
    gazetteers: Gazetteers,
    principal: Operator,
    if_match: Annotated[
        str | None, Header(description="the alert's ETag (its version): 412 if it changed since")
    ] = None,
) -> Response:
    """Acknowledge, verify, resolve, call a false alarm, reopen, assign, note, or correct.

    `correct` sets any of category, severity, place (an id or name, or {lat, lon, name}),
    killed, wounded, abducted, occurred_at, summary; the original triage stays in
    `correction.original`. `verify` records `how` and `result`; on a FLASH, `summary` (what
    the call-back told) is triaged into its category, severity and place.

    Only transitions allowed from the alert's status are carried out (409 names the allowed
    actions). With If-Match, a stale version is refused (412) so that two duty officers do
    not overwrite each other's decision.
    """
    alert = await status_flow.apply(
        session,
        settings,
        alert_id,
        body,
        actor=principal.actor,
        name=principal.name,
        if_match=workflow.parse_if_match(if_match),
        gazetteer=await gazetteers.fresh(session),
    )
    read = await reads.alert_detail(session, alert, mask_phone=False)
    return json_with_etag(read, version=alert.version)


@router.get("/incidents", response_model=Page[IncidentRead], responses=errors_doc(400))
async def list_incidents(
    session: SessionDep,
    _: Viewer,
    status: Literal["open", "closed"] | None = None,
    min_severity: SeverityName | None = None,
    cursor: str | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> Page[IncidentRead]:
    """Incidents, newest first."""
    before = decode_id(cursor) if cursor else None
    incidents = await service.incidents(
        session, status=status, min_severity=min_severity, before=before, limit=limit
    )
    items = [IncidentRead.model_validate(i) for i in incidents]
    return Page[IncidentRead](items=items, next_cursor=next_id_cursor(incidents, limit))


async def _detail(session: SessionDep, incident_id: int, principal: Principal) -> IncidentDetail:
    mask_phone = not principal.can("operator")
    return await reads.incident_detail(session, incident_id, mask_phone=mask_phone)


@router.get("/incidents/{incident_id}", response_model=IncidentDetail, responses=errors_doc(404))
async def get_incident(incident_id: Id, session: SessionDep, principal: Viewer) -> IncidentDetail:
    """One incident with its alerts."""
    return await _detail(session, incident_id, principal)


@router.post(
    "/incidents/{incident_id}/merge",
    response_model=IncidentDetail,
    responses=errors_doc(404, 409, 422),
)
async def merge_incident(
    incident_id: Id, body: IncidentMerge, session: SessionDep, principal: Operator
) -> IncidentDetail:
    """Merge this incident into `into`: its alerts move there, it closes and points there;
    one paging goes on for the event, none if someone took either."""
    target = await status_flow.merge_incidents(
        session, incident_id, body.into, actor=principal.actor, note=body.note
    )
    return await _detail(session, target.id, principal)


@router.post(
    "/incidents/{incident_id}/alerts/{alert_id}/detach",
    response_model=IncidentDetail,
    responses=errors_doc(404, 409),
)
async def detach_alert(
    incident_id: Id, alert_id: Id, session: SessionDep, settings: SettingsDep, principal: Operator
) -> IncidentDetail:
    """Move an alert out of an incident (it was another event): it gets an incident of its
    own, and is paged as its own event if nobody has taken it."""
    own = await status_flow.detach_alert(
        session, settings, incident_id, alert_id, actor=principal.actor, note=None
    )
    return await _detail(session, own.id, principal)
