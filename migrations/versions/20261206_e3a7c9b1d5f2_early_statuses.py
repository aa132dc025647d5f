"""a provider's status that came before its send was recorded is kept, not dropped

Revision ID: e3a7c9b1d5f2
Revises: d9f1b3a5c7e2
Create Date: 2026-12-06 10:30:00

A status callback whose message id no delivery had yet was looked for again for about two
seconds, then dropped: while the worker retried recording a send through a database blip,
Twilio's `failed` for that page was lost, and nobody else was paged until the escalation's
next step. Such a status is now kept here and applied once the send is recorded.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from app.kit.models import UTCDateTime

revision: str = "e3a7c9b1d5f2"
down_revision: str | None = "d9f1b3a5c7e2"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "early_statuses",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("provider_id", sa.String(length=64), nullable=False),
        sa.Column("channel", sa.String(length=64), nullable=True),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("error_code", sa.Integer(), nullable=True),
        sa.Column("received_at", UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_early_statuses")),
    )
    op.create_index(
        op.f("ix_early_statuses_provider_id"), "early_statuses", ["provider_id"], unique=False
    )
    op.create_index(
        op.f("ix_early_statuses_received_at"), "early_statuses", ["received_at"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_early_statuses_received_at"), table_name="early_statuses")
    op.drop_index(op.f("ix_early_statuses_provider_id"), table_name="early_statuses")
    op.drop_table("early_statuses")
