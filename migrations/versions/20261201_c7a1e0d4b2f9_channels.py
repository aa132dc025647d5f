"""channels: the ways in and out as data; routes of SMS deliveries; liaisons' channels

Revision ID: c7a1e0d4b2f9
Revises: 6c1e0a7b2d94
Create Date: 2026-12-01 22:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import app.kit.models


revision: str = 'c7a1e0d4b2f9'
down_revision: str | None = '6c1e0a7b2d94'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('channels',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('name', sa.String(length=32), nullable=False),
    sa.Column('numbers', sa.JSON(), nullable=False),
    sa.Column('options', sa.JSON(), nullable=False),
    sa.Column('secrets', sa.JSON(), nullable=False),
    sa.Column('zones', sa.JSON(), nullable=False),
    sa.Column('priority', sa.Integer(), nullable=False),
    sa.Column('rate_per_second', sa.Float(), nullable=False),
    sa.Column('burst', sa.Integer(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('heartbeat_seconds', sa.Integer(), nullable=True),
    sa.Column('last_inbound_at', app.kit.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('last_heartbeat_at', app.kit.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('down', sa.Boolean(), nullable=False),
    sa.Column('down_since', app.kit.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('down_reason', sa.String(length=200), nullable=True),
    sa.Column('created_at', app.kit.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', app.kit.models.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_channels')),
    sa.UniqueConstraint('name', name=op.f('uq_channels_name'))
    )
    with op.batch_alter_table('channels', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_channels_updated_at'), ['updated_at'], unique=False)

    with op.batch_alter_table('deliveries', schema=None) as batch_op:
        batch_op.add_column(sa.Column('route', sa.JSON(), nullable=False, server_default='[]'))
        batch_op.add_column(sa.Column('via', sa.String(length=32), nullable=True))

    with op.batch_alter_table('liaisons', schema=None) as batch_op:
        batch_op.add_column(sa.Column('channels', sa.JSON(), nullable=False, server_default='[]'))

    with op.batch_alter_table('delivery_attempts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('channel', sa.String(length=32), nullable=True))
        batch_op.create_index(batch_op.f('ix_delivery_attempts_channel'), ['channel'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('delivery_attempts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_delivery_attempts_channel'))
        batch_op.drop_column('channel')

    with op.batch_alter_table('liaisons', schema=None) as batch_op:
        batch_op.drop_column('channels')

    with op.batch_alter_table('deliveries', schema=None) as batch_op:
        batch_op.drop_column('via')
        batch_op.drop_column('route')

    with op.batch_alter_table('channels', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_channels_updated_at'))

    op.drop_table('channels')
