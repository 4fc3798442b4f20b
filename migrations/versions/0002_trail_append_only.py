"""case_event is append-only: the database refuses UPDATE and DELETE

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28 16:30:00
"""

from __future__ import annotations

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

PG_FUNCTION = """
CREATE OR REPLACE FUNCTION case_event_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'case_event is append-only: % refused', TG_OP USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql
"""


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(PG_FUNCTION)
        op.execute(
            "CREATE TRIGGER case_event_no_update_delete BEFORE UPDATE OR DELETE ON case_event "
            "FOR EACH ROW EXECUTE FUNCTION case_event_append_only()"
        )
        op.execute(
            "CREATE TRIGGER case_event_no_truncate BEFORE TRUNCATE ON case_event "
            "FOR EACH STATEMENT EXECUTE FUNCTION case_event_append_only()"
        )
    else:
        for verb in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER case_event_no_{verb.lower()} BEFORE {verb} ON case_event "
                f"BEGIN SELECT RAISE(ABORT, 'case_event is append-only: {verb} refused'); END"
            )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS case_event_no_update_delete ON case_event")
        op.execute("DROP TRIGGER IF EXISTS case_event_no_truncate ON case_event")
        op.execute("DROP FUNCTION IF EXISTS case_event_append_only()")
    else:
        op.execute("DROP TRIGGER IF EXISTS case_event_no_update")
        op.execute("DROP TRIGGER IF EXISTS case_event_no_delete")
