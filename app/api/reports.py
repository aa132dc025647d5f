"""Daily situation report API: GET /api/v1/reports/daily."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Query, Request, Response

from app.api.deps import SessionDep, SettingsDep, Viewer
from app.kit.clock import utcnow
from app.kit.errors import errors_doc
from app.reports import pdf, render, service

router = APIRouter(prefix="/api/v1", tags=["reports"])

MEDIA = {
    "html": "text/html; charset=utf-8",
    "md": "text/markdown; charset=utf-8",
    "pdf": "application/pdf",
}


def today(timezone: str, now: datetime) -> date:
    """The current day where the gateway works."""
    return now.astimezone(ZoneInfo(timezone)).date()


@router.get(
    "/reports/daily",
    responses={
        200: {"content": {m.split(";")[0]: {} for m in MEDIA.values()}},
        **errors_doc(422),
    },
    response_class=Response,
)
async def daily_report(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    _: Viewer,
    day: Annotated[
        date | None,
        Query(alias="date", description="the day, YYYY-MM-DD, in KENGELE_TIMEZONE (default today)"),
    ] = None,
    fmt: Annotated[
        Literal["html", "pdf", "md"], Query(alias="format", description="html, pdf or md")
    ] = "html",
    lang: Annotated[Literal["fr", "en"], Query(description="fr or en")] = "fr",
) -> Response:
    """The day's alerts by territoire and category, map, response times and open alerts."""
    now = utcnow()
    report = await service.daily(
        session, day or today(settings.timezone, now), settings.timezone, now
    )
    name = f"sitrep-{report.day.isoformat()}-{lang}"
    if fmt == "pdf":
        body: bytes | str = pdf.render(report, lang)
        disposition = f'attachment; filename="{name}.pdf"'
    elif fmt == "md":
        body = render.markdown(report, lang)
        disposition = f'inline; filename="{name}.md"'
    else:
        fragment = request.query_params.get("fragment") == "1"
        body = (
            render.html_fragment(report, lang) if fragment else render.html_document(report, lang)
        )
        disposition = f'inline; filename="{name}.html"'
    # Phone numbers never appear in a report (it is shared): only references and places.
    return Response(body, media_type=MEDIA[fmt], headers={"Content-Disposition": disposition})
