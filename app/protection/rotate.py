"""`kengele keys rotate`: every stored value moved to the newest data key, while running.

New writes use the newest key at once (a key file is re-read by running processes within
RELOAD_SECONDS); the rows are then rewritten in batches, each row only if it did not change
meanwhile (a row the gateway rewrote is already under the new key). Passes repeat until one
finds no value under an older key.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Text, cast, select, type_coerce, update
from sqlalchemy.ext.asyncio import AsyncEngine

from app.kit import crypto
from app.kit.crypto import PREFIX
from app.kit.db import IMMEDIATE
from app.models import Base

BATCH = 500
MAX_PASSES = 20


def encrypted_columns() -> list[tuple[Any, str, bool]]:
    """(model, attribute, is a JSON document) of every encrypted column (app.models imports
    every model, so the registry holds them all)."""
    out = []
    for mapper in Base.registry.mappers:
        for column in mapper.columns:
            if isinstance(column.type, crypto.EncryptedText | crypto.EncryptedJSON):
                out.append(
                    (mapper.class_, column.key, isinstance(column.type, crypto.EncryptedJSON))
                )
    return out


@dataclass
class Rotation:
    """The key moved to and how many values were rewritten."""

    key_id: str
    rewritten: int
    passes: int


def add_key_to_file() -> str:
    """Append a new key to the key file (it becomes the current one); its id."""
    ring = crypto.keyring()
    if ring.key_file is None:
        raise crypto.DataKeyError(
            "keys come from KENGELE_DATA_KEY: put the new key last in it (keep the old ones "
            "before it), restart, then run `kengele keys rotate --no-new-key`"
        )
    key = crypto.new_key()
    with ring.key_file.open("a", encoding="utf-8") as handle:
        handle.write(key + "\n")
    ring.reload()
    return ring.current_id


async def rotate(engine: AsyncEngine, *, settle_seconds: float = 0.0) -> Rotation:
    """Rewrite every value not under the current key; waits `settle_seconds` first so that
    running processes switch their new writes to the new key."""
    await asyncio.sleep(settle_seconds)
    current = crypto.keyring().current_id
    total = 0
    for passes in range(1, MAX_PASSES + 1):
        done = 0
        for model, attribute, document in encrypted_columns():
            done += await _rotate_column(engine, model, attribute, document, current)
        total += done
        if done == 0 and await old_values(engine) == 0:
            return Rotation(current, total, passes)
    raise crypto.DataKeyError("values under older keys keep appearing: is a process not reloading?")


async def _rotate_column(
    engine: AsyncEngine, model: Any, attribute: str, document: bool, current: str
) -> int:
    column = getattr(model, attribute)
    raw = cast(column, Text) if document else type_coerce(column, Text)
    stale = _stale(raw, current, document)
    rewritten = 0
    last = 0
    while True:
        # SQLite: the write lock from the start (a read then a write could fail as locked).
        async with engine.execution_options(**{IMMEDIATE: True}).begin() as conn:
            rows = (
                await conn.execute(
                    select(model.id, column, raw.label("stored_value"))
                    .where(model.id > last, stale)
                    .order_by(model.id)
                    .limit(BATCH)
                )
            ).all()
            for row in rows:
                # Rewritten only if untouched since read: otherwise its writer used the new key.
                table = model.__table__
                values = {column.expression.name: row[1]}
                if "updated_at" in table.c:  # not a change of the row: no new updated_at
                    values["updated_at"] = table.c.updated_at
                result = await conn.execute(
                    update(table)
                    .where(table.c.id == row.id, raw == row.stored_value)
                    .values(values)
                )
                rewritten += int(getattr(result, "rowcount", 0) or 0)
        if not rows:
            return rewritten
        last = rows[-1].id


def _stale(raw: Any, current: str, document: bool) -> Any:
    quote = '"' if document else ""
    return raw.like(f"{quote}{PREFIX}%") & ~raw.like(f"{quote}{PREFIX}{current}:%")


async def old_values(engine: AsyncEngine) -> int:
    """How many stored values are under a key other than the current one."""
    current = crypto.keyring().current_id
    count = 0
    async with engine.connect() as conn:
        for model, attribute, document in encrypted_columns():
            column = getattr(model, attribute)
            raw = cast(column, Text) if document else type_coerce(column, Text)
            rows = await conn.execute(select(model.id).where(_stale(raw, current, document)))
            count += len(rows.all())
    return count


__all__ = ["Rotation", "add_key_to_file", "old_values", "rotate"]
