"""One hand-written PostgreSQL query for the 三率 by lead department and local month.

The benchmark runs it beside `stats(group_by=[DEPARTMENT, MONTH])` to compare timings and figures; it follows
the same definitions (see hub.stats.types.StatsRow): signed on time against `sign_deadline`, answered on time
against `due_at`, and callbacks counted per callback record.
Parameters: `:tz` (e.g. 'Asia/Shanghai'), `:received_from` and `:received_to` (UTC timestamps, the end
exclusive; pass a wide range for everything).
"""

from __future__ import annotations

from typing import Final

from sqlalchemy import TextClause, text

SANLV_BY_DEPARTMENT_MONTH: Final = """
WITH scoped AS (
    SELECT c.id, c.lead_department_id, c.received_at, c.claimed_at, c.sign_deadline, c.answered_at, c.due_at
    FROM hub_case AS c
    WHERE c.received_at >= :received_from AND c.received_at < :received_to
),
cb AS (
    SELECT cb.case_id,
           count(*) AS callbacks,
           count(*) FILTER (WHERE cb.satisfaction IN ('SATISFIED', 'BASICALLY_SATISFIED')) AS satisfied,
           count(*) FILTER (WHERE cb.solved) AS resolved
    FROM callback AS cb
    JOIN scoped ON scoped.id = cb.case_id
    GROUP BY cb.case_id
),
counts AS (
    SELECT d.code AS department,
           to_char(s.received_at AT TIME ZONE :tz, 'YYYY-MM') AS month,
           count(*) AS received,
           count(*) FILTER (WHERE s.claimed_at IS NOT NULL) AS signed,
           count(*) FILTER (
               WHERE s.claimed_at IS NOT NULL AND (s.sign_deadline IS NULL OR s.claimed_at <= s.sign_deadline)
           ) AS signed_on_time,
           count(*) FILTER (WHERE s.answered_at IS NOT NULL) AS answered,
           count(*) FILTER (
               WHERE s.answered_at IS NOT NULL AND (s.due_at IS NULL OR s.answered_at <= s.due_at)
           ) AS answered_on_time,
           coalesce(sum(cb.callbacks), 0) AS callbacks,
           coalesce(sum(cb.resolved), 0) AS resolved,
           coalesce(sum(cb.satisfied), 0) AS satisfied
    FROM scoped AS s
    LEFT JOIN department AS d ON d.id = s.lead_department_id
    LEFT JOIN cb ON cb.case_id = s.id
    GROUP BY 1, 2
)
SELECT department, month, received,
       signed, signed_on_time, signed_on_time::numeric / nullif(signed, 0) AS response_rate,
       answered, answered_on_time, answered_on_time::numeric / nullif(answered, 0) AS on_time_rate,
       callbacks, resolved, resolved::numeric / nullif(callbacks, 0) AS resolution_rate,
       satisfied, satisfied::numeric / nullif(callbacks, 0) AS satisfaction_rate
FROM counts
ORDER BY department NULLS LAST, month
"""


def sanlv_query() -> TextClause:
    """The reference query (counts and rates; NULL rates where nothing was counted) as a statement."""
    return text(SANLV_BY_DEPARTMENT_MONTH)
