"""`GET /stats.csv`: the statistics of the same filter as the `stats` query, as a spreadsheet.

UTF-8 with a byte-order mark so Excel opens the Chinese headers correctly; a header row; one row per group.
Query parameters: `groupBy` (repeatable or comma-separated: department, channel, kind, category, day, week,
month), `from` and `to` (local receipt dates, both included), `department` (a code), and `channel`, `kind`,
`category` (repeatable or comma-separated). Values are case-insensitive (`channel=weibo`).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import logging
import uuid
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from auth.errors import AuthError
from auth.principal import Principal
from hub.context import ServiceContext
from hub.enums import CaseKind, Channel
from hub.errors import HubError, NotAllowed, NotFound, ValidationFailed
from hub.settings import Settings
from hub.stats.service import stats
from hub.stats.types import PERIODS, StatsDimension, StatsFilter, StatsReport, StatsRow

log = logging.getLogger(__name__)
Authenticate = Callable[[str | None], Awaitable[Principal | None]]
D = StatsDimension

KEY_COLUMNS: dict[StatsDimension, tuple[str, ...]] = {
    D.DEPARTMENT: ("部门代码(department)", "部门(departmentName)"),
    D.CHANNEL: ("渠道(channel)",),
    D.KIND: ("诉求类型(kind)",),
    D.CATEGORY: ("分类(category)",),
    D.DAY: ("日期(day)",),
    D.WEEK: ("周一(week)",),
    D.MONTH: ("月份(month)",),
}
# (header, row attribute, kind of value): counts as integers, rates to 4 places, hours to 2.
FIGURE_COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("受理量(received)", "received", "count"),
    ("派单量(dispatched)", "dispatched", "count"),
    ("签收量(signed)", "signed", "count"),
    ("按时签收(signedOnTime)", "signed_on_time", "count"),
    ("响应率(responseRate)", "response_rate", "rate"),
    ("答复量(answered)", "answered", "count"),
    ("按时答复(answeredOnTime)", "answered_on_time", "count"),
    ("按时办结率(onTimeRate)", "on_time_rate", "rate"),
    ("回访量(callbacks)", "callbacks", "count"),
    ("已解决(resolved)", "resolved", "count"),
    ("解决率(resolutionRate)", "resolution_rate", "rate"),
    ("满意及基本满意(satisfied)", "satisfied", "count"),
    ("满意率(satisfactionRate)", "satisfaction_rate", "rate"),
    ("退单量(returned)", "returned", "count"),
    ("延期件(extended)", "extended", "count"),
    ("重办件(reopened)", "reopened", "count"),
    ("当前超期(overdueNow)", "overdue_now", "count"),
    ("督办件(supervised)", "supervised", "count"),
    ("办理样本(handled)", "handled", "count"),
    ("办理时长中位数_工作小时(handlingHoursMedian)", "handling_hours_median", "hours"),
    ("办理时长P90_工作小时(handlingHoursP90)", "handling_hours_p90", "hours"),
)


def _cell(value: Any, kind: str) -> str:
    if value is None:
        return ""
    if kind == "rate":
        return f"{value:.4f}"
    if kind == "hours":
        return f"{value:.2f}"
    return str(value)


def _key_cells(dim: StatsDimension, row: StatsRow) -> list[str]:
    key = row.key
    if dim is D.DEPARTMENT:
        return [key.department or "", key.department_name or ""]
    value = key.period if dim in PERIODS else getattr(key, dim.value.lower())
    return [str(value) if value is not None else ""]


def to_csv(report: StatsReport) -> bytes:
    """The report as UTF-8 CSV with a BOM: a header row, then one row per group."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([h for d in report.group_by for h in KEY_COLUMNS[d]] + [c[0] for c in FIGURE_COLUMNS])
    for row in report.rows:
        keys = [cell for d in report.group_by for cell in _key_cells(d, row)]
        writer.writerow(keys + [_cell(getattr(row, attr), kind) for _, attr, kind in FIGURE_COLUMNS])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def _values(raw: Sequence[str]) -> list[str]:
    """Repeated and comma-separated parameter values, trimmed, empty ones dropped."""
    return [v.strip() for item in raw for v in item.split(",") if v.strip()]


