"""Exports of alerts: GeoJSON, CSV (with HXL), CAP 1.2, Atom."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlsplit

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from app.alerts import service
from app.alerts.filters import AlertFilter
from app.alerts.formats import atom, cap, geojson
from app.alerts.formats import csv as csv_format
from app.alerts.formats import shared as shared_format
from app.api.deps import Partner, SessionDep, SettingsDep, Viewer
from app.api.filters import alert_filters
from app.auth.service import require
from app.kit.clock import utcnow
from app.kit.config import Settings
from app.kit.errors import json_errors_doc
from app.kit.ids import Id
from app.kit.responses import GeoJSONResponse

router = APIRouter(prefix="/api/v1", tags=["exports"])

Filters = Annotated[AlertFilter, Depends(alert_filters)]
Shared = Annotated[
    bool,
    Query(
        description="for partners: no text, no reporter, places no finer than the territoire "
        "(or rounded), HXL hashtags; the only form a `partner` key may read"
    ),
]


class CSVResponse(Response):
    """A CSV document (Starlette adds the charset to text/* types)."""

    media_type = "text/csv"


class CAPResponse(Response):
    """A CAP 1.2 XML document."""

    media_type = cap.MEDIA_TYPE


class AtomResponse(Response):
    """An Atom feed."""

    media_type = atom.MEDIA_TYPE


def _document(media_type: str, description: str) -> dict[int | str, dict[str, Any]]:
    return {
        200: {
            "description": description,
            "content": {media_type: {"schema": {"type": "string"}}},
        }
    }


def _base_url(settings: Settings) -> str:
    return settings.public_url.rstrip("/")


def _host(settings: Settings) -> str:
    """The gateway's host name: the CAP sender and the authority of Atom tag URIs."""
    return urlsplit(settings.public_url).hostname or "kengele"


@router.get(
    "/alerts.geojson",
    # The partner form (`shared=1`) has other properties: both are documented.
    response_model=geojson.AlertFeatureCollection | shared_format.SharedFeatureCollection,
    response_class=GeoJSONResponse,
    responses=json_errors_doc(400, 422),
)
async def alerts_geojson(
    session: SessionDep,
    settings: SettingsDep,
    principal: Partner,
    filters: Filters,
    limit: Annotated[int, Query(ge=1, le=10000, description="at most this many alerts")] = 1000,
    shared: Shared = False,
) -> Response:
    """Alerts as an RFC 7946 FeatureCollection (newest first; same filters as the list).

    With `shared=1`, the partner form: properties named after their HXL hashtags
    (`adm2_name` is #adm2+name), the mapping in the collection's `hxl` member.
    """
    if not shared:
        require(principal, "viewer")
    else:
        service.check_shared_filters(filters, settings)
    alerts = await service.newest_alerts(session, filters, limit)
    if shared:
        precision = await service.share_precision(session, settings)
        return GeoJSONResponse(shared_format.feature_collection(alerts, precision))
    body = geojson.feature_collection(alerts, mask_phone=not principal.can("operator"))
    return GeoJSONResponse(body)


@router.get(
    "/alerts.csv",
    response_class=CSVResponse,
    responses={
        **_document("text/csv", "UTF-8 CSV with a byte order mark, one header row"),
        **json_errors_doc(400, 422),
    },
)
async def alerts_csv(
    session: SessionDep,
    settings: SettingsDep,
    principal: Partner,
    filters: Filters,
    hxl: Annotated[bool, Query(description="add an HXL hashtag row under the header")] = False,
    limit: Annotated[int, Query(ge=1, le=10000, description="at most this many alerts")] = 1000,
    shared: Shared = False,
) -> Response:
    """Alerts as CSV for spreadsheets (newest first; same filters as the list).

    With `shared=1`, the partner form, always with its HXL hashtag row.
    """
    if not shared:
        require(principal, "viewer")
    else:
        service.check_shared_filters(filters, settings)
    alerts = await service.newest_alerts(session, filters, limit)
    if shared:
        text = shared_format.alerts_csv(alerts, await service.share_precision(session, settings))
    else:
        text = csv_format.alerts_csv(alerts, mask_phone=not principal.can("operator"), hxl=hxl)
    name = f"kengele-alerts-{utcnow():%Y%m%d-%H%M%S}.csv"
    return CSVResponse(
        text.encode("utf-8"),
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@router.get(
    "/alerts/{alert_id}.cap",
    response_class=CAPResponse,
    responses={
        **_document(cap.MEDIA_TYPE, "CAP 1.2 message of the alert's current version"),
        **json_errors_doc(404, 422),
    },
)
async def alert_cap(
    alert_id: Id, session: SessionDep, settings: SettingsDep, _: Viewer
) -> Response:
    """The alert as a CAP 1.2 message (Alert, then Update or Cancel referencing it)."""
    alert = await service.get_alert(session, alert_id)
    events = await service.events_of(session, alert_id)
    document = cap.cap_xml(
        alert,
        sender=_host(settings),
        changed=cap.changed_after_creation(e.action for e in events),
        web=f"{_base_url(settings)}/api/v1/alerts/{alert.id}",
    )
    return CAPResponse(document)


@router.get(
    "/feed.atom",
    response_class=AtomResponse,
    responses={
        **_document(atom.MEDIA_TYPE, "Atom feed; each entry links to the alert's CAP message"),
        **json_errors_doc(400, 422),
    },
)
async def alerts_feed(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    _: Viewer,
    filters: Filters,
    limit: Annotated[int, Query(ge=1, le=1000, description="at most this many alerts")] = 100,
) -> Response:
    """Recent alerts as an Atom feed of CAP entries (newest first; same filters as the list)."""
    alerts = await service.newest_alerts(session, filters, limit)
    base = _base_url(settings)
    query = f"?{request.url.query}" if request.url.query else ""
    document = atom.feed(
        alerts,
        base_url=base,
        host=_host(settings),
        self_url=f"{base}{request.url.path}{query}",
        now=utcnow(),
    )
    return AtomResponse(document)
