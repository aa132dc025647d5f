"""What the alerts' workflow is made of, for clients to read rather than copy: the statuses,
the moves each action makes from each, the categories and severities."""

from __future__ import annotations

from typing import get_args

from fastapi import APIRouter
from pydantic import BaseModel, Field

from app.alerts.models import SEVERITIES
from app.alerts.status import ACTIONS, OPEN, TRANSITIONS, Action, AlertStatus, StatusAction
from app.api.deps import Viewer
from app.kit.errors import errors_doc
from app.triage.types import Category

router = APIRouter(prefix="/api/v1", tags=["meta"])


class Meta(BaseModel):
    """The alerts' statuses and the actions that move them (app/alerts/status.py)."""

    statuses: list[AlertStatus] = Field(description="every status, in the workflow's order")
    open: list[AlertStatus] = Field(description="the statuses of an alert still to handle")
    actions: list[Action] = Field(description="every action of POST /api/v1/alerts/{id}/actions")
    transitions: dict[AlertStatus, dict[StatusAction, AlertStatus]] = Field(
        description="from each status, the actions that move an alert and where each leads; "
        "the other actions (assign, note, correct) keep the status and are taken in every one"
    )
    categories: list[Category]
    severities: list[str] = Field(description="lowest first")


@router.get("/meta", response_model=Meta, responses=errors_doc())
async def meta(_: Viewer) -> Meta:
    """The statuses, the allowed transitions, the categories and severities of alerts."""
    return Meta(
        statuses=list(AlertStatus),
        open=list(OPEN),
        actions=list(ACTIONS),
        transitions={status: dict(moves) for status, moves in TRANSITIONS.items()},
        categories=list(get_args(Category)),
        severities=list(SEVERITIES),
    )
