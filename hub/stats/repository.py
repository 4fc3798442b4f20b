"""All SQL of the statistics: one grouped query over cases, one over returns, one stream of handling times.

Local periods of `received_at` are computed in SQL per dialect: PostgreSQL converts with the time zone
database; SQLite has none, so it shifts by the zone's UTC offset (exact for Asia/Shanghai, which has no DST).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Label, Select, and_, case, func, literal_column, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.cases.models import Callback, Case
from hub.enums import CaseAction, CaseKind, CaseStatus, Channel, Satisfaction
from hub.stats.types import StatsDimension
from hub.trail.models import CaseEvent

D = StatsDimension
# Statuses in which a case still waits for its department's answer (overdue can only grow here).
UNANSWERED = (CaseStatus.RECEIVED, CaseStatus.DISPATCHED, CaseStatus.CLAIMED)
SATISFIED = (Satisfaction.SATISFIED, Satisfaction.BASICALLY_SATISFIED)
_TZ_NAME = re.compile(r"^[A-Za-z0-9_+\-/]+$")
# Figures summed per group, in the order the grouped query returns them after the group keys.
CASE_MEASURES = (
    "received",
    "dispatched",
    "signed",
    "signed_on_time",
    "answered",
    "answered_on_time",
    "callbacks",
    "resolved",
    "satisfied",
    "extended",
    "reopened",
    "overdue_now",
    "supervised",
    "handled",
)


@dataclass(frozen=True)
class Criteria:
    """What the statistics cover, already resolved to ids and UTC bounds."""

    received_from: dt.datetime | None = None
    received_to: dt.datetime | None = None  # exclusive
    lead_department_id: int | None = None
    department_code: str | None = None  # the same department, for events that carry codes
    channels: tuple[Channel, ...] = ()
    kinds: tuple[CaseKind, ...] = ()
    categories: tuple[str, ...] = ()


def _text(value: str) -> ColumnElement[str]:
    """A constant rendered inline: identical text in SELECT and GROUP BY, which PostgreSQL insists on."""
    return literal_column("'" + value.replace("'", "''") + "'")


def _period(dim: StatsDimension, column: Any, *, dialect: str, tz: str) -> ColumnElement[str]:
    """The local day, week (its Monday) or month of a UTC timestamp column, as text."""
    if not _TZ_NAME.match(tz):
        raise ValueError(f"not a time zone name: {tz!r}")
    if dialect == "postgresql":
        local = func.timezone(_text(tz), column)
        if dim is D.WEEK:
            return func.to_char(func.date_trunc(_text("week"), local), _text("YYYY-MM-DD"))
        return func.to_char(local, _text("YYYY-MM" if dim is D.MONTH else "YYYY-MM-DD"))
    offset = ZoneInfo(tz).utcoffset(dt.datetime(2000, 1, 1))
    shift = _text(f"{int(offset.total_seconds() // 60) if offset else 0:+d} minutes")
    if dim is D.WEEK:
        return func.date(column, shift, _text("weekday 0"), _text("-6 days"))
    return func.strftime(_text("%Y-%m" if dim is D.MONTH else "%Y-%m-%d"), column, shift)


def _key(dim: StatsDimension, *, department: Any, dialect: str, tz: str) -> Any:
    if dim is D.DEPARTMENT:
        return department
    if dim is D.CHANNEL:
        return Case.channel
    if dim is D.KIND:
        return Case.kind
    if dim is D.CATEGORY:
        return Case.category
    return _period(dim, Case.received_at, dialect=dialect, tz=tz)


def _keys(session: AsyncSession, dims: Sequence[StatsDimension], department: Any, tz: str) -> list[Label[Any]]:
    dialect = session.get_bind().dialect.name
    return [_key(d, department=department, dialect=dialect, tz=tz).label(f"k{i}") for i, d in enumerate(dims)]


def _case_conditions(c: Criteria, *, with_department: bool = True) -> list[ColumnElement[bool]]:
    conds: list[ColumnElement[bool]] = []
    if c.received_from is not None:
        conds.append(Case.received_at >= c.received_from)
    if c.received_to is not None:
        conds.append(Case.received_at < c.received_to)
    if with_department and c.lead_department_id is not None:
        conds.append(Case.lead_department_id == c.lead_department_id)
    if c.channels:
        conds.append(Case.channel.in_(c.channels))
    if c.kinds:
        conds.append(Case.kind.in_(c.kinds))
    if c.categories:
        conds.append(Case.category.in_(c.categories))
    return conds


def _flag(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return case((condition, 1), else_=0)


def _grouped(inner: Select[Any], n_keys: int, measures: Sequence[str]) -> Select[Any]:
    """Group a per-row subquery by its k0..kn columns and sum its measure columns."""
    sub = inner.subquery("per_row")
    keys = [sub.c[f"k{i}"] for i in range(n_keys)]
    sums = [func.coalesce(func.sum(sub.c[m]), 0).label(m) for m in measures]
    stmt = select(*keys, *sums)
    return stmt.group_by(*keys) if keys else stmt


async def case_figures(
    session: AsyncSession, *, dims: Sequence[StatsDimension], criteria: Criteria, now: dt.datetime, tz: str
) -> list[tuple[Any, ...]]:
    """Per group: the group keys (department as lead id) followed by CASE_MEASURES, in one statement."""
    conds = _case_conditions(criteria)
    callbacks = (
        select(
            Callback.case_id.label("case_id"),
            func.count().label("callbacks"),
            func.sum(_flag(Callback.satisfaction.in_(SATISFIED))).label("satisfied"),
            func.sum(_flag(Callback.solved.is_(True))).label("resolved"),
        )
        .join(Case, Case.id == Callback.case_id)
        .where(*conds)
        .group_by(Callback.case_id)
        .subquery("cb")
    )
    signed = Case.claimed_at.is_not(None)
    answered = Case.answered_at.is_not(None)
    overdue = and_(Case.status.in_(UNANSWERED), or_(Case.due_at < now, Case.overdue.is_(True)))
    per_case = (
        select(
            *_keys(session, dims, Case.lead_department_id, tz),
            literal_column("1").label("received"),
            _flag(Case.dispatched_at.is_not(None)).label("dispatched"),
            _flag(signed).label("signed"),
            _flag(and_(signed, or_(Case.sign_deadline.is_(None), Case.claimed_at <= Case.sign_deadline))).label(
                "signed_on_time"
            ),
            _flag(answered).label("answered"),
            _flag(and_(answered, or_(Case.due_at.is_(None), Case.answered_at <= Case.due_at))).label(
                "answered_on_time"
            ),
            func.coalesce(callbacks.c.callbacks, 0).label("callbacks"),
            func.coalesce(callbacks.c.resolved, 0).label("resolved"),
            func.coalesce(callbacks.c.satisfied, 0).label("satisfied"),
            _flag(Case.extension_count > 0).label("extended"),
            _flag(Case.reopen_count > 0).label("reopened"),
            _flag(overdue).label("overdue_now"),
            _flag(Case.supervised.is_(True)).label("supervised"),
            _flag(and_(Case.dispatched_at.is_not(None), answered)).label("handled"),
        )
        .select_from(Case)
        .outerjoin(callbacks, callbacks.c.case_id == Case.id)
        .where(*conds)
    )
    stmt = _grouped(per_case, len(dims), CASE_MEASURES)
    return [tuple(row) for row in (await session.execute(stmt)).all()]


async def returns(
    session: AsyncSession, *, dims: Sequence[StatsDimension], criteria: Criteria, tz: str
) -> list[tuple[Any, ...]]:
    """Per group: the keys (department as the returning department's code) and the number of returns."""
    conds = _case_conditions(criteria, with_department=False)
    conds.append(CaseEvent.action == CaseAction.RETURNED.value)
    if criteria.department_code is not None:
        conds.append(CaseEvent.actor_department == criteria.department_code)
    per_event = (
        select(*_keys(session, dims, CaseEvent.actor_department, tz), literal_column("1").label("returned"))
        .select_from(CaseEvent)
        .join(Case, Case.id == CaseEvent.case_id)
        .where(*conds)
    )
    stmt = _grouped(per_event, len(dims), ("returned",))
    return [tuple(row) for row in (await session.execute(stmt)).all()]


async def handling_times(
    session: AsyncSession,
    *,
    dims: Sequence[StatsDimension],
    criteria: Criteria,
    tz: str,
    stride: int = 1,
    batch: int = 10_000,
) -> AsyncIterator[list[tuple[Any, ...]]]:
    """Stream, in batches, (keys..., dispatched_at, answered_at) of the dispatched and answered cases.

    With a stride above 1 only every stride-th case by id is read: a systematic sample that bounds the work.
    """
    conds = [*_case_conditions(criteria), Case.dispatched_at.is_not(None), Case.answered_at.is_not(None)]
    if stride > 1:
        conds.append(Case.id % stride == 0)
    stmt = (
        select(*_keys(session, dims, Case.lead_department_id, tz), Case.dispatched_at, Case.answered_at)
        .where(*conds)
        .execution_options(yield_per=batch)
    )
    result = await session.stream(stmt)
    async for partition in result.partitions(batch):
        yield [tuple(row) for row in partition]
