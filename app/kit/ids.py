"""Ids in paths: positive and within the database's integer range (not a 500 on 10**30)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path

MAX_ID = 2_147_483_647  # a 32-bit signed INTEGER column

Id = Annotated[int, Path(ge=1, le=MAX_ID, description="an id")]
