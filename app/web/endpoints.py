"""Serves the operations-room page and its assets at /ops/."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(tags=["ops page"])