def parse_query(
    *,
    group_by: Sequence[str] = (),
    received_from: str | None = None,
    received_to: str | None = None,
    department: str | None = None,
    channel: Sequence[str] = (),
    kind: Sequence[str] = (),
    category: Sequence[str] = (),
) -> tuple[StatsFilter, tuple[StatsDimension, ...]]:
    """The filter and grouping of a `/stats.csv` query string, or ValidationFailed naming the bad value."""

    def date(value: str | None, name: str) -> dt.date | None:
        try:
            return dt.date.fromisoformat(value) if value else None
        except ValueError:
            raise ValidationFailed(f"`{name}` must be a date like 2026-11-01") from None

    try:
        dims = tuple(StatsDimension(v.upper()) for v in _values(group_by))
        channels = tuple(Channel(v.upper()) for v in _values(channel))
        kinds = tuple(CaseKind(v.upper()) for v in _values(kind))
    except ValueError as exc:
        raise ValidationFailed(f"unknown value in the query: {exc}") from None
    statsfilter = StatsFilter(
        received_from=date(received_from, "from"),
        received_to=date(received_to, "to"),
        department=department.strip() if department and department.strip() else None,
        channel=channels,
        kind=kinds,
        category=tuple(_values(category)),
    )
    return statsfilter, dims


def _error(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse({"error": code, "message": message}, status_code=status, headers={"Cache-Control": "no-store"})


def stats_router(
    authenticate: Authenticate, sessions: async_sessionmaker[AsyncSession], settings: Settings
) -> APIRouter:
    """The CSV export endpoint; `authenticate` turns the Authorization header into a principal (or None)."""
    router = APIRouter(tags=["stats"])

    @router.get("/stats.csv", summary="Statistics as CSV (same filter and grouping as the `stats` query)")
    async def stats_csv(
        request: Request,
        group_by: list[str] = Query(default=[], alias="groupBy"),  # noqa: B008
        received_from: str | None = Query(default=None, alias="from"),
        received_to: str | None = Query(default=None, alias="to"),
        department: str | None = None,
        channel: list[str] = Query(default=[]),  # noqa: B008
        kind: list[str] = Query(default=[]),  # noqa: B008
        category: list[str] = Query(default=[]),  # noqa: B008
    ) -> Response:
        """One CSV row per group of the caller's visible cases."""
        try:
            principal = await authenticate(request.headers.get("authorization"))
        except AuthError as exc:
            return _error(401, exc.code, exc.message)
        if principal is None:
            return _error(401, "UNAUTHENTICATED", "send a bearer token")
        request_id = request.headers.get("x-request-id") or uuid.uuid4().hex[:16]
        try:
            statsfilter, dims = parse_query(
                group_by=group_by,
                received_from=received_from,
                received_to=received_to,
                department=department,
                channel=channel,
                kind=kind,
                category=category,
            )
            async with sessions() as session, session.begin():
                report = await stats(
                    ServiceContext(session, principal, settings, request_id), filter=statsfilter, group_by=dims
                )
        except NotAllowed as exc:
            return _error(403, exc.code, exc.message)
        except NotFound as exc:
            return _error(404, exc.code, exc.message)
        except HubError as exc:
            return _error(400, exc.code, exc.message)
        log.info("stats export: %d rows", len(report.rows))
        stamp = report.as_of.strftime("%Y%m%d%H%M")
        return Response(
            to_csv(report),
            media_type="text/csv; charset=utf-8",
            headers={
                "Content-Disposition": f'attachment; filename="stats-{stamp}.csv"',
                "Cache-Control": "no-store",
            },
        )

    return router
