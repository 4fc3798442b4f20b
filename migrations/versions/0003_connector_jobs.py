"""connector jobs: reply delivery bookkeeping, dead letters, push receipts, rate-limit pauses

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28 16:39:42
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "connector_pause",
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("until", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reason", sa.String(length=300), nullable=False),
        sa.PrimaryKeyConstraint("channel", name=op.f("pk_connector_pause")),
    )
    op.create_table(
        "inbound_receipt",
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("dedupe_key", sa.String(length=128), nullable=False),
        sa.Column("case_id", BigId, nullable=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["hub_case.id"], name=op.f("fk_inbound_receipt_case_id_hub_case")),
        sa.PrimaryKeyConstraint("channel", "dedupe_key", name=op.f("pk_inbound_receipt")),
    )
    with op.batch_alter_table("inbound_receipt", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_inbound_receipt_received_at"), ["received_at"], unique=False)

    op.create_table(
        "dead_letter",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("job", sa.String(length=48), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=True),
        sa.Column("reply_id", BigId, nullable=True),
        sa.Column("ref", sa.String(length=128), nullable=True),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("error", sa.String(length=300), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["reply_id"], ["reply.id"], name=op.f("fk_dead_letter_reply_id_reply")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dead_letter")),
    )
    with op.batch_alter_table("dead_letter", schema=None) as batch_op:
        batch_op.create_index("ix_dead_letter_channel_created", ["channel", "created_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_dead_letter_reply_id"), ["reply_id"], unique=False)

    op.create_table(
        "reply_delivery",
        sa.Column("reply_id", BigId, nullable=False),
        sa.Column("in_flight_since", sa.DateTime(timezone=True), nullable=True),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("enqueued_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("channel_ref", sa.String(length=128), nullable=True),
        sa.ForeignKeyConstraint(["reply_id"], ["reply.id"], name=op.f("fk_reply_delivery_reply_id_reply")),
        sa.PrimaryKeyConstraint("reply_id", name=op.f("pk_reply_delivery")),
    )
    with op.batch_alter_table("reply_delivery", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_reply_delivery_next_attempt_at"), ["next_attempt_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("reply_delivery", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_reply_delivery_next_attempt_at"))
    op.drop_table("reply_delivery")
    with op.batch_alter_table("dead_letter", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_dead_letter_reply_id"))
        batch_op.drop_index("ix_dead_letter_channel_created")
    op.drop_table("dead_letter")
    with op.batch_alter_table("inbound_receipt", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_inbound_receipt_received_at"))
    op.drop_table("inbound_receipt")
    op.drop_table("connector_pause")
