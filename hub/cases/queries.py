"""The SQL of the case read side: filtered, scoped, keyset-paginated lists."""

from __future__ import annotations

import base64
import datetime as dt
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import ColumnElement, Row, Select, and_, bindparam, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.cases.models import OPEN_STATUSES, Case, CaseCoDepartment, Reply
from hub.cases.repository import co_handled, department_clause
from hub.cases.search import candidate_ids, matching_documents, rechecks, search_terms, text_match
from hub.cases.types import CaseFilter, CaseOrder
from hub.departments import cache as department_cache
from hub.departments.models import Department
from hub.errors import ValidationFailed
from hub.sql import one_of_parameter
from hub.trail.models import CaseEvent

# A search counts its matches up to this many: "1,000+" is what a desk needs, and an exact count of a common
# term (tens of thousands of documents at a million cases) costs a heap page per match.
SEARCH_COUNT_CAP = 1_000


# What a list shows of a case (`schema.types.Case.of`) and what loading its relations needs; not the channel's raw
# payload, the reply address, the counters or the bookkeeping times (typed values cost per row and column).
PAGE_COLUMNS = tuple(
    Case.__table__.c[name]
    for name in (
        "id", "case_no", "channel", "kind", "status", "urgency", "title", "content", "category",
        "suggested_category", "suggestion_confidence", "address", "received_at", "dispatched_at", "sign_deadline",
        "due_at", "answered_at", "closed_at", "overdue", "satisfaction", "supervised", "citizen_id",
        "lead_department_id",
    )
)


@dataclass(frozen=True)
class CasePage:
    """One page of a connection: rows of the `hub_case` table (attributes named as the model's), not entities."""

    cases: list[Row[Any]]
    cursors: list[str]
    has_next: bool
    total: int
    total_capped: bool = False


def _dept_id(code: str, known: Mapping[str, int]) -> ColumnElement[int] | int:
    """The department's id from the cache (a plain value the planner can use), else a subquery by code."""
    found = known.get(code)
    if found is not None:
        return found
    return select(Department.id).where(Department.code == code).scalar_subquery()


def _conditions(
    f: CaseFilter, known: Mapping[str, int] | None = None, *, department: bool = True, per_row_search: bool = False
) -> list[ColumnElement[bool]]:
    """The filter as conditions; ``department=False`` leaves `f.department` to the caller; ``per_row_search`` tests
    a search case by case (see hub.cases.search.text_match)."""
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
        conds.append(co_handled(_dept_id(f.co_department, known), open_only=open_only(f)))
    if f.department and department:
        dept = _dept_id(f.department, known)
        conds.append(or_(Case.lead_department_id == dept, co_handled(dept, open_only=open_only(f))))
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
        match = text_match(f.search, per_row=per_row_search)
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
    # The text `json.dumps([order, iso, id])` gives (an ISO time and an enum name need no escaping), built
    # directly: fifty per page.
    shown = '"' + value.isoformat() + '"' if value else "null"
    raw = f'["{order.value}", {shown}, {int(case_id)}]'
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
    search_count_cap: int = SEARCH_COUNT_CAP,
) -> CasePage:
    """Cases matching the filter within the caller's scope, one keyset page, and the total count."""
    known = {code: d.id for code, d in (await department_cache.directory(session)).by_code.items()}
    # "Cases department D leads or co-handles", from the scope and/or the filter (a handler's inbox filters by its
    # own department: one condition, not the same one twice). An unknown code keeps its subquery in `_conditions`.
    filtered = known.get(filter.department) if filter.department else None
    departments = sorted({d for d in (scope_department_id, filtered) if d is not None})
    scope = [department_clause(d, open_only=open_only(filter)) for d in departments]
    where = _Where(known=known, department=filtered is None, scope=scope)
    if filter.search and search_terms(filter.search):
        return await _search_page(session, filter=filter, where=where, order=order, first=first, after=after,
                                  cap=search_count_cap)
    conds = where.of(filter)
    # The total is a column of the page's statement: one round trip, not two.
    total = _count(conds, departments, open_only=open_only(filter))
    return await _page(session, [*conds, *scope], order=order, first=first, after=after, total=total)


@dataclass(frozen=True)
class _Where:
    """How a filter becomes conditions for one caller: known department ids, and the caller's scope."""

    known: Mapping[str, int]
    department: bool
    scope: list[ColumnElement[bool]]

    def of(self, f: CaseFilter, *, per_row_search: bool = False) -> list[ColumnElement[bool]]:
        """The filter's conditions (without the scope)."""
        return _conditions(f, self.known, department=self.department, per_row_search=per_row_search)


