"""A copy of the database without the keys names no focal point and quotes no message."""

from __future__ import annotations

from sqlalchemy import select

from app.kit.phones import mask
from app.people.models import Liaison
from tests.protection.conftest import Gateway
from tests.protection.support import (
    database_bytes,
    demo_numbers,
    found_in,
    send_demo_traffic,
    writings,
)


async def test_a_dump_shows_no_number_and_no_text_the_api_shows_them(gateway: Gateway) -> None:
    numbers = await demo_numbers(gateway.sessionmaker)
    assert len(numbers) >= 3
    texts = await send_demo_traffic(gateway.client, numbers)

    dump = database_bytes(gateway.settings.database_url)
    assert b"alerts" in dump  # the scan reads the data (not an empty file)
    async with gateway.sessionmaker() as s:
        liaisons = (await s.scalars(select(Liaison.phone))).all()
    assert liaisons
    for phone in [*numbers, *liaisons]:
        assert not found_in(dump, writings(phone)), f"{mask(phone)} in the database"
    for text in texts:
        assert text.encode() not in dump
        assert text.split(",")[0].encode() not in dump

    # Operators read them; viewers get them masked.
    alerts = (await gateway.client.get("/api/v1/alerts", headers=gateway.admin)).json()["items"]
    by_phone = {a["from_phone"]: a for a in alerts}
    for phone, text in zip(numbers, texts, strict=False):
        assert by_phone[phone]["body"] == text
    seen = (await gateway.client.get("/api/v1/alerts", headers=gateway.viewer)).json()["items"]
    shown = {a["from_phone"] for a in seen}
    assert shown == {mask(p) for p in numbers[: len(texts)]}
    assert not any("0811112223" in a["body"] for a in seen)
    csv = (await gateway.client.get("/api/v1/alerts.csv", headers=gateway.admin)).text
    assert all(p in csv for p in numbers[: len(texts)])

    # A number is still found by its hash: a focal point's second SMS is theirs.
    page = await gateway.client.get(
        "/api/v1/reporters", headers=gateway.admin, params={"q": numbers[0]}
    )
    [reporter] = page.json()["items"]
    assert reporter["phone"] == numbers[0]
