"""fewer index writes per message: indexes no query uses, the safety net's in one partial

Revision ID: b5d3e8a1c6f4
Revises: f4a8c1d2e6b9
Create Date: 2026-12-03 15:30:00

Every new version of a row writes an entry in every index of its table, and a change of an
indexed column keeps PostgreSQL from updating the row in place (a HOT update, no index
entry at all). A webhook wrote about 70 index entries. These indexes could serve no query:

- `updated_at` of every table but places (the gazetteer's fingerprint reads its newest edit)
  and alerts (retention finds closed alerts by it): nothing else filters or sorts by it, and
  an escalation's count of corroborating reports, which changes only `new_reports` and
  `updated_at`, can now be written in place;
- alerts' `admin1` and `admin2`: every filter on a province or a territory compares
  lower(admin1) or lower(admin2), which a plain index of the column cannot answer;
- alerts' `verified_result`: read only beside another column (a correction), or through the
  partial index of verdicts by reporter.

The safety net's two indexes of inbound messages, `status` and `next_attempt_at`, become one
partial index of the messages still `received` by (received_at, id), the order it reads
them in: a processed message, every message but a few, has no entry in it.

Dropping an index takes a short exclusive lock on its table and reads nothing; the partial
index reads inbound_messages once (a table retention keeps small; migrations run before the
gateway serves).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "b5d3e8a1c6f4"
down_revision: str | None = "f4a8c1d2e6b9"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# (table, column): the index is ix_<table>_<column>.
DROPPED = (
    ("alerts", "admin1"),
    ("alerts", "admin2"),
    ("alerts", "verified_result"),
    ("channels", "updated_at"),
    ("deliveries", "updated_at"),
    ("escalation_policies", "updated_at"),
    ("escalations", "updated_at"),
    ("incidents", "updated_at"),
    ("liaisons", "updated_at"),
    ("reporters", "updated_at"),
    ("webhook_subscriptions", "updated_at"),
)


STILL_RECEIVED = sa.text("status = 'received'")


def upgrade() -> None:
    for table, column in DROPPED:
        op.drop_index(f"ix_{table}_{column}", table_name=table)
    op.create_index(
        "ix_inbound_messages_received",
        "inbound_messages",
        ["received_at", "id"],
        postgresql_where=STILL_RECEIVED,
        sqlite_where=STILL_RECEIVED,
    )
    op.drop_index("ix_inbound_messages_status", table_name="inbound_messages")
    op.drop_index("ix_inbound_messages_next_attempt_at", table_name="inbound_messages")


def downgrade() -> None:
    op.create_index("ix_inbound_messages_next_attempt_at", "inbound_messages", ["next_attempt_at"])
    op.create_index("ix_inbound_messages_status", "inbound_messages", ["status"])
    op.drop_index("ix_inbound_messages_received", table_name="inbound_messages")
    for table, column in DROPPED:
        op.create_index(f"ix_{table}_{column}", table, [column])
