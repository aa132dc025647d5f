"""deliveries.of_zone: a page (or call) that went to a community liaison for their zone

Revision ID: b5d7f9a1c3e4
Revises: a4c6e8b0d2f3
Create Date: 2026-12-07 12:45:00

A page a worker was sending while its liaison was moved to other zones went back to them when
its send failed (a retry), though the alert was no longer their zone's: the zone's next
liaison was not paged until the escalation's next step. What the page was for is now on the
row: a page written because the alert is in its liaison's zones (app.escalation.paging.page)
is `of_zone`; one of a number a policy lists, or of a JOC officer, is not. Rows written before
read false (their retry goes to the liaison, as before).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "b5d7f9a1c3e4"
down_revision: str | None = "a4c6e8b0d2f3"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "deliveries",
        sa.Column("of_zone", sa.Boolean(), nullable=False, server_default=sa.text("false")),
    )


def downgrade() -> None:
    with op.batch_alter_table("deliveries") as batch:
        batch.drop_column("of_zone")
