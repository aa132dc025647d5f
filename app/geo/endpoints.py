"""Places API: search the gazetteer."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel

from app.auth.deps import Session, Viewer
from app.geo.service import GazetteerCache

router = APIRouter(prefix="/api/v1", tags=["places"])


class PlaceRead(BaseModel):
    """A gazetteer entry."""

    id: str
    name: str
    alt_names: list[str]
    lat: float
    lon: float
    admin1: str | None
    admin2: str | None


@router.get("/places", response_model=list[PlaceRead])
async def search_places(
    request: Request,
    session: Session,
    _: Viewer,
    q: Annotated[str, Query(min_length=1, max_length=200)],
    limit: Annotated[int, Query(ge=1, le=100)] = 10,
) -> list[PlaceRead]:
    """Places whose name or alternative name matches `q` (accents, case and small typos ignored)."""
    cache: GazetteerCache = request.app.state.gazetteers
    gazetteer = await cache.get(session)
    return [
        PlaceRead(
            id=p.id,
            name=p.name,
            alt_names=list(p.alt_names),
            lat=p.lat,
            lon=p.lon,
            admin1=p.admin1,
            admin2=p.admin2,
        )
        for p in gazetteer.search(q, limit=limit)
    ]
