"""the worker's queue in an index: a claim reads the rows it takes, not the backlog

Revision ID: d9f1b3a5c7e2
Revises: c7e2a4b9d1f3
Create Date: 2026-12-06 02:00:00

A claim found a sending number's due rows by reading every due row of the table and sorting
them (receipts after the other SMS), and the senders with rows due by reading them all
again: two passes over the backlog per claim, about 30 ms of PostgreSQL at 20,000 rows
waiting, while the claim held the number's token bucket locked. A partial index of the
pending rows, in the order a claim takes them, lets a claim stop at its limit. The order's
first key, receipts and replies last, becomes a column (`queue_rank`) set when a row is
written, so that the index can hold it.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "d9f1b3a5c7e2"
down_revision: str | None = "c7e2a4b9d1f3"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PENDING = sa.text("status = 'pending'")


def upgrade() -> None:
    op.add_column(
        "deliveries",
        sa.Column("queue_rank", sa.SmallInteger(), nullable=False, server_default="0"),
    )
    op.execute("UPDATE deliveries SET queue_rank = 1 WHERE purpose IN ('reply', 'receipt')")
    op.create_index(
        "ix_deliveries_queue",
        "deliveries",
        ["channel", "sender", "queue_rank", "due_at", "id"],
        postgresql_where=PENDING,
        sqlite_where=PENDING,
    )


def downgrade() -> None:
    op.drop_index("ix_deliveries_queue", table_name="deliveries")
    with op.batch_alter_table("deliveries") as batch:
        batch.drop_column("queue_rank")
