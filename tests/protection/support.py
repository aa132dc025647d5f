"""Helpers of the data protection tests: demo traffic and a byte scan of the database."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import httpx
import phonenumbers
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.people.models import Reporter
from tests.support import post_twilio, sms_form

SMS = "/webhooks/twilio/sms"
# Distinctive words, so that a scan finding them found a stored copy of a message.
TEXTS = [
    "Attaque ya ADF ku Mavivi wameuawa watu watatu zebrafish",
    "Maison brulee a Oicha ce matin pangolin-quartz",
    "Watu wengi wamekimbia Kamango leo marmoset-vortex, piga 0811112223",
]


async def demo_numbers(sessionmaker: async_sessionmaker[AsyncSession]) -> list[str]:
    """The demo focal points' numbers (E.164)."""
    async with sessionmaker() as s:
        return sorted((await s.scalars(select(Reporter.phone))).all())


async def send_demo_traffic(
    client: httpx.AsyncClient, numbers: list[str], tag: str = ""
) -> list[str]:
    """An SMS from each of the first demo focal points (a text each, a number quoted)."""
    sent = []
    for i, (phone, text) in enumerate(zip(numbers, TEXTS, strict=False)):
        body = f"{text} {tag}".strip()
        response = await post_twilio(client, SMS, sms_form(phone, body, sid=f"SM{tag}{i:030d}"))
        assert response.status_code == 200, response.text
        sent.append(body)
    return sent


def writings(e164: str) -> list[bytes]:
    """A number as people write it: +243…, 243…, 0…, grouped by spaces or dashes."""
    parsed = phonenumbers.parse(e164)
    national = phonenumbers.national_significant_number(parsed)
    cc = str(parsed.country_code)
    local = "0" + national
    forms = {
        e164,
        cc + national,
        local,
        national,
        f"+{cc} {national[:3]} {national[3:6]} {national[6:]}",
        f"{local[:3]} {local[3:6]} {local[6:]}",
        f"{local[:4]}-{local[4:7]}-{local[7:]}",
        phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.INTERNATIONAL),
        phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.NATIONAL),
    }
    return [f.encode() for f in forms]


def database_bytes(url: str) -> bytes:
    """Every byte of the database: the SQLite file and its WAL, or a pg_dump."""
    if url.startswith("sqlite"):
        path = Path(url.split("///", 1)[1])
        files = [path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-journal")]
        return b"".join(f.read_bytes() for f in files if f.exists())
    plain = re.sub(r"^postgresql\+asyncpg://", "postgresql://", url)
    return subprocess.run(["pg_dump", plain], check=True, capture_output=True).stdout


def found_in(dump: bytes, needles: list[bytes]) -> list[bytes]:
    """The needles present in the dump."""
    return [n for n in needles if n in dump]
