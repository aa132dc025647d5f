"""Masking of phone numbers in free text: every way people write them, and nothing else."""

from __future__ import annotations

import re

import pytest

from app.kit.phones import mask, mask_in_text


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("rappelez 081.000.01.09 svp", "rappelez +243••••••109 svp"),
        ("+243.810.000.109", "+243••••••109"),
        ("+243/810 000 109", "+243••••••109"),
        ("+243 81 000 01 09", "+243••••••109"),
        ("0810000109", "+243••••••109"),
        ("081 000 0109.", "+243••••••109."),
        ("081-000-0109", "+243••••••109"),
        ("(081) 000 0109", "+243••••••109"),
        ("+243 (0)81 000 0109", "+243••••••109"),
        ("tel:+243-81-000-01-09", "tel:+243••••••109"),
        ("00243810000109", "+243••••••109"),
        ("+256 772 123456 (Ouganda)", "+256••••••456 (Ouganda)"),
        ("081 000 0109 ou 099 000 0002", "+243••••••109 ou +243••••••002"),
        # URL-encoded, as a raw form shows it.
        ("From=%2B243810000109&Body=x", "From=+243••••••109&Body=x"),
        ("Body=appel+081+000+0109+merci", "Body=appel++243••••••109+merci"),
        ("081%20000%200109", "+243••••••109"),
        ("from 243810000109", "from +243••••••109"),
        # No valid number, but a run of 9+ digits all the same.
        ("81 000 01 09", "••••••109"),
        ("ref 12345678901", "ref ••••••••901"),
    ],
)
def test_numbers_are_masked_whatever_their_separators(text: str, masked: str) -> None:
    assert mask_in_text(text) == masked


@pytest.mark.parametrize(
    "text",
    [
        "Attaque le 29/12/2024 a 21:30",
        "le 2024-12-29T21:30:00Z",
        "vers 21h30, 12 morts et 3 blesses",
        "alerte K-2F7Q, 3 killed",
        "position -1.68, 29.22 (lat -1.6812345 lon 29.2212345)",
        "took 0.123456789 s",
        "3 000 000 FC voles, 1 500 000 FC rendus",
        "sid SM0123456789abcdef0123456789abcdef",
        "reporter 12 wrote at 2024-05-01 12:00:00",
        "OK 12, FIN 1234",
    ],
)
def test_dates_times_counts_references_and_coordinates_stay(text: str) -> None:
    assert mask_in_text(text) == text


@pytest.mark.parametrize(
    "text",
    [
        "+243/810 000 109",
        "081.000.01.09",
        "+243.810.000.109",
        "(081) 000-01-09",
        "0810000109",
        "+243 810 000 109",
    ],
)
def test_no_mask_leaves_more_than_three_digits_of_the_number(text: str) -> None:
    # The partial masks of old ("+243/810••0109", "081•••0109") left 7 digits to read.
    national = "810000109"
    runs = re.findall(r"\d+", mask_in_text(text))
    assert runs and all(run in ("243", "109") for run in runs), mask_in_text(text)
    assert not any(national[i : i + 4] in "".join(runs) for i in range(len(national) - 3))


def test_a_masked_text_stays_as_it_is() -> None:
    once = mask_in_text("appelez 081.000.01.09")
    assert mask_in_text(once) == once


@pytest.mark.parametrize(
    ("phone", "masked"),
    [
        ("+243810000101", "+243••••••101"),
        ("0810000101", "•••••••101"),
        ("12345", "•••45"),
        ("", ""),
        (None, None),
    ],
)
def test_mask_keeps_the_country_code_and_three_last_digits(
    phone: str | None, masked: str | None
) -> None:
    assert mask(phone) == masked
