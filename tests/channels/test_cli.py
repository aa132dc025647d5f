"""`kengele channel add|list|test` on the test database."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
from click.testing import Result
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from typer.testing import CliRunner

from app.cli import cli
from app.kit.config import get_settings
from app.outbox.models import Delivery, DeliveryAttempt


@pytest.fixture
def cli_database(
    database_url: str, engine: object, monkeypatch: pytest.MonkeyPatch
) -> Iterator[None]:
    """The command works on the (emptied) test database."""
    monkeypatch.setenv("KENGELE_DATABASE_URL", database_url)
    monkeypatch.setenv("KENGELE_PUBLIC_URL", "https://kengele.example.org")
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


async def kengele(*args: str) -> Result:
    # The command runs its own event loop (asyncio.run): give it a thread without one.
    return await asyncio.to_thread(CliRunner().invoke, cli, list(args))


async def test_add_prints_the_inbound_url_and_the_secrets_once(cli_database: None) -> None:
    added = await kengele(
        "channel", "add", "smsgate", "beni-a", "--number", "+243970000001",
        "--set", "api_url=http://10.0.0.5:8080", "--set", "username=sms",
        "--set", "password=pw-Secret-1", "--zone", "Beni",
    )  # fmt: skip
    assert added.exit_code == 0, added.output
    assert "POST https://kengele.example.org/webhooks/smsgate/beni-a" in added.stdout
    assert "password=pw-Secret-1" in added.stdout
    assert "signing_key=" in added.stdout

    listed = await kengele("channel", "list")
    assert listed.exit_code == 0, listed.output
    assert "beni-a" in listed.stdout and "smsgate" in listed.stdout and "Beni" in listed.stdout
    assert "pw-Secret-1" not in listed.stdout and "signing_key" not in listed.stdout


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["channel", "add", "smsgate", "a", "--set", "sim"], "--set number 1"),
        (["channel", "add", "smsgate", "a", "--set", "pin=1"], "takes no option ['pin']"),
        (["channel", "add", "fax", "a"], "unknown kind 'fax'"),
        (
            ["channel", "add", "smsgate", "a", "--set", "signing_key="],
            "signing_key must not be empty",
        ),
    ],
)
async def test_add_refuses_bad_input_and_says_why(
    cli_database: None, args: list[str], says: str
) -> None:
    result = await kengele(*args)
    assert result.exit_code != 0
    assert says in result.output


async def test_test_sends_by_the_channel_and_records_the_delivery(
    cli_database: None, session: AsyncSession
) -> None:
    assert (await kengele("channel", "add", "console", "demo")).exit_code == 0
    sent = await kengele("channel", "test", "demo", "--to", "0970000002")
    assert sent.exit_code == 0, sent.output
    assert "accepted by demo" in sent.stdout
    delivery = await session.scalar(select(Delivery))
    assert delivery is not None
    assert (delivery.via, delivery.recipient, delivery.status) == ("demo", "+243970000002", "sent")
    attempts = (await session.scalars(select(DeliveryAttempt))).all()
    assert [a.status for a in attempts] == ["ok"]

    missing = await kengele("channel", "test", "nowhere", "--to", "0970000002")
    assert missing.exit_code == 1 and "no channel named 'nowhere'" in missing.output


@pytest.mark.parametrize(
    ("known_by", "warned"),
    [
        ([], True),
        (["--set", "out_id_path=msg_id"], False),
        (["--set", "out_fields=to={to},text={text},ref={id}"], False),
    ],
    ids=["no-id", "out_id_path", "our-id"],
)
async def test_add_warns_of_an_aggregator_whose_delivery_reports_can_match_nothing(
    cli_database: None, known_by: list[str], warned: bool
) -> None:
    """Sends known by no id (no out_id_path, no {id} sent): its delivery reports would match
    no SMS, and a page that failed there would go to nobody else. Added all the same (an
    aggregator may have no reports), with a warning that says what to set."""
    added = await kengele(
        "channel", "add", "http", "dmark", "--number", "+243970000050",
        "--set", "out_url=https://sms.example.org/send", *known_by,
    )  # fmt: skip
    assert added.exit_code == 0, added.output
    assert ("Warning: its sends are known by no id" in added.output) is warned
    assert ("out_id_path" in added.output) is warned
