"""The alert's status and the one table of its moves: what each action does from each status.

`transition()` in app/alerts/service.py is the only place that changes a status: it checks
this table and writes the move into the audit trail. Escalation reacts to the moves
(app/flows/status.py); the operations page reads the table from `GET /api/v1/meta`.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any, Literal, get_args

from app.kit.errors import Conflict


class AlertStatus(StrEnum):
    """Where an alert is in the operations room's hands (stored as its value)."""

    NEW = "new"
    ACKNOWLEDGED = "acknowledged"
    VERIFIED = "verified"
    RESOLVED = "resolved"
    FALSE_ALARM = "false_alarm"


OPEN = (AlertStatus.NEW, AlertStatus.ACKNOWLEDGED, AlertStatus.VERIFIED)
CLOSED = (AlertStatus.RESOLVED, AlertStatus.FALSE_ALARM)

StatusAction = Literal["acknowledge", "verify", "resolve", "false_alarm", "reopen"]
# Actions that leave the status as it is, taken in every status (a closed alert is still worth
# correcting: every correction is a label for triage).
KeepingAction = Literal["assign", "note", "correct"]
Action = Literal[StatusAction, KeepingAction]

# From each status, the actions that move an alert and the status each leads to. Verifying a
# new alert takes it first (acknowledged, then verified: two moves in the audit trail).
TRANSITIONS: dict[AlertStatus, dict[StatusAction, AlertStatus]] = {
    AlertStatus.NEW: {
        "acknowledge": AlertStatus.ACKNOWLEDGED,
        "verify": AlertStatus.VERIFIED,
        "resolve": AlertStatus.RESOLVED,
        "false_alarm": AlertStatus.FALSE_ALARM,
    },
    AlertStatus.ACKNOWLEDGED: {
        "verify": AlertStatus.VERIFIED,
        "resolve": AlertStatus.RESOLVED,
        "false_alarm": AlertStatus.FALSE_ALARM,
    },
    AlertStatus.VERIFIED: {
        "resolve": AlertStatus.RESOLVED,
        "false_alarm": AlertStatus.FALSE_ALARM,
    },
    AlertStatus.RESOLVED: {"reopen": AlertStatus.ACKNOWLEDGED},
    AlertStatus.FALSE_ALARM: {"reopen": AlertStatus.ACKNOWLEDGED},
}

# The audit trail's name of each move.
EVENTS: dict[StatusAction, str] = {
    "acknowledge": "acknowledged",
    "verify": "verified",
    "resolve": "resolved",
    "false_alarm": "false_alarm",
    "reopen": "reopened",
}

ACTIONS: tuple[Action, ...] = (*get_args(StatusAction), *get_args(KeepingAction))


def allowed_actions(status: AlertStatus) -> list[Action]:
    """The actions an alert in `status` accepts, in the order of ACTIONS."""
    moves = TRANSITIONS[status]
    return [a for a in ACTIONS if a in moves or a in get_args(KeepingAction)]


def target_of(action: StatusAction) -> AlertStatus:
    """The status `action` leads to (the same from every status that allows it)."""
    return next(moves[action] for moves in TRANSITIONS.values() if action in moves)


class TransitionNotAllowed(Conflict):
    """The action does not apply to the alert's current status (409 naming the allowed ones)."""

    def __init__(self, action: str, status: AlertStatus) -> None:
        self.allowed = allowed_actions(status)
        super().__init__(
            f"cannot {action} an alert that is {status}; allowed: {', '.join(self.allowed)}"
        )

    def extra(self) -> dict[str, Any]:
        """The allowed actions, for clients to offer."""
        return {"allowed": self.allowed}


def check(status: AlertStatus, action: Action) -> None:
    """Refuse (409) an action the table does not allow from `status`."""
    if action not in allowed_actions(status):
        raise TransitionNotAllowed(action, status)
