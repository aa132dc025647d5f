"""API shapes of API keys (the hash never leaves the database)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from app.kit.text import NO_CONTROL

Role = Literal["partner", "viewer", "operator", "admin"]


class ApiKeyCreate(BaseModel):
    """A key to create: who it is for and its role."""

    model_config = ConfigDict(extra="forbid")

    name: Annotated[
        str,
        StringConstraints(strip_whitespace=True, min_length=1, max_length=100, pattern=NO_CONTROL),
    ]
    role: Role


class ApiKeyRead(BaseModel):
    """A key as admins see it: its first characters identify it, never the secret."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    role: str
    prefix: str = Field(description="the first characters of the key, to tell keys apart")
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


class ApiKeyCreated(ApiKeyRead):
    """The answer to a creation: the only time the key itself is shown."""

    key: str = Field(description="the API key; store it now, it is not shown again")


class Me(BaseModel):
    """The key making the request."""

    id: int
    name: str
    role: str
