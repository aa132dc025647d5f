"""The live stream (Server-Sent Events) of alert and incident changes."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/api/v1", tags=["stream"])
