"""retention marks (purged bits) and hash chains of alert events and the audit log

Revision ID: e3b9d2c4a7f1
Revises: c7a1e0d4b2f9
Create Date: 2026-12-02 01:00:00

Existing rows get their hashes here, chain by chain in id order, from the values stored
now (plain text: this revision must run before any that encrypts these columns).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import app.kit.models
from app.alerts.chain import event_digest
from app.audit.chain import GENESIS, audit_digest

revision: str = 'e3b9d2c4a7f1'
down_revision: str | None = 'c7a1e0d4b2f9'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PURGED_TABLES = ('alerts', 'inbound_messages', 'deliveries')
CHAINED_TABLES = ('alert_events', 'audit_log')

_events = sa.table(
    'alert_events',
    sa.column('id', sa.Integer()),
    sa.column('alert_id', sa.Integer()),
    sa.column('at', app.kit.models.UTCDateTime(timezone=True)),
    sa.column('actor', sa.String()),
    sa.column('action', sa.String()),
    sa.column('from_status', sa.String()),
    sa.column('to_status', sa.String()),
    sa.column('detail', sa.JSON()),
    sa.column('note', sa.Text()),
    sa.column('prev_hash', sa.String()),
    sa.column('hash', sa.String()),
)
_audit = sa.table(
    'audit_log',
    sa.column('id', sa.Integer()),
    sa.column('at', app.kit.models.UTCDateTime(timezone=True)),
    sa.column('actor', sa.String()),
    sa.column('action', sa.String()),
    sa.column('target_type', sa.String()),
    sa.column('target_id', sa.String()),
    sa.column('detail', sa.JSON()),
    sa.column('prev_hash', sa.String()),
    sa.column('hash', sa.String()),
)


def upgrade() -> None:
    for table in PURGED_TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(
                sa.Column('purged', sa.Integer(), server_default='0', nullable=False)
            )
    for table in CHAINED_TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column('prev_hash', sa.String(length=64), nullable=True))
            batch_op.add_column(sa.Column('hash', sa.String(length=64), nullable=True))
    bind = op.get_bind()
    heads: dict[int, str] = {}
    rows = bind.execute(sa.select(_events).order_by(_events.c.alert_id, _events.c.id)).mappings()
    for row in rows.all():
        prev = heads.get(row['alert_id'], GENESIS)
        digest = event_digest(row, prev)
        heads[row['alert_id']] = digest
        bind.execute(
            _events.update().where(_events.c.id == row['id']).values(prev_hash=prev, hash=digest)
        )
    head = GENESIS
    for row in bind.execute(sa.select(_audit).order_by(_audit.c.id)).mappings().all():
        digest = audit_digest(row, head)
        bind.execute(
            _audit.update().where(_audit.c.id == row['id']).values(prev_hash=head, hash=digest)
        )
        head = digest


def downgrade() -> None:
    for table in CHAINED_TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column('hash')
            batch_op.drop_column('prev_hash')
    for table in PURGED_TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column('purged')
