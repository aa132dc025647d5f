"""The escalation policy document, validated."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

from app.kit.phones import InvalidPhone, to_e164
from app.kit.text import NO_CONTROL

PlainText = Annotated[str, StringConstraints(max_length=100, pattern=NO_CONTROL)]

Channel = Literal["sms", "webhook"]
NotifyTier = Literal["zone_liaisons", "zone_joc", "all_joc"]
SeverityName = Literal["low", "medium", "high", "critical"]


class Phones(BaseModel):
    """Explicit numbers to page."""

    model_config = ConfigDict(extra="forbid")
    phones: list[str] = Field(min_length=1)

    @field_validator("phones")
    @classmethod
    def _e164(cls, values: list[str]) -> list[str]:
        out = []
        for value in values:
            try:
                out.append(to_e164(value))
            except InvalidPhone as exc:
                raise ValueError(str(exc)) from exc
        return out


class Step(BaseModel):
    """Whom to notify, how, and how long after the escalation started."""

    model_config = ConfigDict(extra="forbid")
    after_seconds: int = Field(ge=0, le=7 * 24 * 3600)
    notify: NotifyTier | Phones
    channels: list[Channel] = Field(default=["sms"], min_length=1)


class Repeat(BaseModel):
    """Page again every `every_seconds`, `times` times, while nobody acknowledges."""

    model_config = ConfigDict(extra="forbid")
    every_seconds: int = Field(ge=60, le=24 * 3600)
    times: int = Field(ge=0, le=50)


class Match(BaseModel):
    """Which alerts a policy takes (every key optional)."""

    model_config = ConfigDict(extra="forbid")
    min_severity: SeverityName | None = None
    categories: list[PlainText] | None = None
    admin1: list[PlainText] | None = None


class PolicyDocument(BaseModel):
    """An escalation policy as the API takes and returns it."""

    model_config = ConfigDict(extra="forbid")
    # No control character: PostgreSQL refuses NUL in text (a 500, not a 422, before this).
    name: str = Field(min_length=1, max_length=100, pattern=NO_CONTROL)
    priority: int = Field(default=100, ge=0, le=10_000)
    match: Match = Field(default_factory=Match)
    steps: list[Step] = Field(min_length=1, max_length=20)
    repeat: Repeat | None = None

    @field_validator("steps")
    @classmethod
    def _ordered(cls, steps: list[Step]) -> list[Step]:
        waits = [s.after_seconds for s in steps]
        if waits != sorted(waits):
            raise ValueError("steps must be in order of after_seconds")
        return steps


class PolicyRead(PolicyDocument):
    """A stored policy."""

    id: int


class PolicyUpdate(PolicyDocument):
    """A policy sent back as it was read (its id, if given, must be the one in the path)."""

    id: int | None = None


def _policy(
    name: str, priority: int, min_severity: str, steps: list[Step], repeat: Repeat | None = None
) -> PolicyDocument:
    return PolicyDocument(
        name=name,
        priority=priority,
        match=Match.model_validate({"min_severity": min_severity}),
        steps=steps,
        repeat=repeat,
    )


DEFAULT_POLICIES = [
    _policy(
        "critical-default",
        10,
        "critical",
        [
            Step(after_seconds=0, notify="zone_liaisons", channels=["sms", "webhook"]),
            Step(after_seconds=300, notify="zone_joc", channels=["sms", "webhook"]),
        ],
        Repeat(every_seconds=600, times=3),
    ),
    _policy(
        "high-default",
        20,
        "high",
        [
            Step(after_seconds=0, notify="zone_liaisons", channels=["sms", "webhook"]),
            Step(after_seconds=900, notify="zone_joc", channels=["sms", "webhook"]),
        ],
    ),
    _policy(
        "medium-default",
        30,
        "medium",
        [Step(after_seconds=0, notify="zone_liaisons", channels=["sms", "webhook"])],
    ),
    _policy(
        "low-default",
        40,
        "low",
        [Step(after_seconds=0, notify="zone_liaisons", channels=["webhook"])],
    ),
]
