"""The one table of an alert's moves (app/alerts/status.py): transition() carries out what it
allows and refuses the rest; the API answers as the table says; GET /api/v1/meta lists it."""

from __future__ import annotations

from typing import Any, get_args

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import Session

from app.alerts import chain
from app.alerts.models import SEVERITIES, Alert
from app.alerts.service import transition
from app.alerts.status import (
    ACTIONS,
    OPEN,
    TRANSITIONS,
    AlertStatus,
    StatusAction,
    TransitionNotAllowed,
    allowed_actions,
)
from app.triage.types import Category
from tests.support import make_key, post_twilio, sms_form

STATUS_ACTIONS: tuple[StatusAction, ...] = get_args(StatusAction)


class _Trail(Session):
    """A session with no database: what transition() appends to the audit trail."""

    @property
    def added(self) -> list[dict[str, Any]]:
        return chain.queued(self)


@pytest.mark.parametrize("status", list(AlertStatus))
@pytest.mark.parametrize("action", STATUS_ACTIONS)
def test_transition_follows_the_table(status: AlertStatus, action: StatusAction) -> None:
    alert = Alert(id=7, status=status)
    trail = _Trail()
    allowed = TRANSITIONS[status].get(action)
    if allowed is None:
        with pytest.raises(TransitionNotAllowed) as refused:
            transition(trail, alert, action, actor="apikey:1:JOC")
        assert refused.value.status_code == 409
        assert str(refused.value) == (
            f"cannot {action} an alert that is {status.value}; "
            f"allowed: {', '.join(allowed_actions(status))}"
        )
        assert alert.status == status and trail.added == []
        return
    left = transition(trail, alert, action, actor="apikey:1:JOC", note="seen")
    assert (left, alert.status) == (status, allowed)
    [event] = trail.added
    assert (event["alert_id"], event["from_status"], event["to_status"], event["note"]) == (
        7,
        status,
        allowed,
        "seen",
    )
    assert event["action"] == ("reopened" if action == "reopen" else allowed.value)


def test_the_table_as_the_operations_room_knows_it() -> None:
    assert OPEN == (AlertStatus.NEW, AlertStatus.ACKNOWLEDGED, AlertStatus.VERIFIED)
    assert allowed_actions(AlertStatus.NEW) == [
        "acknowledge", "verify", "resolve", "false_alarm", "assign", "note", "correct",
    ]  # fmt: skip
    assert allowed_actions(AlertStatus.VERIFIED) == [
        "resolve", "false_alarm", "assign", "note", "correct",
    ]  # fmt: skip
    for closed in (AlertStatus.RESOLVED, AlertStatus.FALSE_ALARM):
        assert allowed_actions(closed) == ["reopen", "assign", "note", "correct"]
        assert TRANSITIONS[closed] == {"reopen": AlertStatus.ACKNOWLEDGED}


async def _act(client: httpx.AsyncClient, key: dict[str, str], alert_id: int, action: str) -> Any:
    return await client.post(
        f"/api/v1/alerts/{alert_id}/actions", json={"action": action}, headers=key
    )


async def test_the_api_moves_and_refuses_as_the_table_says(
    client: httpx.AsyncClient, demo: None, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    key = {"Authorization": f"Bearer {await make_key(sessionmaker, 'operator')}"}
    sms = sms_form("+243810000101", "Attaque en cours a Mavivi")
    assert (await post_twilio(client, "/webhooks/twilio/sms", sms)).status_code == 200
    [alert] = (await client.get("/api/v1/alerts", headers=key)).json()["items"]
    walk: list[StatusAction] = [
        "acknowledge", "verify", "resolve", "reopen", "false_alarm", "reopen", "resolve",
    ]  # fmt: skip
    status = AlertStatus.NEW
    for action in walk:
        for refused in (a for a in STATUS_ACTIONS if a not in TRANSITIONS[status]):
            answer = await _act(client, key, alert["id"], refused)
            assert answer.status_code == 409, (status, refused)
            body = answer.json()
            assert body["error"] == "TransitionNotAllowed"
            assert body["allowed"] == allowed_actions(status)
            assert body["detail"].startswith(f"cannot {refused} an alert that is {status.value};")
        answer = await _act(client, key, alert["id"], action)
        assert answer.status_code == 200, answer.text
        status = TRANSITIONS[status][action]
        assert answer.json()["status"] == status.value
        assert answer.json()["events"][-1]["to_status"] == status.value


async def test_meta_lists_what_the_model_defines(
    client: httpx.AsyncClient, viewer_headers: dict[str, str]
) -> None:
    assert (await client.get("/api/v1/meta")).status_code == 401
    answer = await client.get("/api/v1/meta", headers=viewer_headers)
    assert answer.status_code == 200
    assert answer.json() == {
        "statuses": [s.value for s in AlertStatus],
        "open": [s.value for s in OPEN],
        "actions": list(ACTIONS),
        "transitions": {
            status.value: {action: to.value for action, to in moves.items()}
            for status, moves in TRANSITIONS.items()
        },
        "categories": list(get_args(Category)),
        "severities": list(SEVERITIES),
    }
