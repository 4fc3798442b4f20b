"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-28 16:17:56.492858
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table(
        "calendar_override",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column(
            "kind", sa.Enum("HOLIDAY", "WORKDAY", name="calendardaykind", native_enum=False, length=32), nullable=False
        ),
        sa.Column("note", sa.String(length=200), nullable=True),
        sa.Column("created_by", sa.String(length=128), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("day", name=op.f("pk_calendar_override")),
    )
    op.create_table(
        "case_counter",
        sa.Column("day", sa.String(length=8), nullable=False),
        sa.Column("value", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("day", name=op.f("pk_case_counter")),
    )
    op.create_table(
        "category",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("path", sa.String(length=200), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("level", sa.Integer(), nullable=False),
        sa.Column("parent_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.ForeignKeyConstraint(["parent_id"], ["category.id"], name=op.f("fk_category_parent_id_category")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_category")),
        sa.UniqueConstraint("path", name=op.f("uq_category_path")),
    )
    with op.batch_alter_table("category", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_category_parent_id"), ["parent_id"], unique=False)

    op.create_table(
        "citizen",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("name", sa.String(length=100), nullable=True),
        sa.Column("phone", sa.String(length=32), nullable=True),
        sa.Column("id_number", sa.String(length=32), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_citizen")),
    )
    with op.batch_alter_table("citizen", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_citizen_phone"), ["phone"], unique=False)

    op.create_table(
        "connector_state",
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("cursor", sa.Text(), nullable=True),
        sa.Column("last_success_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.String(length=300), nullable=True),
        sa.Column("last_error_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("error_count", sa.Integer(), nullable=False),
        sa.Column("ingested_count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("channel", name=op.f("pk_connector_state")),
    )
    op.create_table(
        "department",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("parent_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("region", sa.String(length=64), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["parent_id"], ["department.id"], name=op.f("fk_department_parent_id_department")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_department")),
        sa.UniqueConstraint("code", name=op.f("uq_department_code")),
    )
    with op.batch_alter_table("department", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_department_parent_id"), ["parent_id"], unique=False)

    op.create_table(
        "read_log",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("subject", sa.String(length=128), nullable=False),
        sa.Column("role", sa.String(length=32), nullable=False),
        sa.Column("department", sa.String(length=32), nullable=True),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("target", sa.Text(), nullable=True),
        sa.Column("request_id", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_read_log")),
    )
    with op.batch_alter_table("read_log", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_read_log_at"), ["at"], unique=False)
        batch_op.create_index(batch_op.f("ix_read_log_subject"), ["subject"], unique=False)

    op.create_table(
        "signing_key",
        sa.Column("kid", sa.String(length=64), nullable=False),
        sa.Column("private_jwk", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("retired_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("kid", name=op.f("pk_signing_key")),
    )
    op.create_table(
        "citizen_identity",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("citizen_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("value", sa.String(length=128), nullable=False),
        sa.Column("bound_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["citizen_id"], ["citizen.id"], name=op.f("fk_citizen_identity_citizen_id_citizen")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_citizen_identity")),
        sa.UniqueConstraint("kind", "value", name=op.f("uq_citizen_identity_kind_value")),
    )
    with op.batch_alter_table("citizen_identity", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_citizen_identity_citizen_id"), ["citizen_id"], unique=False)

    op.create_table(
        "hub_case",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("case_no", sa.String(length=32), nullable=False),
        sa.Column(
            "channel",
            sa.Enum("HOTLINE", "WEBSITE", "WEIBO", "WECHAT", name="channel", native_enum=False, length=32),
            nullable=False,
        ),
        sa.Column("external_id", sa.String(length=128), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "CONSULTATION",
                "HELP",
                "COMPLAINT",
                "REPORT",
                "SUGGESTION",
                "PRAISE",
                "OTHER",
                name="casekind",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column(
            "status",
            sa.Enum(
                "RECEIVED",
                "DISPATCHED",
                "CLAIMED",
                "ANSWERED",
                "CLOSED",
                "MERGED",
                name="casestatus",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("urgency", sa.Enum("NORMAL", "URGENT", name="urgency", native_enum=False, length=32), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("category", sa.String(length=32), nullable=True),
        sa.Column("suggested_category", sa.String(length=32), nullable=True),
        sa.Column("suggestion_confidence", sa.Float(), nullable=True),
        sa.Column("address", sa.String(length=300), nullable=True),
        sa.Column("region", sa.String(length=64), nullable=True),
        sa.Column("citizen_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("lead_department_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("merged_into_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("dispatched_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("sign_deadline", sa.DateTime(timezone=True), nullable=True),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("return_deadline", sa.DateTime(timezone=True), nullable=True),
        sa.Column("overdue", sa.Boolean(), nullable=False),
        sa.Column(
            "satisfaction",
            sa.Enum(
                "SATISFIED", "BASICALLY_SATISFIED", "DISSATISFIED", name="satisfaction", native_enum=False, length=32
            ),
            nullable=True,
        ),
        sa.Column("solved", sa.Boolean(), nullable=True),
        sa.Column("return_count", sa.Integer(), nullable=False),
        sa.Column("extension_count", sa.Integer(), nullable=False),
        sa.Column("reopen_count", sa.Integer(), nullable=False),
        sa.Column("supervised", sa.Boolean(), nullable=False),
        sa.Column(
            "reply_to", sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"), nullable=False
        ),
        sa.Column("raw_payload", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["citizen_id"], ["citizen.id"], name=op.f("fk_hub_case_citizen_id_citizen")),
        sa.ForeignKeyConstraint(
            ["lead_department_id"], ["department.id"], name=op.f("fk_hub_case_lead_department_id_department")
        ),
        sa.ForeignKeyConstraint(["merged_into_id"], ["hub_case.id"], name=op.f("fk_hub_case_merged_into_id_hub_case")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_hub_case")),
        sa.UniqueConstraint("case_no", name=op.f("uq_hub_case_case_no")),
        sa.UniqueConstraint("channel", "external_id", name=op.f("uq_hub_case_channel_external_id")),
    )
    with op.batch_alter_table("hub_case", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_hub_case_category"), ["category"], unique=False)
        batch_op.create_index(batch_op.f("ix_hub_case_citizen_id"), ["citizen_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_hub_case_due_at"), ["due_at"], unique=False)
        batch_op.create_index("ix_hub_case_lead_status", ["lead_department_id", "status"], unique=False)
        batch_op.create_index(batch_op.f("ix_hub_case_merged_into_id"), ["merged_into_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_hub_case_received_at"), ["received_at"], unique=False)
        batch_op.create_index("ix_hub_case_status_received", ["status", "received_at"], unique=False)

    op.create_table(
        "hub_user",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("subject", sa.String(length=128), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column(
            "roles", sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"), nullable=False
        ),
        sa.Column("department_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["department_id"], ["department.id"], name=op.f("fk_hub_user_department_id_department")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_hub_user")),
        sa.UniqueConstraint("subject", name=op.f("uq_hub_user_subject")),
    )
    with op.batch_alter_table("hub_user", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_hub_user_department_id"), ["department_id"], unique=False)

    op.create_table(
        "routing_rule",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("category", sa.String(length=32), nullable=True),
        sa.Column(
            "keywords", sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"), nullable=False
        ),
        sa.Column("region", sa.String(length=64), nullable=True),
        sa.Column("channel", sa.String(length=16), nullable=True),
        sa.Column("kind", sa.String(length=16), nullable=True),
        sa.Column("lead_department_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "co_department_ids",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("auto_dispatch", sa.Boolean(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["lead_department_id"], ["department.id"], name=op.f("fk_routing_rule_lead_department_id_department")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_routing_rule")),
    )
    op.create_table(
        "service_client",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("client_id", sa.String(length=128), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("secret_hash", sa.String(length=255), nullable=False),
        sa.Column(
            "roles", sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"), nullable=False
        ),
        sa.Column("department_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["department_id"], ["department.id"], name=op.f("fk_service_client_department_id_department")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_service_client")),
        sa.UniqueConstraint("client_id", name=op.f("uq_service_client_client_id")),
    )
    with op.batch_alter_table("service_client", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_service_client_department_id"), ["department_id"], unique=False)

    op.create_table(
        "callback",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("case_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("recorded_by", sa.String(length=128), nullable=False),
        sa.Column(
            "satisfaction",
            sa.Enum(
                "SATISFIED", "BASICALLY_SATISFIED", "DISSATISFIED", name="satisfaction", native_enum=False, length=32
            ),
            nullable=False,
        ),
        sa.Column("solved", sa.Boolean(), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["hub_case.id"], name=op.f("fk_callback_case_id_hub_case")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_callback")),
    )
    with op.batch_alter_table("callback", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_callback_case_id"), ["case_id"], unique=False)

    op.create_table(
        "case_co_department",
        sa.Column("case_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("department_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["hub_case.id"], name=op.f("fk_case_co_department_case_id_hub_case")),
        sa.ForeignKeyConstraint(
            ["department_id"], ["department.id"], name=op.f("fk_case_co_department_department_id_department")
        ),
        sa.PrimaryKeyConstraint("case_id", "department_id", name=op.f("pk_case_co_department")),
    )
    with op.batch_alter_table("case_co_department", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_case_co_department_department_id"), ["department_id"], unique=False)

    op.create_table(
        "case_event",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("case_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("actor_subject", sa.String(length=128), nullable=False),
        sa.Column("actor_role", sa.String(length=32), nullable=False),
        sa.Column("actor_department", sa.String(length=32), nullable=True),
        sa.Column("from_status", sa.String(length=16), nullable=True),
        sa.Column("to_status", sa.String(length=16), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column(
            "payload", sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"), nullable=False
        ),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["hub_case.id"], name=op.f("fk_case_event_case_id_hub_case")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_event")),
        sa.UniqueConstraint("case_id", "seq", name=op.f("uq_case_event_case_id_seq")),
    )
    with op.batch_alter_table("case_event", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_case_event_action"), ["action"], unique=False)
        batch_op.create_index(batch_op.f("ix_case_event_at"), ["at"], unique=False)
        batch_op.create_index(batch_op.f("ix_case_event_case_id"), ["case_id"], unique=False)

    op.create_table(
        "extension_request",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("case_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("department_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("requested_by", sa.String(length=128), nullable=False),
        sa.Column("working_days", sa.Integer(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column(
            "status",
            sa.Enum("PENDING", "APPROVED", "REJECTED", name="extensionstatus", native_enum=False, length=32),
            nullable=False,
        ),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_by", sa.String(length=128), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decision_note", sa.Text(), nullable=True),
        sa.Column("old_due_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("new_due_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["case_id"], ["hub_case.id"], name=op.f("fk_extension_request_case_id_hub_case")),
        sa.ForeignKeyConstraint(
            ["department_id"], ["department.id"], name=op.f("fk_extension_request_department_id_department")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_extension_request")),
    )
    with op.batch_alter_table("extension_request", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_extension_request_case_id"), ["case_id"], unique=False)

    op.create_table(
        "reply",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("case_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("department_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("author_subject", sa.String(length=128), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column(
            "channel",
            sa.Enum("HOTLINE", "WEBSITE", "WEIBO", "WECHAT", name="channel", native_enum=False, length=32),
            nullable=False,
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "delivery_status",
            sa.Enum(
                "PENDING", "DELIVERED", "FAILED", "WINDOW_CLOSED", name="deliverystatus", native_enum=False, length=32
            ),
            nullable=False,
        ),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("idempotency_key", sa.String(length=64), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.String(length=300), nullable=True),
        sa.ForeignKeyConstraint(["case_id"], ["hub_case.id"], name=op.f("fk_reply_case_id_hub_case")),
        sa.ForeignKeyConstraint(["department_id"], ["department.id"], name=op.f("fk_reply_department_id_department")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reply")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_reply_idempotency_key")),
    )
    with op.batch_alter_table("reply", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_reply_case_id"), ["case_id"], unique=False)

    op.create_table(
        "supervision_order",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("case_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("department_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("issued_by", sa.String(length=128), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("deadline", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "status",
            sa.Enum("OPEN", "RESPONDED", name="supervisionstatus", native_enum=False, length=32),
            nullable=False,
        ),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("response", sa.Text(), nullable=True),
        sa.Column("responded_by", sa.String(length=128), nullable=True),
        sa.Column("responded_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["case_id"], ["hub_case.id"], name=op.f("fk_supervision_order_case_id_hub_case")),
        sa.ForeignKeyConstraint(
            ["department_id"], ["department.id"], name=op.f("fk_supervision_order_department_id_department")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_supervision_order")),
    )
    with op.batch_alter_table("supervision_order", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_supervision_order_case_id"), ["case_id"], unique=False)


def downgrade() -> None:

    with op.batch_alter_table("supervision_order", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_supervision_order_case_id"))

    op.drop_table("supervision_order")
    with op.batch_alter_table("reply", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_reply_case_id"))

    op.drop_table("reply")
    with op.batch_alter_table("extension_request", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_extension_request_case_id"))

    op.drop_table("extension_request")
    with op.batch_alter_table("case_event", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_case_event_case_id"))
        batch_op.drop_index(batch_op.f("ix_case_event_at"))
        batch_op.drop_index(batch_op.f("ix_case_event_action"))

    op.drop_table("case_event")
    with op.batch_alter_table("case_co_department", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_case_co_department_department_id"))

    op.drop_table("case_co_department")
    with op.batch_alter_table("callback", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_callback_case_id"))

    op.drop_table("callback")
    with op.batch_alter_table("service_client", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_service_client_department_id"))

    op.drop_table("service_client")
    op.drop_table("routing_rule")
    with op.batch_alter_table("hub_user", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_hub_user_department_id"))

    op.drop_table("hub_user")
    with op.batch_alter_table("hub_case", schema=None) as batch_op:
        batch_op.drop_index("ix_hub_case_status_received")
        batch_op.drop_index(batch_op.f("ix_hub_case_received_at"))
        batch_op.drop_index(batch_op.f("ix_hub_case_merged_into_id"))
        batch_op.drop_index("ix_hub_case_lead_status")
        batch_op.drop_index(batch_op.f("ix_hub_case_due_at"))
        batch_op.drop_index(batch_op.f("ix_hub_case_citizen_id"))
        batch_op.drop_index(batch_op.f("ix_hub_case_category"))

    op.drop_table("hub_case")
    with op.batch_alter_table("citizen_identity", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_citizen_identity_citizen_id"))

    op.drop_table("citizen_identity")
    op.drop_table("signing_key")
    with op.batch_alter_table("read_log", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_read_log_subject"))
        batch_op.drop_index(batch_op.f("ix_read_log_at"))

    op.drop_table("read_log")
    with op.batch_alter_table("department", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_department_parent_id"))

    op.drop_table("department")
    op.drop_table("connector_state")
    with op.batch_alter_table("citizen", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_citizen_phone"))

    op.drop_table("citizen")
    with op.batch_alter_table("category", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_category_parent_id"))

    op.drop_table("category")
    op.drop_table("case_counter")
    op.drop_table("calendar_override")