async def _page(
    session: AsyncSession, conds: list[ColumnElement[bool]], *, order: CaseOrder, first: int, after: str | None,
    total: int | ColumnElement[int], capped: bool = False,
) -> CasePage:
    """One page; a ``total`` given as an expression (uncorrelated: computed once) is read along with it."""
    counting = None if isinstance(total, int) else total
    columns: list[Any] = [*PAGE_COLUMNS] if counting is None else [*PAGE_COLUMNS, counting.label("total")]
    stmt = select(*columns).where(*conds)
    if after:
        stmt = stmt.where(_keyset(order, after))
    rows = list(await session.execute(_ordered(stmt, order).limit(first + 1)))
    if counting is None:
        count = int(total)
    elif rows:
        count = int(rows[0].total or 0)
    elif after:  # past the last page: nothing to read the total from
        count = int(await session.scalar(select(counting)) or 0)
    else:  # no case matches at all
        count = 0
    return _as_page(rows, order=order, first=first, total=count, capped=capped)


def _as_page(rows: list[Row[Any]], *, order: CaseOrder, first: int, total: int, capped: bool) -> CasePage:
    column, _ = _SORT[order]
    page = rows[:first]
    cursors = [_encode(order, getattr(c, column.key), c.id) for c in page]
    return CasePage(page, cursors, len(rows) > first, total, capped)


async def _search_page(
    session: AsyncSession, *, filter: CaseFilter, where: _Where, order: CaseOrder, first: int, after: str | None,
    cap: int,
) -> CasePage:
    """A search: the index finds up to ``cap`` + 1 matches; if that is all of them they are counted and paged here,
    else the term is common: the total is "``cap``+" and the page walks the ordering's index, testing case by case."""
    column, desc = _SORT[order]
    if session.get_bind().dialect.name == "postgresql":
        found = await _indexed_matches(session, filter=filter, where=where, column=column, cap=cap)
    else:
        stmt = select(Case.id, column).where(*where.of(filter), *where.scope).limit(cap + 1)
        found = list((await session.execute(stmt)).all())
    if len(found) > cap:
        conds = where.of(filter, per_row_search=True) + where.scope
        return await _page(session, conds, order=order, first=first, after=after, total=cap, capped=True)
    start = _decode(order, after) if after else None
    keys = _in_order([(value, case_id) for case_id, value in found], desc=desc, after=start)
    wanted = [case_id for _, case_id in keys[: first + 1]]
    by_id = {c.id: c for c in await session.execute(select(*PAGE_COLUMNS).where(Case.id.in_(wanted)))}
    return _as_page([by_id[i] for i in wanted], order=order, first=first, total=len(found), capped=False)


async def _indexed_matches(
    session: AsyncSession, *, filter: CaseFilter, where: _Where, column: Any, cap: int
) -> list[Any]:
    """Up to ``cap`` + 1 (id, sort value) rows of a search through the bigram index."""
    terms = search_terms(filter.search or "")
    others = where.of(replace(filter, search=None)) + where.scope
    checks = rechecks(terms)
    candidates = await candidate_ids(session, terms=terms, limit=cap + 1)
    if len(candidates) <= cap:  # every match is among these: no further index work
        if not candidates:
            return []
        stmt = select(Case.id, column).where(Case.id.in_(candidates), *others, *checks)
    elif not others and not checks:
        return [(case_id, None) for case_id in candidates]  # more than cap, and each candidate is a match
    else:
        documents = matching_documents(terms)
        stmt = select(Case.id, column).join(documents, documents.c.case_id == Case.id).where(*others, *checks)
    return list((await session.execute(stmt.limit(cap + 1))).all())


_NO_TIME = dt.datetime.min.replace(tzinfo=dt.UTC)


def _in_order(
    keys: list[tuple[dt.datetime | None, int]], *, desc: bool, after: tuple[dt.datetime | None, int] | None
) -> list[tuple[dt.datetime | None, int]]:
    """(value, id) pairs in _ordered's order (newest first, or ascending with nulls last), past the cursor."""
    if desc:  # received_at: never null
        ordered = sorted(keys, key=lambda k: (k[0] or _NO_TIME, k[1]), reverse=True)
        if after is not None:
            newest = (after[0] or _NO_TIME, after[1])
            ordered = [k for k in ordered if (k[0] or _NO_TIME, k[1]) < newest]
        return ordered

    def key(k: tuple[dt.datetime | None, int]) -> tuple[bool, dt.datetime, int]:
        return (k[0] is None, k[0] or _NO_TIME, k[1])

    ordered = sorted(keys, key=key)
    if after is not None:
        start = key(after)
        ordered = [k for k in ordered if key(k) > start]
    return ordered


