"""encryption at rest: numbers, texts and notes encrypted; numbers found by a keyed hash

Revision ID: e2c4a9f1b3d7
Revises: c7a1e0d4b2f9
Create Date: 2026-12-02 01:30:00

The upgrade encrypts the rows already stored, in batches, with the keys of the settings
(app/kit/crypto.py); the downgrade writes them back in clear. A SQLite file keeps old pages
until it is vacuumed: see docs/DATA_PROTECTION.md.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

from app.kit import crypto

revision: str = "e2c4a9f1b3d7"
down_revision: str | None = "e3b9d2c4a7f1"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BATCH = 500
# table: (number column, hash column) or None
NUMBERS = {
    "reporters": ("phone", "phone_hash"),
    "liaisons": ("phone", "phone_hash"),
    "alerts": ("from_phone", "from_phone_hash"),
    "inbound_messages": ("from_phone", "from_phone_hash"),
    "deliveries": ("recipient", "recipient_hash"),
}
TEXTS = {
    "reporters": ["phone"],
    "liaisons": ["phone"],
    "alerts": ["from_phone", "body", "summary"],
    "alert_events": ["note"],
    "inbound_messages": ["from_phone", "body", "last_error", "reply"],
    "deliveries": ["recipient", "body", "last_error"],
    "delivery_attempts": ["error"],
}
DOCUMENTS = {
    "escalation_policies": ["document"],
    "escalations": ["policy"],
    "alerts": ["correction"],
    "alert_events": ["detail"],
    "inbound_messages": ["raw"],
}
OLD_LENGTH = {
    ("reporters", "phone"): 20,
    ("liaisons", "phone"): 20,
    ("alerts", "from_phone"): 32,
    ("inbound_messages", "from_phone"): 32,
    ("deliveries", "recipient"): 2048,
}


def _rewrite(table_name: str, forward: bool) -> None:
    """Encrypt (forward) or decrypt every text and document of a table, BATCH rows at a time."""
    texts = TEXTS.get(table_name, [])
    documents = DOCUMENTS.get(table_name, [])
    number = NUMBERS.get(table_name)
    columns = [sa.column(c, sa.Text) for c in texts] + [sa.column(c, sa.JSON) for c in documents]
    if number and forward:
        columns.append(sa.column(number[1], sa.String))
    table = sa.table(table_name, sa.column("id", sa.Integer), *columns)
    read = [sa.cast(table.c[c], sa.Text).label(c) for c in documents]
    conn = op.get_bind()
    ring = crypto.keyring()
    last = 0
    while True:
        rows = conn.execute(
            sa.select(table.c.id, *[table.c[c] for c in texts], *read)
            .where(table.c.id > last)
            .order_by(table.c.id)
            .limit(BATCH)
        ).all()
        if not rows:
            return
        for row in rows:
            values: dict[str, Any] = {}
            for c in texts:
                value = getattr(row, c)
                if value:
                    values[c] = ring.encrypt(ring.decrypt(value)) if forward else ring.decrypt(value)
            for c in documents:
                document = json.loads(getattr(row, c)) if getattr(row, c) else None
                if forward and document is not None and not isinstance(document, str):
                    text = json.dumps(document, ensure_ascii=False, separators=(",", ":"))
                    values[c] = ring.encrypt(text)
                elif not forward and isinstance(document, str):
                    values[c] = json.loads(ring.decrypt(document))
            if number and forward:
                phone = getattr(row, number[0])
                values[number[1]] = ring.lookup_hash(ring.decrypt(phone)) if phone else None
            if values:
                conn.execute(sa.update(table).where(table.c.id == row.id).values(**values))
        last = rows[-1].id


def upgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    for name in ("reporters", "liaisons"):
        with op.batch_alter_table(name) as batch:
            batch.drop_constraint(f"uq_{name}_phone", type_="unique")
            batch.alter_column("phone", type_=sa.String(), existing_nullable=False)
            batch.add_column(sa.Column("phone_hash", sa.String(length=64), nullable=True))
            batch.create_unique_constraint(f"uq_{name}_phone_hash", ["phone_hash"])
    op.drop_index("ix_alerts_from_phone_received_at", table_name="alerts")
    op.drop_index("ix_inbound_messages_from_phone", table_name="inbound_messages")
    op.drop_index("ix_deliveries_recipient_created_at", table_name="deliveries")
    for name in ("alerts", "inbound_messages", "deliveries"):
        column, hashed = NUMBERS[name]
        op.add_column(name, sa.Column(hashed, sa.String(length=64), nullable=True))
        if not sqlite:  # SQLite does not hold a VARCHAR to its length
            op.alter_column(name, column, type_=sa.String(), existing_nullable=False)
    for name in TEXTS.keys() | DOCUMENTS.keys():
        _rewrite(name, forward=True)
    op.create_index(
        "ix_alerts_from_phone_hash_received_at", "alerts", ["from_phone_hash", "received_at"]
    )
    op.create_index(
        "ix_inbound_messages_from_phone_hash", "inbound_messages", ["from_phone_hash"]
    )
    op.create_index(
        "ix_deliveries_recipient_hash_created_at", "deliveries", ["recipient_hash", "created_at"]
    )


def downgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    for name in TEXTS.keys() | DOCUMENTS.keys():
        _rewrite(name, forward=False)
    op.drop_index("ix_deliveries_recipient_hash_created_at", table_name="deliveries")
    op.drop_index("ix_inbound_messages_from_phone_hash", table_name="inbound_messages")
    op.drop_index("ix_alerts_from_phone_hash_received_at", table_name="alerts")
    for name in ("alerts", "inbound_messages", "deliveries"):
        column, hashed = NUMBERS[name]
        if sqlite:  # in place: a batch would copy tables other rows cascade from
            op.execute(f"ALTER TABLE {name} DROP COLUMN {hashed}")
        else:
            op.drop_column(name, hashed)
            op.alter_column(
                name, column, type_=sa.String(OLD_LENGTH[(name, column)]), existing_nullable=False
            )
    op.create_index("ix_deliveries_recipient_created_at", "deliveries", ["recipient", "created_at"])
    op.create_index("ix_inbound_messages_from_phone", "inbound_messages", ["from_phone"])
    op.create_index("ix_alerts_from_phone_received_at", "alerts", ["from_phone", "received_at"])
    for name in ("reporters", "liaisons"):
        with op.batch_alter_table(name) as batch:
            batch.drop_constraint(f"uq_{name}_phone_hash", type_="unique")
            batch.drop_column("phone_hash")
            batch.alter_column("phone", type_=sa.String(20), existing_nullable=False)
            batch.create_unique_constraint(f"uq_{name}_phone", ["phone"])
