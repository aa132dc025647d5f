"""Opaque keyset cursors and the page envelope."""

from __future__ import annotations

import base64
import json
from datetime import datetime
from typing import Generic, TypeVar

from pydantic import BaseModel

from app.kit.clock import as_utc
from app.kit.errors import BadRequest

T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    """A page of items and the cursor of the next page (null on the last)."""

    items: list[T]
    next_cursor: str | None


def encode_cursor(*parts: object) -> str:
    """An opaque cursor of the last item's sort key."""
    values = [p.isoformat() if isinstance(p, datetime) else p for p in parts]
    return base64.urlsafe_b64encode(json.dumps(values).encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> list[object]:
    """The sort key inside a cursor (400 when it is not one of ours)."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        values = json.loads(base64.urlsafe_b64decode(padded.encode()))
        if not isinstance(values, list):
            raise ValueError
        return values
    except ValueError as exc:
        raise BadRequest("cursor is not valid; use next_cursor of a previous page") from exc


def decode_id(cursor: str) -> int:
    """An (id,) cursor."""
    values = decode_cursor(cursor)
    if len(values) != 1 or not isinstance(values[0], int):
        raise BadRequest("cursor is not valid; use next_cursor of a previous page")
    return values[0]


def decode_time_id(cursor: str) -> tuple[datetime, int]:
    """A (timestamp, id) cursor."""
    values = decode_cursor(cursor)
    try:
        at, ident = values
        return as_utc(datetime.fromisoformat(str(at))), int(str(ident))
    except (ValueError, TypeError) as exc:
        raise BadRequest("cursor is not valid; use next_cursor of a previous page") from exc
