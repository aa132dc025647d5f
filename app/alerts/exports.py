"""Exports of alerts: GeoJSON, CSV (with HXL), CAP 1.2, Atom."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/api/v1", tags=["exports"])
