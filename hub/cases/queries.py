"""The SQL of the case read side: filtered, scoped, keyset-paginated lists."""

from __future__ import annotations

import base64
import datetime as dt
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, exists, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from hub.cases.models import Case, CaseCoDepartment, Reply
from hub.cases.repository import department_clause
from hub.cases.types import CaseFilter, CaseOrder
from hub.departments import cache as department_cache
from hub.departments.models import Department
from hub.errors import ValidationFailed
from hub.trail.models import CaseEvent


@dataclass(frozen=True)
class CasePage:
    """One page of a connection."""

    cases: list[Case]
    cursors: list[str]
    has_next: bool
    total: int


def _dept_id(code: str, known: Mapping[str, int]) -> ColumnElement[int] | int:
    """The department's id from the cache (a plain value the planner can use), else a subquery by code."""
    found = known.get(code)
    if found is not None:
        return found
    return select(Department.id).where(Department.code == code).scalar_subquery()


def _conditions(
    f: CaseFilter, known: Mapping[str, int] | None = None, *, department: bool = True
) -> list[ColumnElement[bool]]:
    """The filter as conditions; ``department=False`` leaves `f.department` to the caller."""
    known = known or {}
    conds: list[ColumnElement[bool]] = []
    if f.status:
        conds.append(Case.status.in_(f.status))
    if f.channel:
        conds.append(Case.channel.in_(f.channel))
    if f.kind:
        conds.append(Case.kind.in_(f.kind))
    if f.category:
        conds.append(Case.category.in_(f.category))
    if f.lead_department:
        conds.append(Case.lead_department_id == _dept_id(f.lead_department, known))
    if f.co_department:
        conds.append(
            exists().where(
                CaseCoDepartment.case_id == Case.id,
                CaseCoDepartment.department_id == _dept_id(f.co_department, known),
            )
        )
    if f.department and department:
        dept = _dept_id(f.department, known)
        conds.append(
            or_(
                Case.lead_department_id == dept,
                exists().where(CaseCoDepartment.case_id == Case.id, CaseCoDepartment.department_id == dept),
            )
        )
    if f.overdue is not None:
        conds.append(Case.overdue.is_(f.overdue))
    if f.received_from:
        conds.append(Case.received_at >= f.received_from)
    if f.received_to:
        conds.append(Case.received_at < f.received_to)
    if f.due_from:
        conds.append(Case.due_at >= f.due_from)
    if f.due_to:
        conds.append(Case.due_at < f.due_to)
    if f.search:
        from hub.cases.search import text_match  # bigram GIN index on PostgreSQL, LIKE on SQLite

        match = text_match(f.search)
        if match is not None:
            conds.append(match)
    if f.citizen_id is not None:
        conds.append(Case.citizen_id == f.citizen_id)
    if f.case_no:
        conds.append(Case.case_no == f.case_no)
    return conds


_SORT = {
    CaseOrder.RECEIVED_AT_DESC: (Case.received_at, True),
    CaseOrder.RECEIVED_AT_ASC: (Case.received_at, False),
    CaseOrder.DUE_AT_ASC: (Case.due_at, False),
}


def _encode(order: CaseOrder, value: dt.datetime | None, case_id: int) -> str:
    raw = json.dumps([order.value, value.isoformat() if value else None, case_id])
    return base64.urlsafe_b64encode(raw.encode()).decode()


def _decode(order: CaseOrder, cursor: str) -> tuple[dt.datetime | None, int]:
    try:
        kind, value, case_id = json.loads(base64.urlsafe_b64decode(cursor.encode()))
        if kind != order.value:
            raise ValueError
        return (dt.datetime.fromisoformat(value) if value else None), int(case_id)
    except (ValueError, TypeError, json.JSONDecodeError):
        raise ValidationFailed("the `after` cursor is not one this ordering handed out") from None


def _keyset(order: CaseOrder, after: str) -> ColumnElement[bool]:
    column, desc = _SORT[order]
    value, case_id = _decode(order, after)
    if value is None:  # nulls sort last: only later nulls follow
        return and_(column.is_(None), Case.id > case_id)
    if desc:
        return or_(column < value, and_(column == value, Case.id < case_id))
    return or_(column > value, column.is_(None), and_(column == value, Case.id > case_id))


def _ordered(stmt: Select[Any], order: CaseOrder) -> Select[Any]:
    column, desc = _SORT[order]
    if desc:
        return stmt.order_by(column.desc(), Case.id.desc())
    return stmt.order_by(column.asc().nulls_last(), Case.id.asc())


