"""pending intake: pushed messages answered with a reserved case number, their cases created after the reply

``pending_intake`` holds each verified WeChat message (its parsed draft) with the case number its passive reply
named, until a job creates the case with exactly that number, writes the message's receipt and deletes the row
in the same transaction (a redelivery meanwhile finds the pending row). ``inbound_receipt.case_no`` keeps the
number a receipt was answered with.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-28 22:20:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    with op.batch_alter_table("inbound_receipt", schema=None) as batch_op:
        batch_op.add_column(sa.Column("case_no", sa.String(length=32), nullable=True))
    op.create_table(
        "pending_intake",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("external_id", sa.String(length=128), nullable=False),
        sa.Column("case_no", sa.String(length=32), nullable=False),
        sa.Column("dedupe_key", sa.String(length=128), nullable=True),
        sa.Column("draft", sa.Text(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pending_intake")),
        sa.UniqueConstraint("channel", "external_id", name=op.f("uq_pending_intake_channel_external_id")),
    )


def downgrade() -> None:
    op.drop_table("pending_intake")
    with op.batch_alter_table("inbound_receipt", schema=None) as batch_op:
        batch_op.drop_column("case_no")
