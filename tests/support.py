"""Helpers shared by the tests: signed Twilio requests, API keys, data files, waiting."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from itertools import count
from pathlib import Path

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from twilio.request_validator import RequestValidator

REPO_ROOT = Path(__file__).resolve().parents[1]
TEST_DATA = REPO_ROOT / "tests" / "data"
TWILIO_TOKEN = "test-auth-token-0123456789abcdef"
PUBLIC_URL = "https://kengele.test"

_sid = count(1)


def sign(path: str, form: dict[str, str], token: str = TWILIO_TOKEN, base: str = PUBLIC_URL) -> str:
    """X-Twilio-Signature of a form posted to `base + path`, computed by the twilio library."""
    return str(RequestValidator(token).compute_signature(base + path, form))


def sms_form(phone: str, body: str, sid: str | None = None) -> dict[str, str]:
    """The form Twilio posts for an inbound SMS."""
    sid = sid or f"SM{next(_sid):032x}"
    return {
        "MessageSid": sid,
        "SmsSid": sid,
        "AccountSid": "AC" + "0" * 32,
        "From": phone,
        "To": "+243800000000",
        "Body": body,
        "NumMedia": "0",
    }


def call_form(phone: str, sid: str | None = None) -> dict[str, str]:
    """The form Twilio posts for an incoming call."""
    return {
        "CallSid": sid or f"CA{next(_sid):032x}",
        "AccountSid": "AC" + "0" * 32,
        "From": phone,
        "To": "+243800000000",
        "CallStatus": "ringing",
        "Direction": "inbound",
    }


async def post_twilio(client: httpx.AsyncClient, path: str, form: dict[str, str]) -> httpx.Response:
    """Post a correctly signed Twilio webhook."""
    return await client.post(path, data=form, headers={"X-Twilio-Signature": sign(path, form)})


async def make_key(sessionmaker: async_sessionmaker[AsyncSession], role: str) -> str:
    """A fresh API key of `role`."""
    from app.auth.service import create_key
    from app.kit.db import unit_of_work

    async with unit_of_work(sessionmaker) as s:
        _, plain = await create_key(s, name=f"test-{role}", role=role)
    return plain


def data_file(name: str) -> Path:
    """A data file kept with the tests (tests/data): a fresh clone has all of them."""
    path = TEST_DATA / name
    assert path.exists(), f"{path} is missing from the repository"
    return path


async def wait_until(
    condition: Callable[[], object | Awaitable[object]], within: float = 5.0, what: str = ""
) -> object:
    """Wait until `condition()` (sync or async) is truthy and return it; fail after `within` s."""
    deadline = time.monotonic() + within
    while True:
        result = condition()
        if isinstance(result, Awaitable):
            result = await result
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"{what or 'condition'} not met within {within} s")
        await asyncio.sleep(0.02)


async def all_processed(sessionmaker: async_sessionmaker[AsyncSession]) -> bool:
    """Whether no inbound message is left `received` (each was processed)."""
    from sqlalchemy import func, select

    from app.inbound.models import InboundMessage

    async with sessionmaker() as s:
        waiting = await s.scalar(
            select(func.count())
            .select_from(InboundMessage)
            .where(InboundMessage.status == "received")
        )
    return waiting == 0


def invalid_fields(response: httpx.Response) -> list[str]:
    """The fields a 422 names: pydantic's locations, or the "field: …" of a domain error."""
    assert response.status_code == 422, response.text
    detail = response.json()["detail"]
    if isinstance(detail, str):
        return [detail.split(":", 1)[0]]
    return [str(problem["loc"][-1]) for problem in detail]
