"""humans in the loop: corrections, verification outcomes, alerts entered by hand

Revision ID: 6c1e0a7b2d94
Revises: 9c1e2a7d4b60
Create Date: 2026-12-01 22:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import app.kit.models


revision: str = '6c1e0a7b2d94'
down_revision: str | None = '9c1e2a7d4b60'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('alerts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('source', sa.String(length=8), nullable=True))
        batch_op.add_column(sa.Column('summary', sa.Text(), nullable=True))
        batch_op.add_column(
            sa.Column('occurred_at', app.kit.models.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(sa.Column('correction', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('verified_how', sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column('verified_result', sa.String(length=16), nullable=True))
        batch_op.add_column(
            sa.Column('verified_at', app.kit.models.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.create_index(
            batch_op.f('ix_alerts_verified_result'), ['verified_result'], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table('alerts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_alerts_verified_result'))
        batch_op.drop_column('verified_at')
        batch_op.drop_column('verified_result')
        batch_op.drop_column('verified_how')
        batch_op.drop_column('correction')
        batch_op.drop_column('occurred_at')
        batch_op.drop_column('summary')
        batch_op.drop_column('source')
