"""indexes of the request path: an alert's trail head, a reporter's verdicts

Revision ID: f4a8c1d2e6b9
Revises: e2c4a9f1b3d7
Create Date: 2026-12-02 12:00:00

alert_events (alert_id) becomes (alert_id, id): the head of an alert's trail (its last event)
is one index step, instead of a backward scan of every alert's events or a sort of the
trail. alerts gets a partial index of the alerts humans judged (confirmed, not confirmed,
false alarm) by reporter and time, with the columns the reliability count reads: that count,
made on every report, read all of the reporter's alerts of the last 90 days.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "f4a8c1d2e6b9"
down_revision: str | None = "e2c4a9f1b3d7"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

VERDICT = sa.text("verified_result IS NOT NULL OR status = 'false_alarm'")


def upgrade() -> None:
    op.create_index("ix_alert_events_alert_id_id", "alert_events", ["alert_id", "id"])
    op.drop_index("ix_alert_events_alert_id", table_name="alert_events")
    op.create_index(
        "ix_alerts_reporter_id_verdicts",
        "alerts",
        ["reporter_id", "received_at"],
        postgresql_include=["verified_result", "status"],
        postgresql_where=VERDICT,
        sqlite_where=VERDICT,
    )


def downgrade() -> None:
    op.drop_index("ix_alerts_reporter_id_verdicts", table_name="alerts")
    op.create_index("ix_alert_events_alert_id", "alert_events", ["alert_id"])
    op.drop_index("ix_alert_events_alert_id_id", table_name="alert_events")
