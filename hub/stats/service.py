"""The statistics a centre, its supervisors and auditors read: 三率 and the counts around them, per group."""

from __future__ import annotations

import asyncio
import datetime as dt
import math
from array import array
from collections.abc import Sequence
from dataclasses import fields, replace
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np

from auth.permission import Operation, Scope
from hub.cases.access import actor_department
from hub.cases.reads import audit_query
from hub.clock import utcnow
from hub.context import ServiceContext
from hub.deadlines.service import calendar_for
from hub.departments import repository as departments
from hub.departments.models import Department
from hub.enums import CaseKind, Channel
from hub.errors import NotAllowed, UnknownDepartment, ValidationFailed
from hub.permissions import require
from hub.stats import repository
from hub.stats.types import PERIODS, StatsDimension, StatsFilter, StatsKey, StatsReport, StatsRow
from hub.stats.worktime import WorkingTimeline

D = StatsDimension
# Above this many handled cases the percentiles come from a systematic sample (every n-th case by id).
MAX_HANDLING_SAMPLE = 200_000
GroupKey = tuple[Any, ...]


async def stats(
    ctx: ServiceContext,
    *,
    filter: StatsFilter | None = None,
    group_by: Sequence[StatsDimension] = (),
    handling_time: bool = True,
) -> StatsReport:
    """The figures of every group of cases the caller may see, computed in the database.

    handling_time=False skips the median/p90 (the one part computed outside SQL) when nobody asked for it.
    """
    scope = require(ctx.actor, Operation.STATS_READ)
    filter = filter or StatsFilter()
    dims = _dimensions(group_by)
    known = await departments.all_departments(ctx.session)
    by_code = {d.code: d for d in known}
    code = filter.department
    if scope is not Scope.ALL:
        own = await actor_department(ctx)
        if code is not None and code != own.code:
            raise NotAllowed("a handler reads only its own department's statistics")
        code = own.code
    if code is not None and code not in by_code:
        raise UnknownDepartment(f"unknown department {code!r}")
    criteria = _criteria(ctx, filter, by_code[code] if code else None)
    tz, now = ctx.settings.timezone, utcnow()

    rows: dict[GroupKey, dict[str, Any]] = {}
    codes = {d.id: d.code for d in known}
    for record in await repository.case_figures(ctx.session, dims=dims, criteria=criteria, now=now, tz=tz):
        key = _normalised(dims, record[: len(dims)], codes)
        rows[key] = dict(zip(repository.CASE_MEASURES, (int(v) for v in record[len(dims) :]), strict=True))
    for record in await repository.returns(ctx.session, dims=dims, criteria=criteria, tz=tz):
        key = _normalised(dims, record[: len(dims)], None)
        rows.setdefault(key, {})["returned"] = int(record[-1])

    stride = 0
    if handling_time:
        stride = max(1, math.ceil(sum(f.get("handled", 0) for f in rows.values()) / MAX_HANDLING_SAMPLE))
        await _handling_percentiles(ctx, dims=dims, criteria=criteria, stride=stride, codes=codes, rows=rows)

    await audit_query(ctx, action="stats", target=describe(filter, dims))
    result = [StatsRow(key=_key(dims, key, by_code), **figures) for key, figures in rows.items()]
    result.sort(key=lambda row: _order(dims, row.key))
    return StatsReport(group_by=dims, filter=filter, as_of=now, rows=result, handling_sample_stride=stride)


async def _handling_percentiles(
    ctx: ServiceContext,
    *,
    dims: Sequence[StatsDimension],
    criteria: repository.Criteria,
    stride: int,
    codes: dict[int, str],
    rows: dict[GroupKey, dict[str, Any]],
) -> None:
    """Median and p90 of dispatch → answer working hours per group, into the rows' figures."""
    timeline = WorkingTimeline(await calendar_for(ctx.session, settings=ctx.settings))
    hours: dict[GroupKey, array[float]] = {}
    tz = ctx.settings.timezone
    async for batch in repository.handling_times(ctx.session, dims=dims, criteria=criteria, tz=tz, stride=stride):
        # Working-hour arithmetic is CPU work: off the event loop, one batch at a time.
        await asyncio.to_thread(_handling_hours, batch, dims, codes, timeline, hours)
    for key, sample in hours.items():
        median, p90 = np.percentile(np.frombuffer(sample, dtype=np.float64), [50, 90])
        rows.setdefault(key, {}).update(handling_hours_median=float(median), handling_hours_p90=float(p90))


