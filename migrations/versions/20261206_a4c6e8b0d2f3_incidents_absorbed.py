"""incidents.absorbed: merged into another by an operator, one event with it

Revision ID: a4c6e8b0d2f3
Revises: f7b2d4a6c8e1
Create Date: 2026-12-06 19:40:00

A report of the place of an incident the operations room merged into another opened a third
incident (the search for one to join reads open incidents only), paged apart. It now joins
the incident merged into, while that one is open and active within the corroboration
window (an index of merged_into_id finds those merged into it). `merged_into_id` is also set
when a correction moves an incident's only report elsewhere, which says only that a place
was misread: this column tells the two apart. Incidents merged before it read false (a report of their place is paged apart, as
before).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "a4c6e8b0d2f3"
down_revision: str | None = "f7b2d4a6c8e1"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


MERGED = sa.text("merged_into_id IS NOT NULL")


def upgrade() -> None:
    op.add_column(
        "incidents",
        sa.Column("absorbed", sa.Boolean(), nullable=False, server_default=sa.text("false")),
    )
    # The search goes from the open incidents to those merged into them, and a merge points
    # those merged into the incident it closes at the one it goes into.
    op.create_index(
        "ix_incidents_merged_into_id",
        "incidents",
        ["merged_into_id"],
        postgresql_where=MERGED,
        sqlite_where=MERGED,
    )


def downgrade() -> None:
    op.drop_index("ix_incidents_merged_into_id", table_name="incidents")
    with op.batch_alter_table("incidents") as batch:
        batch.drop_column("absorbed")
