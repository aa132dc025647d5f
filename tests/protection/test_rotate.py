"""Rotating the data key while SMS arrive: nothing lost, nothing left under the old key."""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from app.alerts.models import Alert
from app.inbound.models import InboundMessage
from app.kit import crypto
from app.protection.rotate import add_key_to_file, old_values, rotate
from tests.protection.conftest import Gateway
from tests.protection.support import demo_numbers, send_demo_traffic
from tests.support import post_twilio, sms_form


@pytest.fixture
def key_file(tmp_path: Path) -> Iterator[Path]:
    """The process's keys, from a key file of this test (the real one is left alone)."""
    saved = crypto.keyring()
    path = tmp_path / "data.keys"
    path.write_text("".join(base64.urlsafe_b64encode(k).decode() + "\n" for k in saved.keys))
    crypto.configure(crypto.Keyring(keys=list(saved.keys), lookup=saved.lookup, key_file=path))
    yield path
    crypto.configure(saved)  # keeps the test's keys able to open values


async def test_rotation_while_sms_arrive(gateway: Gateway, key_file: Path) -> None:
    engine: AsyncEngine = gateway.sessionmaker.kw["bind"]
    numbers = await demo_numbers(gateway.sessionmaker)
    before = await send_demo_traffic(gateway.client, numbers, tag="before")
    old = crypto.keyring().current_id
    sent = list(before)

    async def arrive() -> None:
        for i in range(15):
            body = f"Message {i} pendant la rotation: attaque a Mavivi"
            form = sms_form(numbers[i % len(numbers)], body, sid=f"SMrot{i:029d}")
            assert (await post_twilio(gateway.client, "/webhooks/twilio/sms", form)).status_code
            sent.append(body)
            await asyncio.sleep(0.01)

    arriving = asyncio.create_task(arrive())
    await asyncio.sleep(0.02)
    new = add_key_to_file()
    done = await rotate(engine)
    await arriving
    assert new != old and done.key_id == new and done.rewritten > 0

    # Nothing under the old key, in any encrypted column; every message readable.
    assert await old_values(engine) == 0
    async with engine.connect() as conn:
        raw = (await conn.execute(text("SELECT from_phone, body FROM inbound_messages"))).all()
    assert raw and all(f"e1:{new}:" in p and f"e1:{new}:" in b for p, b in raw)
    async with gateway.sessionmaker() as s:
        bodies = set((await s.scalars(select(InboundMessage.body))).all())
        assert await s.scalar(select(func.count(InboundMessage.id))) == len(sent)
        assert await s.scalar(select(func.count(Alert.id))) > 0
    assert set(sent) <= bodies
    # The old key may go now: the new one opens everything.
    crypto.configure(
        crypto.Keyring(
            keys=[k for k in crypto.keyring().keys if crypto.key_id(k) == new],
            lookup=crypto.keyring().lookup,
        )
    )
    async with gateway.sessionmaker() as s:
        assert set((await s.scalars(select(InboundMessage.body))).all()) == bodies
