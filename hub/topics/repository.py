"""All SQL of hot topics: category counts per window, and the texts the place and keyword counts read."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from typing import Any

from sqlalchemy import case, func, literal_column, select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.cases.models import Case

# Places are looked for in the title, the address and the start of the content, where citizens name them.
CONTENT_PREFIX = 300


def _scope(start: dt.datetime, end: dt.datetime, lead_department_id: int | None) -> list[Any]:
    conds = [Case.received_at >= start, Case.received_at < end]
    if lead_department_id is not None:
        conds.append(Case.lead_department_id == lead_department_id)
    return conds


async def category_counts(
    session: AsyncSession, *, start: dt.datetime, middle: dt.datetime, end: dt.datetime, lead_department_id: int | None
) -> list[tuple[str, bool, int]]:
    """(category, in the later window, cases) for cases received in [start, end); later means >= middle."""
    per_case = (
        select(Case.category.label("category"), case((Case.received_at >= middle, 1), else_=0).label("later"))
        .where(*_scope(start, end, lead_department_id), Case.category.is_not(None))
        .subquery("per_case")
    )
    stmt = select(per_case.c.category, per_case.c.later, func.count()).group_by(per_case.c.category, per_case.c.later)
    return [(str(c), bool(later), int(n)) for c, later, n in (await session.execute(stmt)).all()]


async def texts(
    session: AsyncSession, *, start: dt.datetime, end: dt.datetime, lead_department_id: int | None, batch: int = 2000
) -> AsyncIterator[tuple[dt.datetime, str, str, str | None, str | None]]:
    """Stream (received_at, title, start of content, address, region) of the cases received in [start, end)."""
    stmt = (
        select(
            Case.received_at,
            Case.title,
            func.substr(Case.content, literal_column("1"), literal_column(str(CONTENT_PREFIX))),
            Case.address,
            Case.region,
        )
        .where(*_scope(start, end, lead_department_id))
        .execution_options(yield_per=batch)
    )
    result = await session.stream(stmt)
    async for row in result:
        yield row[0], row[1] or "", row[2] or "", row[3], row[4]
