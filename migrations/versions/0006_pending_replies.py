"""pending replies: a partial index for the outbox sweep

The scheduler's outbox sweep asks every minute for PENDING replies nobody works on. Without an index on the
status it read the whole reply table: about a second at 1,000,000 delivered replies (bench/README.md), inside
the API process's event loop when the scheduler is embedded. ``ix_reply_pending`` holds the few pending ones.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-28 20:50:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

PENDING = "delivery_status = 'PENDING'"


def upgrade() -> None:
    with op.batch_alter_table("reply", schema=None) as batch_op:
        batch_op.create_index(
            "ix_reply_pending", ["id"], unique=False, postgresql_where=sa.text(PENDING), sqlite_where=sa.text(PENDING)
        )


def downgrade() -> None:
    with op.batch_alter_table("reply", schema=None) as batch_op:
        batch_op.drop_index("ix_reply_pending")
