"""inbox indexes: open cases newest first, and co-handled cases by department

A department's inbox (open cases it leads or co-handles, newest first, with their total) was answered at
1,000,000 cases from ``ix_hub_case_status_received`` with a heap fetch for each of the district's ~8,000 open
cases, and the co-handling condition read every ``case_co_department`` row of the department from the heap.
``EXPLAIN (ANALYZE, BUFFERS)`` on the bench database (bench/README.md):

* ``ix_hub_case_open_received``: the open cases only (a partial index, ~1 % of the table), in ``received_at``
  order, carrying the lead department and status (INCLUDE, PostgreSQL) so the page walks it backwards and stops
  after a page, and the count is answered from the index;
* ``ix_case_co_department_department_case`` replaces the single-column ``ix_case_co_department_department_id``:
  the department's co-handled case ids come from the index alone (no heap pages).

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-28 19:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

OPEN = "status IN ('RECEIVED', 'DISPATCHED', 'CLAIMED', 'ANSWERED')"


def upgrade() -> None:
    with op.batch_alter_table("hub_case", schema=None) as batch_op:
        batch_op.create_index(
            "ix_hub_case_open_received",
            ["received_at", "id"],
            unique=False,
            postgresql_include=["lead_department_id", "status"],
            postgresql_where=sa.text(OPEN),
            sqlite_where=sa.text(OPEN),
        )
    with op.batch_alter_table("case_co_department", schema=None) as batch_op:
        batch_op.create_index("ix_case_co_department_department_case", ["department_id", "case_id"], unique=False)
        batch_op.drop_index("ix_case_co_department_department_id")


def downgrade() -> None:
    with op.batch_alter_table("case_co_department", schema=None) as batch_op:
        batch_op.create_index("ix_case_co_department_department_id", ["department_id"], unique=False)
        batch_op.drop_index("ix_case_co_department_department_case")
    with op.batch_alter_table("hub_case", schema=None) as batch_op:
        batch_op.drop_index("ix_hub_case_open_received")
