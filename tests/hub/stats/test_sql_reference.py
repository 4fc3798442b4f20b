"""The benchmark's hand-written PostgreSQL query agrees with `stats` by department and month."""

from __future__ import annotations

import datetime as dt

import pytest
from helpers import AUDITOR

from hub.stats.service import stats
from hub.stats.sql_reference import sanlv_query
from hub.stats.types import StatsDimension

WIDE = {"received_from": dt.datetime(2000, 1, 1, tzinfo=dt.UTC), "received_to": dt.datetime(2100, 1, 1, tzinfo=dt.UTC)}
COUNTS = ("received", "signed", "signed_on_time", "answered", "answered_on_time", "callbacks", "resolved", "satisfied")
RATES = ("response_rate", "on_time_rate", "resolution_rate", "satisfaction_rate")


async def test_reference_query_matches_stats(district, seeded) -> None:  # type: ignore[no-untyped-def]
    if district.backend != "postgresql":
        pytest.skip("the reference query is PostgreSQL SQL")
    async with district.ctx(AUDITOR) as ctx:
        report = await stats(ctx, group_by=[StatsDimension.DEPARTMENT, StatsDimension.MONTH])
        rows = (await ctx.session.execute(sanlv_query(), {"tz": district.settings.timezone, **WIDE})).mappings().all()
    expected = {
        (r.key.department, r.key.period): (
            tuple(getattr(r, c) for c in COUNTS),
            tuple(None if getattr(r, x) is None else round(getattr(r, x), 6) for x in RATES),
        )
        for r in report.rows
    }
    actual = {
        (row["department"], row["month"]): (
            tuple(int(row[c]) for c in COUNTS),
            tuple(None if row[x] is None else round(float(row[x]), 6) for x in RATES),
        )
        for row in rows
    }
    assert actual == expected
    assert actual[("NH-ZJ", "2026-11")] == ((3, 3, 2, 2, 1, 2, 1, 1), (0.666667, 0.5, 0.5, 0.5))
    assert [(row["department"], row["month"]) for row in rows] == list(expected)  # same order
