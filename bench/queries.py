"""In-process query figures: case search (bigram index vs the old LIKE scan) and the 三率 statistics."""

from __future__ import annotations

import datetime as dt
import importlib.util
import statistics
import time
from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy import and_, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from auth.principal import Principal, Role
from hub.cases.models import Case
from hub.cases.queries import SEARCH_COUNT_CAP, page_of_cases
from hub.cases.types import CaseFilter, CaseOrder
from hub.context import ServiceContext
from hub.db import make_engine, make_sessionmaker
from hub.settings import Settings

SEARCH_TERMS = ("油烟", "小区停车难")
AUDITOR = Principal(subject="bench-auditor", roles=frozenset({Role.AUDITOR}))


async def _timed(run: Callable[[], Awaitable[Any]], repeat: int) -> tuple[float, Any]:
    """Median wall time (ms) of ``repeat`` runs after one warm-up, and the last result."""
    result = await run()
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        result = await run()
        times.append(1000 * (time.perf_counter() - started))
    return statistics.median(times), result


def _like_page(term: str) -> Any:
    """The search as it was before migration 0004: LIKE on title and content."""
    from hub.cases.search import _like

    return and_(_like(term))


async def search_figures(settings: Settings, *, repeat: int = 5) -> list[dict[str, Any]]:
    """Each term: the hub's connection query (count + first page of 20) and the LIKE query it replaced."""
    engine = make_engine(settings.database_url)
    sessions = make_sessionmaker(engine)
    out = []
    try:
        for term in SEARCH_TERMS:

            async def hub_search(term: str = term) -> Any:
                async with sessions() as session:
                    return await page_of_cases(
                        session,
                        filter=CaseFilter(search=term),
                        order=CaseOrder.RECEIVED_AT_DESC,
                        first=20,
                        after=None,
                        scope_department_id=None,
                    )

            async def like_search(term: str = term) -> Any:
                async with sessions() as session:
                    cond = _like_page(term)
                    total = await session.scalar(select(func.count()).select_from(Case).where(cond))
                    rows = (
                        await session.execute(
                            select(Case.id).where(cond).order_by(Case.received_at.desc(), Case.id.desc()).limit(21)
                        )
                    ).all()
                    return total, rows

            ms, page = await _timed(hub_search, repeat)
            base_ms, (base_total, _) = await _timed(like_search, max(1, repeat // 2))
            out.append(
                {
                    "term": term,
                    "ms": round(ms, 1),
                    "matches": page.total,
                    "matches_capped": page.total_capped,
                    "baseline_like_ms": round(base_ms, 1),
                    "baseline_matches": base_total,
                    # a search counts up to SEARCH_COUNT_CAP; past it the hub says "1,000+"
                    "same_matches": page.total == min(base_total, SEARCH_COUNT_CAP)
                    and page.total_capped == (base_total > SEARCH_COUNT_CAP),
                }
            )
    finally:
        await engine.dispose()
    return out


def stats_available() -> bool:
    """Whether hub/stats (service and the hand-written reference SQL) has landed."""
    return all(importlib.util.find_spec(m) is not None for m in ("hub.stats.service", "hub.stats.sql_reference"))


async def stats_figures(settings: Settings, *, repeat: int = 3) -> dict[str, Any]:
    """`stats(group_by=[DEPARTMENT, MONTH])` over all data vs hub/stats/sql_reference.py, same run."""
    from hub.stats.service import stats
    from hub.stats.sql_reference import sanlv_query
    from hub.stats.types import StatsDimension

    engine = make_engine(settings.database_url)
    sessions = make_sessionmaker(engine)
    dims = [StatsDimension.DEPARTMENT, StatsDimension.MONTH]
    params = {
        "tz": settings.timezone,
        "received_from": dt.datetime(1970, 1, 1, tzinfo=dt.UTC),
        "received_to": dt.datetime(2100, 1, 1, tzinfo=dt.UTC),
    }

    async def hub_stats(handling_time: bool = False) -> Any:
        async with sessions() as session:
            report = await stats(ServiceContext(session, AUDITOR, settings), group_by=dims, handling_time=handling_time)
            await session.rollback()  # the auditor's read-log row: not part of the figure
            return report

    async def reference() -> Any:
        async with sessions() as session:
            return (await session.execute(sanlv_query(), params)).all()

    try:
        ms, report = await _timed(hub_stats, repeat)
        full_ms, _ = await _timed(lambda: hub_stats(True), 1)
        ref_ms, rows = await _timed(reference, repeat)
    finally:
        await engine.dispose()
    received = sum(getattr(r, "received", 0) for r in report.rows)
    return {
        "ms": round(ms, 1),
        "with_handling_time_ms": round(full_ms, 1),
        "reference_ms": round(ref_ms, 1),
        "ratio": round(ms / ref_ms, 2) if ref_ms else None,
        "groups": len(report.rows),
        "reference_groups": len(rows),
        "received": received,
        "reference_received": int(sum(r.received for r in rows)),
    }


async def count_cases(session: AsyncSession) -> int:
    """How many cases the database holds."""
    return int(await session.scalar(select(func.count()).select_from(Case)) or 0)
