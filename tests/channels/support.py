"""Channels for the tests: added as an admin would, with known secrets."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.channels import service
from app.kit.config import Settings
from app.kit.db import unit_of_work
from tests.escalation.support import Gateway
from tests.fakes.smsgate_api import SmsGateFake


async def add_channel(
    sessionmaker: async_sessionmaker[AsyncSession],
    settings: Settings,
    kind: str,
    name: str,
    **fields: Any,
) -> dict[str, str]:
    """Add a channel (fields as `service.create` takes them); returns its secrets."""
    async with unit_of_work(sessionmaker) as session:
        _, secrets = await service.create(session, settings, kind=kind, name=name, **fields)
    return secrets


async def add_beni_handset(
    sessionmaker: async_sessionmaker[AsyncSession], settings: Settings
) -> SmsGateFake:
    """The handset channel beni-a (SMS Gateway for Android, one SIM, zone Beni); the stand-in
    of its app, which signs the webhooks it builds with the channel's key."""
    handset = SmsGateFake()
    await add_channel(
        sessionmaker,
        settings,
        "smsgate",
        "beni-a",
        numbers=["+243970000001"],
        options={"signing_key": handset.signing_key},
        zones=["Beni"],
    )
    return handset


async def set_down(
    sessionmaker: async_sessionmaker[AsyncSession], name: str, down: bool = True
) -> None:
    """Mark a channel down (or up) as its health would."""
    async with unit_of_work(sessionmaker) as session:
        channel = await service.named(session, name)
        channel.down = down


async def set_active(gw: Gateway, name: str, active: bool) -> None:
    """Turn a channel off (or on) as an admin does (PATCH /api/v1/channels/{id})."""
    async with unit_of_work(gw.sessionmaker) as session:
        channel = await service.named(session, name)
        await service.update(session, gw.settings, channel.id, {"active": active})


async def has_provider_id(gw: Gateway, delivery_id: int) -> bool:
    """Whether the worker recorded the provider's id of a delivery (its send is on record)."""
    return (await gw.delivery(delivery_id)).provider_id is not None
