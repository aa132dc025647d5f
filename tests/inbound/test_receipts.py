"""Every reply template fits one GSM-7 segment in every language."""

from __future__ import annotations

import pytest

from app.inbound import receipts
from app.kit.gsm7 import SINGLE_SEGMENT, is_gsm7, septets

TEMPLATES = [
    (kind, language, text)
    for kind, table in receipts.TEMPLATES.items()
    for language, text in table.items()
]


@pytest.mark.parametrize(("kind", "language", "text"), TEMPLATES)
def test_template_is_gsm7_and_one_segment(kind: str, language: str, text: str) -> None:
    filled = text.format(ref=receipts.LONGEST_REF)
    outside = sorted({ch for ch in filled if not is_gsm7(ch)})
    assert not outside, f"{kind}/{language} has characters outside GSM-7: {outside}"
    assert septets(filled) <= SINGLE_SEGMENT, f"{kind}/{language} is {septets(filled)} septets"


def test_every_language_has_every_template() -> None:
    for table in receipts.TEMPLATES.values():
        assert set(table) == {"fr", "sw", "ln", "en"}


def test_receipt_carries_the_reference() -> None:
    assert "K-2F7Q" in receipts.receipt("K-2F7Q", "sw")
    assert "K-2F7Q" in receipts.receipt("K-2F7Q", "xx"), "unknown language falls back to French"


def test_gsm7_checks_catch_what_a_basic_phone_cannot_show() -> None:
    assert not is_gsm7("Reçu ✓")
    assert is_gsm7("Recu ok")
    assert septets("[ok]") == 6
