"""Channels for admins: add, list, change, remove."""

from __future__ import annotations

from fastapi import APIRouter, Response

from app.api.deps import Admin, SessionDep, SettingsDep
from app.channels import service
from app.channels.schemas import ChannelCreate, ChannelCreated, ChannelRead, ChannelUpdate
from app.flows import channel_edits
from app.kit.errors import errors_doc
from app.kit.ids import Id

router = APIRouter(prefix="/api/v1", tags=["channels"])


@router.get("/channels", response_model=list[ChannelRead], responses=errors_doc())
async def list_channels(session: SessionDep, _: Admin) -> list[ChannelRead]:
    """Every channel in route order (secrets never shown)."""
    return [ChannelRead.of(c) for c in await service.list_all(session)]


@router.post(
    "/channels", response_model=ChannelCreated, status_code=201, responses=errors_doc(409, 422)
)
async def create_channel(
    body: ChannelCreate, session: SessionDep, settings: SettingsDep, _: Admin
) -> ChannelCreated:
    """Add a channel; its secrets (given or generated) are in this answer only."""
    channel, secrets = await channel_edits.create(session, settings, body.model_dump())
    return ChannelCreated(**ChannelRead.of(channel).model_dump(), secrets=secrets)


@router.get("/channels/{channel_id}", response_model=ChannelRead, responses=errors_doc(404, 422))
async def get_channel(channel_id: Id, session: SessionDep, _: Admin) -> ChannelRead:
    """One channel."""
    return ChannelRead.of(await service.get(session, channel_id))


@router.patch("/channels/{channel_id}", response_model=ChannelRead, responses=errors_doc(404, 422))
async def update_channel(
    channel_id: Id,
    body: ChannelUpdate,
    session: SessionDep,
    settings: SettingsDep,
    _: Admin,
) -> ChannelRead:
    """Change a channel (a secret option given here replaces the stored one, unseen)."""
    changes = body.model_dump(exclude_unset=True)
    channel = await channel_edits.update(session, settings, channel_id, changes)
    return ChannelRead.of(channel)


@router.delete("/channels/{channel_id}", status_code=204, responses=errors_doc(404, 422))
async def delete_channel(
    channel_id: Id, session: SessionDep, settings: SettingsDep, _: Admin
) -> Response:
    """Remove a channel (SMS queued for it fail over to the next channel of their route)."""
    await channel_edits.delete(session, settings, channel_id)
    return Response(status_code=204)
