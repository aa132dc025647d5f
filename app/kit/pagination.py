"""Opaque keyset cursors and the page envelope."""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any, Generic, TypeVar

from pydantic import BaseModel

from app.kit.clock import as_utc
from app.kit.errors import BadRequest
from app.kit.ids import MAX_ID

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
    except (ValueError, RecursionError) as exc:  # RecursionError: JSON nested too deep
        raise BadRequest("cursor is not valid; use next_cursor of a previous page") from exc


# Change numbers fit a signed 64-bit column; larger is not one of ours (and would be a 500).
MAX_SEQ = 2**63 - 1


def _number(value: object, maximum: int = MAX_ID) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= maximum:
        raise BadRequest("cursor is not valid; use next_cursor of a previous page")
    return value


def decode_id(cursor: str, maximum: int = MAX_ID) -> int:
    """An (id,) cursor (or a change number, with maximum=MAX_SEQ)."""
    values = decode_cursor(cursor)
    if len(values) != 1:
        raise BadRequest("cursor is not valid; use next_cursor of a previous page")
    return _number(values[0], maximum)


def decode_time_id(cursor: str) -> tuple[datetime, int]:
    """A (timestamp, id) cursor."""
    values = decode_cursor(cursor)
    try:
        at, ident = values
        return as_utc(datetime.fromisoformat(str(at))), _number(ident)
    except (ValueError, TypeError, OverflowError) as exc:
        raise BadRequest("cursor is not valid; use next_cursor of a previous page") from exc


def next_id_cursor(rows: Sequence[Any], limit: int) -> str | None:
    """The cursor after the last row of a full page of rows with an `id`; None on the last."""
    return encode_cursor(rows[-1].id) if len(rows) == limit else None
