"""Reporters and liaisons API (admin), and revealing a reporter's number (operator)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/api/v1", tags=["people"])
