"""co-departments of open cases: a flag kept by triggers and a partial index for inboxes

An inbox counts the open cases its department co-handles. ``case_co_department`` keeps every co-handling of the
district's history (21,390 rows for 住建局 in the 1,000,000-case bench), so the count hashed all of them against
every open case: ~6 ms of the inbox's ~8 ms of SQL. ``case_open`` says whether the row's case is open now
(``hub.cases.models.OPEN_STATUSES_SQL``); the database keeps it, on insert of a row and on every status change of
its case, so no code path can forget it, and ``ix_case_co_department_open`` holds the few open rows.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-28 23:20:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

OPEN = "('RECEIVED', 'DISPATCHED', 'CLAIMED', 'ANSWERED')"
PG_FUNCTIONS = f"""
CREATE OR REPLACE FUNCTION case_co_department_open_on_insert() RETURNS trigger AS $$
BEGIN
    NEW.case_open := COALESCE((SELECT status IN {OPEN} FROM hub_case WHERE id = NEW.case_id), true);
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
CREATE OR REPLACE FUNCTION case_co_department_follow_status() RETURNS trigger AS $$
BEGIN
    UPDATE case_co_department SET case_open = (NEW.status IN {OPEN})
    WHERE case_id = NEW.id AND case_open IS DISTINCT FROM (NEW.status IN {OPEN});
    RETURN NULL;
END;
$$ LANGUAGE plpgsql
"""


def upgrade() -> None:
    with op.batch_alter_table("case_co_department", schema=None) as batch_op:
        batch_op.add_column(sa.Column("case_open", sa.Boolean(), server_default=sa.true(), nullable=False))
    op.execute(
        "UPDATE case_co_department SET case_open = "
        f"(SELECT hub_case.status IN {OPEN} FROM hub_case WHERE hub_case.id = case_co_department.case_id)"
    )
    with op.batch_alter_table("case_co_department", schema=None) as batch_op:
        batch_op.create_index(
            "ix_case_co_department_open",
            ["department_id", "case_id"],
            unique=False,
            postgresql_where=sa.text("case_open"),
            sqlite_where=sa.text("case_open"),
        )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(PG_FUNCTIONS)
        op.execute(
            "CREATE TRIGGER case_co_department_open BEFORE INSERT ON case_co_department "
            "FOR EACH ROW EXECUTE FUNCTION case_co_department_open_on_insert()"
        )
        op.execute(
            "CREATE TRIGGER hub_case_co_departments_follow AFTER UPDATE OF status ON hub_case "
            "FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status) "
            "EXECUTE FUNCTION case_co_department_follow_status()"
        )
    else:
        op.execute(
            "CREATE TRIGGER case_co_department_open AFTER INSERT ON case_co_department BEGIN "
            f"UPDATE case_co_department SET case_open = "
            f"COALESCE((SELECT status IN {OPEN} FROM hub_case WHERE id = NEW.case_id), 1) "
            "WHERE case_id = NEW.case_id AND department_id = NEW.department_id; END"
        )
        op.execute(
            "CREATE TRIGGER hub_case_co_departments_follow AFTER UPDATE OF status ON hub_case "
            "WHEN OLD.status IS NOT NEW.status BEGIN "
            f"UPDATE case_co_department SET case_open = (NEW.status IN {OPEN}) WHERE case_id = NEW.id; END"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS hub_case_co_departments_follow ON hub_case")
        op.execute("DROP TRIGGER IF EXISTS case_co_department_open ON case_co_department")
        op.execute("DROP FUNCTION IF EXISTS case_co_department_follow_status()")
        op.execute("DROP FUNCTION IF EXISTS case_co_department_open_on_insert()")
    else:
        op.execute("DROP TRIGGER IF EXISTS hub_case_co_departments_follow")
        op.execute("DROP TRIGGER IF EXISTS case_co_department_open")
    with op.batch_alter_table("case_co_department", schema=None) as batch_op:
        batch_op.drop_index("ix_case_co_department_open")
        batch_op.drop_column("case_open")
