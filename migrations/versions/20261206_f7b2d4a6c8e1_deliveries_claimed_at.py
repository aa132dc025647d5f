"""when a delivery's send was claimed: a status kept from before then is of an earlier send

Revision ID: f7b2d4a6c8e1
Revises: e3a7c9b1d5f2
Create Date: 2026-12-06 14:00:00

Every handset knows a page by the same id (`kengele-<delivery id>`). A report of handset A's
send that came after the page went on to handset B was kept (no delivery of A's had the id),
and applied once the page came back to A and A's second send was recorded: a stale `failed`
failed a send that went through, a stale `delivered` marked delivered one that never arrived.
A kept status now applies only to a send claimed before it came.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from app.kit.models import UTCDateTime

revision: str = "f7b2d4a6c8e1"
down_revision: str | None = "e3a7c9b1d5f2"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("deliveries", sa.Column("claimed_at", UTCDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("deliveries") as batch:
        batch.drop_column("claimed_at")
