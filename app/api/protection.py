"""POST /api/v1/reporters/{id}/erase (admin): a focal point's number and words removed."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, Field, field_validator

from app.api.deps import Admin, SessionDep
from app.kit.errors import errors_doc
from app.kit.ids import Id
from app.kit.text import MULTILINE
from app.protection.erase import erase_reporter

router = APIRouter(prefix="/api/v1", tags=["people"])


class EraseRequest(BaseModel):
    """Why the focal point is erased (kept in the audit log, numbers in it masked)."""

    reason: str = Field(min_length=1, max_length=500, pattern=MULTILINE)

    @field_validator("reason")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("give the reason of the erasure")
        return value.strip()


class EraseResult(BaseModel):
    """What was removed, in counts."""

    id: int
    alerts: int = Field(description="alerts kept as anonymous records")
    messages: int = Field(description="inbound messages emptied")
    deliveries: int = Field(description="SMS and webhooks to them or about their alerts emptied")
    copies: dict[str, int] = Field(description="rows per table where a copy of the number went")


@router.post(
    "/reporters/{reporter_id}/erase", response_model=EraseResult, responses=errors_doc(404, 422)
)
async def erase(reporter_id: Id, body: EraseRequest, session: SessionDep, principal: Admin) -> Any:
    """Erase a focal point: number, message texts and every copy of the number in other texts
    are removed; their alerts stay as anonymous records (statistics unchanged). Audited with
    the reason. An erased number that texts again is a new, unknown reporter."""
    done = await erase_reporter(session, reporter_id, reason=body.reason, actor=principal.actor)
    return EraseResult(id=reporter_id, **done.as_dict())