def open_only(f: CaseFilter) -> bool:
    """Whether the filter admits open cases only: its co-handlings are then among the few marked ``case_open``."""
    return bool(f.status) and OPEN_STATUSES.issuperset(f.status)


def _count(conds: list[ColumnElement[bool]], departments: list[int], *, open_only: bool) -> ColumnElement[int]:
    """How many cases match, as a scalar expression; for one department as the sum of two disjoint counts.

    `lead = D OR EXISTS (co-handled by D)` keeps PostgreSQL from turning the EXISTS into a join, so it reads every
    matching case from the heap; `lead = D` (answered from an index) plus `lead IS DISTINCT FROM D AND EXISTS
    (…)` (a hash semi-join of the department's co-handled ids with the open-cases index) counts the same rows.
    """
    if len(departments) != 1:
        scoped = [*conds, *(department_clause(d, open_only=open_only) for d in departments)]
        return select(func.count()).select_from(Case).where(*scoped).scalar_subquery()
    (department_id,) = departments
    co = co_handled(department_id, open_only=open_only)
    lead = select(func.count()).select_from(Case).where(*conds, Case.lead_department_id == department_id)
    other = select(func.count()).select_from(Case).where(
        *conds, Case.lead_department_id.is_distinct_from(department_id), co
    )
    return lead.scalar_subquery() + other.scalar_subquery()


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


def _events_statements() -> tuple[Select[Any], Select[Any]]:
    """(every event, the last :last events) of the cases :case_ids, oldest first per case; built once."""
    table = CaseEvent.__table__
    ids = one_of_parameter(table.c.case_id, "case_ids")
    every = select(table).where(ids).order_by(table.c.case_id, table.c.seq)
    # A window per case instead of every event of the page's cases (one case can have dozens).
    position = func.row_number().over(partition_by=table.c.case_id, order_by=table.c.seq.desc())
    ranked = select(table, position.label("position")).where(ids).subquery()
    last = (
        select(*(ranked.c[column.name] for column in table.c))
        .where(ranked.c.position <= bindparam("last"))
        .order_by(ranked.c.case_id, ranked.c.seq)
    )
    return every, last


_EVERY_EVENT, _LAST_EVENTS = _events_statements()
_REPLIES = (
    select(Reply.__table__)
    .where(one_of_parameter(Reply.__table__.c.case_id, "case_ids"))
    .order_by(Reply.__table__.c.case_id, Reply.__table__.c.id)
)
_CO_DEPARTMENTS = select(CaseCoDepartment.case_id, CaseCoDepartment.department_id).where(
    one_of_parameter(CaseCoDepartment.case_id, "case_ids")
)


async def events_by_case(
    session: AsyncSession, *, case_ids: Sequence[int], last: int | None = None
) -> dict[int, list[Row[Any]]]:
    """The trail of many cases at once (one statement), oldest first; with ``last``, only each case's last N.

    Rows of the `case_event` table (attributes named as the model's), not model objects, from a statement built
    once: the inbox shows three events per case, and hydrating entities and building the windowed select each
    time cost twice what reading the rows does.
    """
    out: dict[int, list[Row[Any]]] = {i: [] for i in case_ids}
    if not case_ids or (last is not None and last <= 0):
        return out
    params: dict[str, Any] = {"case_ids": list(case_ids)}
    if last is not None:
        params["last"] = last
    for row in await session.execute(_EVERY_EVENT if last is None else _LAST_EVENTS, params):
        out[row.case_id].append(row)
    return out


async def replies_by_case(session: AsyncSession, *, case_ids: Sequence[int]) -> dict[int, list[Row[Any]]]:
    """The replies of many cases at once, as rows of the `reply` table (attributes named as the model's)."""
    out: dict[int, list[Row[Any]]] = {i: [] for i in case_ids}
    if case_ids:
        for reply in await session.execute(_REPLIES, {"case_ids": list(case_ids)}):
            out[reply.case_id].append(reply)
    return out


async def co_departments_by_case(session: AsyncSession, *, case_ids: Sequence[int]) -> dict[int, list[int]]:
    """Co-handling department ids of many cases at once."""
    out: dict[int, list[int]] = {i: [] for i in case_ids}
    if case_ids:
        for case_id, department_id in await session.execute(_CO_DEPARTMENTS, {"case_ids": list(case_ids)}):
            out[case_id].append(department_id)
    return out