def _handling_hours(
    batch: list[tuple[Any, ...]],
    dims: Sequence[StatsDimension],
    codes: dict[int, str],
    timeline: WorkingTimeline,
    hours: dict[GroupKey, array[float]],
) -> None:
    """Add each case's dispatch → answer working hours to its group's sample."""
    n = len(dims)
    keys: dict[GroupKey, GroupKey] = {}
    for record in batch:
        raw = record[:n]
        key = keys.get(raw)
        if key is None:
            key = keys[raw] = _normalised(dims, raw, codes)
        hours.setdefault(key, array("d")).append(timeline.hours_between(record[n], record[n + 1]))


def describe(filter: StatsFilter, dims: Sequence[StatsDimension]) -> str:
    """The filter and grouping in one line, for the read log and file names."""
    parts = [f"groupBy={','.join(d.value for d in dims) or '-'}"]
    for field in fields(filter):
        value = getattr(filter, field.name)
        if value in (None, ()):
            continue
        shown = ",".join(str(v) for v in value) if isinstance(value, tuple) else str(value)
        parts.append(f"{field.name}={shown}")
    return "; ".join(parts)


def _dimensions(group_by: Sequence[StatsDimension]) -> tuple[StatsDimension, ...]:
    try:
        dims = tuple(StatsDimension(d) for d in group_by)
    except ValueError:
        raise ValidationFailed(f"group by any of {', '.join(d.value for d in StatsDimension)}") from None
    if len(set(dims)) != len(dims):
        raise ValidationFailed("each dimension may appear once in groupBy")
    if len([d for d in dims if d in PERIODS]) > 1:
        raise ValidationFailed("group by at most one of DAY, WEEK and MONTH")
    return dims


def _criteria(ctx: ServiceContext, f: StatsFilter, department: Department | None) -> repository.Criteria:
    """The filter resolved: local dates to UTC bounds (the end date included), the department to its id."""
    if f.received_from and f.received_to and f.received_from > f.received_to:
        raise ValidationFailed("the received date range ends before it starts")
    tz = ZoneInfo(ctx.settings.timezone)

    def midnight(day: dt.date) -> dt.datetime:
        return dt.datetime.combine(day, dt.time(), tzinfo=tz).astimezone(dt.UTC)

    return repository.Criteria(
        received_from=midnight(f.received_from) if f.received_from else None,
        received_to=midnight(f.received_to + dt.timedelta(days=1)) if f.received_to else None,
        lead_department_id=department.id if department else None,
        department_code=department.code if department else None,
        channels=tuple(Channel(c) for c in f.channel),
        kinds=tuple(CaseKind(k) for k in f.kind),
        categories=tuple(f.category),
    )


def _normalised(dims: Sequence[StatsDimension], values: Sequence[Any], codes: dict[int, str] | None) -> GroupKey:
    """Group keys as the report shows them: department codes, enum members, period text."""
    out: list[Any] = []
    for dim, value in zip(dims, values, strict=True):
        if value is None:
            out.append(None)
        elif dim is D.DEPARTMENT:
            out.append(codes.get(value, str(value)) if codes is not None else value)
        elif dim is D.CHANNEL:
            out.append(Channel(value))
        elif dim is D.KIND:
            out.append(CaseKind(value))
        else:
            out.append(str(value))
    return tuple(out)


def _key(dims: Sequence[StatsDimension], values: GroupKey, by_code: dict[str, Department]) -> StatsKey:
    key = StatsKey()
    for dim, value in zip(dims, values, strict=True):
        if dim is D.DEPARTMENT:
            department = by_code.get(value) if value else None
            key = replace(key, department=value, department_name=department.name if department else None)
        elif dim in PERIODS:
            key = replace(key, period=value)
        else:
            key = replace(key, **{dim.value.lower(): value})
    return key


def _order(dims: Sequence[StatsDimension], key: StatsKey) -> tuple[tuple[bool, str], ...]:
    """Rows in key order, the "none" group (未派单, 未分类) last in each dimension."""
    return tuple((v is None, str(v or "")) for v in (_value(key, d) for d in dims))


def _value(key: StatsKey, dim: StatsDimension) -> Any:
    if dim is D.DEPARTMENT:
        return key.department
    if dim in PERIODS:
        return key.period
    return getattr(key, dim.value.lower())
