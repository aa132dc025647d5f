"""Checks shared by the request schemas of several domains."""

from __future__ import annotations

from typing import TypeVar

T = TypeVar("T")


def not_null(value: T | None) -> T:
    """A PATCH field given as null: leaving a field out keeps it, and null is no value for
    fields the row cannot leave empty (a 422 naming the field, not a database error)."""
    if value is None:
        raise ValueError("may not be null (leave the field out to keep it)")
    return value
