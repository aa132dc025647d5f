"""Places API: search the gazetteer, its map (GeoJSON), and its administration.

Every write starts a rebuild of this process's gazetteer in the background once committed:
webhooks keep the current index meanwhile, search waits for the new one (so it shows the
change at once); other processes see it within a few seconds (their periodic check)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Response

from app.api.deps import Admin, Gazetteers, SessionDep, Viewer
from app.flows import places
from app.geo import service
from app.geo.importers.records import ID_MAX
from app.geo.schemas import (
    PlaceCreate,
    PlaceFeatureCollection,
    PlaceRead,
    PlaceUpdate,
    PlaceWrite,
)
from app.kit.errors import errors_doc, json_errors_doc
from app.kit.responses import GeoJSONResponse
from app.kit.text import NO_CONTROL

router = APIRouter(prefix="/api/v1", tags=["places"])

PlaceId = Annotated[str, Path(max_length=ID_MAX, pattern=NO_CONTROL)]


@router.get("/places", response_model=list[PlaceRead], responses=errors_doc(422))
async def search_places(
    session: SessionDep,
    _: Viewer,
    gazetteers: Gazetteers,
    q: Annotated[str, Query(min_length=1, max_length=200)],
    limit: Annotated[int, Query(ge=1, le=100)] = 10,
) -> list[PlaceRead]:
    """Places whose name or alternative name matches `q` (accents, case and small typos ignored)."""
    gazetteer = await gazetteers.fresh(session)
    return [PlaceRead.model_validate(p) for p in gazetteer.search(q, limit=limit)]


# Declared before /places/{place_id}, which would otherwise take "places.geojson" for an id.
@router.get(
    "/places.geojson",
    response_model=PlaceFeatureCollection,
    response_class=GeoJSONResponse,
    responses=json_errors_doc(),
)
async def places_geojson(session: SessionDep, _: Viewer, gazetteers: Gazetteers) -> Response:
    """Every place of the gazetteer as an RFC 7946 FeatureCollection ([longitude, latitude])."""
    gazetteer = await gazetteers.fresh(session)
    return GeoJSONResponse(service.feature_collection(gazetteer))


@router.get("/places/{place_id}", response_model=PlaceRead, responses=errors_doc(404))
async def get_place(place_id: PlaceId, session: SessionDep, _: Viewer) -> PlaceRead:
    """One place."""
    return PlaceRead.model_validate(await service.get_place(session, place_id))


@router.post("/places", response_model=PlaceRead, status_code=201, responses=errors_doc(409, 422))
async def create_place(
    body: PlaceCreate, session: SessionDep, principal: Admin, gazetteers: Gazetteers
) -> PlaceRead:
    """Add a place to the gazetteer."""
    place = await service.create_place(session, body, actor=principal.actor)
    gazetteers.invalidate_on_commit(session)
    return PlaceRead.model_validate(place)


async def _update(
    session: SessionDep, place_id: str, values: dict[str, Any], actor: str, gazetteers: Gazetteers
) -> PlaceRead:
    place = await service.update_place(session, place_id, values, actor=actor)
    gazetteers.invalidate_on_commit(session)
    return PlaceRead.model_validate(place)


@router.put("/places/{place_id}", response_model=PlaceRead, responses=errors_doc(404, 422))
async def replace_place(
    place_id: PlaceId,
    body: PlaceWrite,
    session: SessionDep,
    principal: Admin,
    gazetteers: Gazetteers,
) -> PlaceRead:
    """Replace a place's fields (its id stays)."""
    return await _update(session, place_id, body.model_dump(), principal.actor, gazetteers)


@router.patch("/places/{place_id}", response_model=PlaceRead, responses=errors_doc(404, 422))
async def update_place(
    place_id: PlaceId,
    body: PlaceUpdate,
    session: SessionDep,
    principal: Admin,
    gazetteers: Gazetteers,
) -> PlaceRead:
    """Change the fields given; the others stay as they are."""
    values = body.model_dump(exclude_unset=True)
    return await _update(session, place_id, values, principal.actor, gazetteers)


@router.delete("/places/{place_id}", status_code=204, responses=errors_doc(404, 409))
async def delete_place(
    place_id: PlaceId, session: SessionDep, principal: Admin, gazetteers: Gazetteers
) -> Response:
    """Remove a place (409 while it is a focal point's home); alerts keep its name and
    position."""
    await places.remove_place(session, place_id, actor=principal.actor)
    gazetteers.invalidate_on_commit(session)
    return Response(status_code=204)