async def page_of_cases(
    session: AsyncSession,
    *,
    filter: CaseFilter,
    order: CaseOrder,
    first: int,
    after: str | None,
    scope_department_id: int | None,
) -> CasePage:
    """Cases matching the filter within the caller's scope, one keyset page, and the total count."""
    known = {code: d.id for code, d in (await department_cache.directory(session)).by_code.items()}
    # "Cases department D leads or co-handles", from the scope and/or the filter (a handler's inbox filters by its
    # own department: one condition, not the same one twice). An unknown code keeps its subquery in `_conditions`.
    filtered = known.get(filter.department) if filter.department else None
    departments = sorted({d for d in (scope_department_id, filtered) if d is not None})
    conds = _conditions(filter, known, department=filtered is None)
    scoped = [*conds, *(department_clause(d) for d in departments)]
    total = await _count(session, conds, departments)
    stmt = select(Case).where(*scoped)
    if after:
        stmt = stmt.where(_keyset(order, after))
    rows = list((await session.execute(_ordered(stmt, order).limit(first + 1))).scalars())
    column, _ = _SORT[order]
    page = rows[:first]
    cursors = [_encode(order, getattr(c, column.key), c.id) for c in page]
    return CasePage(page, cursors, len(rows) > first, total)


async def _count(session: AsyncSession, conds: list[ColumnElement[bool]], departments: list[int]) -> int:
    """How many cases match; for one department as the sum of two disjoint counts.

    `lead = D OR EXISTS (co-handled by D)` keeps PostgreSQL from turning the EXISTS into a join, so it reads every
    matching case from the heap; `lead = D` (answered from an index) plus `lead IS DISTINCT FROM D AND EXISTS
    (…)` (a hash semi-join of the department's co-handled ids with the open-cases index) counts the same rows.
    """
    if len(departments) != 1:
        scoped = [*conds, *(department_clause(d) for d in departments)]
        return int(await session.scalar(select(func.count()).select_from(Case).where(*scoped)) or 0)
    (department_id,) = departments
    co = exists().where(CaseCoDepartment.case_id == Case.id, CaseCoDepartment.department_id == department_id)
    lead = select(func.count()).select_from(Case).where(*conds, Case.lead_department_id == department_id)
    other = select(func.count()).select_from(Case).where(
        *conds, Case.lead_department_id.is_distinct_from(department_id), co
    )
    return int(await session.scalar(select(lead.scalar_subquery() + other.scalar_subquery())) or 0)


async def visible_case(
    session: AsyncSession, *, case_id: int | None, case_no: str | None, scope_department_id: int | None
) -> Case | None:
    """One case by id or number, if within the scope."""
    if case_id is None and not case_no:
        raise ValidationFailed("give a case id or a case number")
    stmt = select(Case).where(Case.id == case_id if case_id is not None else Case.case_no == case_no)
    if scope_department_id is not None:
        stmt = stmt.where(department_clause(scope_department_id))
    return (await session.execute(stmt)).scalar_one_or_none()


async def events_by_case(
    session: AsyncSession, *, case_ids: Sequence[int], last: int | None = None
) -> dict[int, list[CaseEvent]]:
    """The trail of many cases at once (one statement), oldest first; with ``last``, only each case's last N."""
    out: dict[int, list[CaseEvent]] = {i: [] for i in case_ids}
    if not case_ids or (last is not None and last <= 0):
        return out
    if last is None:
        stmt = select(CaseEvent).where(CaseEvent.case_id.in_(case_ids)).order_by(CaseEvent.case_id, CaseEvent.seq)
    else:
        # A window per case instead of every event of the page's cases (one case can have dozens).
        position = func.row_number().over(partition_by=CaseEvent.case_id, order_by=CaseEvent.seq.desc())
        ranked = select(CaseEvent, position.label("position")).where(CaseEvent.case_id.in_(case_ids)).subquery()
        event = aliased(CaseEvent, ranked)
        stmt = select(event).where(ranked.c.position <= last).order_by(ranked.c.case_id, ranked.c.seq)
    for row in (await session.execute(stmt)).scalars():
        out[row.case_id].append(row)
    return out


async def replies_by_case(session: AsyncSession, *, case_ids: Sequence[int]) -> dict[int, list[Reply]]:
    """The replies of many cases at once."""
    out: dict[int, list[Reply]] = {i: [] for i in case_ids}
    if case_ids:
        stmt = select(Reply).where(Reply.case_id.in_(case_ids)).order_by(Reply.case_id, Reply.id)
        for reply in (await session.execute(stmt)).scalars():
            out[reply.case_id].append(reply)
    return out


async def co_departments_by_case(session: AsyncSession, *, case_ids: Sequence[int]) -> dict[int, list[int]]:
    """Co-handling department ids of many cases at once."""
    out: dict[int, list[int]] = {i: [] for i in case_ids}
    if case_ids:
        stmt = select(CaseCoDepartment.case_id, CaseCoDepartment.department_id).where(
            CaseCoDepartment.case_id.in_(case_ids)
        )
        for case_id, department_id in (await session.execute(stmt)).all():
            out[case_id].append(department_id)
    return out
