"""place level: alerts and incidents at an administrative area carry its level

Revision ID: 9c1e2a7d4b60
Revises: 4ed0d71b675a
Create Date: 2026-12-01 22:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "9c1e2a7d4b60"
down_revision: str | None = "4ed0d71b675a"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    for table in ("alerts", "incidents"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column("place_level", sa.String(length=32), nullable=True))


def downgrade() -> None:
    for table in ("incidents", "alerts"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column("place_level")
