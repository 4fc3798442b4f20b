"""`stats` against hand counts of the eight cases in conftest.py, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import statistics
from typing import Any

import pytest
from helpers import AUDITOR, CONNECTOR, DISPATCHER, SUPERVISOR, handler
from sqlalchemy import func, select

from auth.principal import Principal, Role
from hub.enums import CaseKind, Channel
from hub.errors import NotAllowed, UnknownDepartment, ValidationFailed
from hub.stats import service
from hub.stats.service import stats
from hub.stats.types import StatsDimension, StatsFilter, StatsReport
from hub.trail.models import ReadLog

D = StatsDimension
FIGURES = (
    "received",
    "dispatched",
    "signed",
    "signed_on_time",
    "answered",
    "answered_on_time",
    "callbacks",
    "resolved",
    "satisfied",
    "returned",
    "extended",
    "reopened",
    "overdue_now",
    "supervised",
    "handled",
    "handling_hours_median",
    "handling_hours_p90",
)
N = None
#        recv disp sign ontime answ ontime cb  res sat  ret ext reop over sup  n  median p90
HB = (3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 0, 0, 1, 1, 1, 4.0, 4.0)  # A C G; D returned by HB; C overdue+supervised
ZJ = (3, 3, 3, 2, 2, 1, 2, 1, 1, 0, 1, 1, 1, 0, 2, 40.0, 44.0)  # B D H; B late sign; D late answer; H overdue
NO_LEAD = (2, 0, 0, 0, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, N, N)  # E (never dispatched), F (answered by the centre)
# p90 of [35, 45] by linear interpolation: 35 + 0.9 × 10 = 44.0; median 40.0


async def _stats(db: Any, actor: Principal = AUDITOR, **kw: Any) -> StatsReport:
    async with db.ctx(actor) as ctx:
        return await stats(ctx, **kw)


def _table(report: StatsReport, *key_fields: str) -> dict[tuple[Any, ...], tuple[Any, ...]]:
    out = {}
    for row in report.rows:
        figures = tuple(getattr(row, f) for f in FIGURES)
        figures = tuple(round(v, 6) if isinstance(v, float) else v for v in figures)
        out[tuple(getattr(row.key, k) for k in key_fields)] = figures
    return out


async def test_by_department(district, seeded) -> None:  # type: ignore[no-untyped-def]
    report = await _stats(district, group_by=[D.DEPARTMENT])
    assert _table(report, "department") == {("NH-HB",): HB, ("NH-ZJ",): ZJ, (None,): NO_LEAD}
    assert [r.key.department for r in report.rows] == ["NH-HB", "NH-ZJ", None]  # the unassigned group last
    hb, zj, _ = report.rows
    assert hb.key.department_name == "区生态环境局"
    assert (hb.response_rate, hb.on_time_rate, hb.resolution_rate, hb.satisfaction_rate) == (1.0, 1.0, 1.0, 1.0)
    assert zj.response_rate == pytest.approx(2 / 3)
    assert (zj.on_time_rate, zj.resolution_rate, zj.satisfaction_rate) == (0.5, 0.5, 0.5)
    assert report.as_of == dt.datetime(2026, 11, 25, 1, 30, tzinfo=dt.UTC)


async def test_by_month_in_local_time(district, seeded) -> None:  # type: ignore[no-untyped-def]
    report = await _stats(district, group_by=[D.MONTH])
    # C arrived at 00:30 on 1 November in Nanhai, still 31 October in UTC: it belongs to November.
    assert _table(report, "period") == {
        ("2026-09",): (1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 1, 4.0, 4.0),  # A
        # B C D E F G H: dispatched B C D G H; signed B(late) C D H; answered B D(late) F;
        # callbacks B×2 + F; resolved B(2nd) F; satisfied B(2nd) F; overdue C H; handled B 45, D 35.
        ("2026-11",): (7, 5, 4, 3, 3, 2, 3, 2, 2, 1, 1, 1, 2, 1, 2, 40.0, 44.0),
    }


async def test_by_channel(district, seeded) -> None:  # type: ignore[no-untyped-def]
    report = await _stats(district, group_by=[D.CHANNEL])
    assert _table(report, "channel") == {
        # A D F H: D answered late; D's return counts here; H overdue; handled A 4, D 35 → median 19.5,
        # p90 4 + 0.9 × 31 = 31.9
        (Channel.HOTLINE,): (4, 3, 3, 3, 3, 2, 2, 2, 2, 1, 0, 0, 1, 0, 2, 19.5, 31.9),
        (Channel.WEBSITE,): (1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, N, N),  # E
        (Channel.WECHAT,): (1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 0, N, N),  # C
        (Channel.WEIBO,): (2, 2, 1, 0, 1, 1, 2, 1, 1, 0, 1, 1, 0, 0, 1, 45.0, 45.0),  # B G
    }


async def test_by_department_and_month(district, seeded) -> None:  # type: ignore[no-untyped-def]
    report = await _stats(district, group_by=[D.DEPARTMENT, D.MONTH])
    assert _table(report, "department", "period") == {
        ("NH-HB", "2026-09"): (1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 1, 4.0, 4.0),  # A
        ("NH-HB", "2026-11"): (2, 2, 1, 1, 0, 0, 0, 0, 0, 1, 0, 0, 1, 1, 0, N, N),  # C G, and D returned
        ("NH-ZJ", "2026-11"): ZJ,
        (None, "2026-11"): NO_LEAD,
    }


async def test_totals_kind_and_category(district, seeded) -> None:  # type: ignore[no-untyped-def]
    total = await _stats(district)
    # handled [4, 35, 45]: median 35, p90 at position 1.8 → 35 + 0.8 × 10 = 43.0
    assert _table(total) == {(): (8, 6, 5, 4, 4, 3, 4, 3, 3, 1, 1, 1, 2, 1, 3, 35.0, 43.0)}
    assert total.handling_sample_stride == 1
    by_kind = await _stats(district, group_by=[D.KIND])
    assert {k: v[0] for k, v in _table(by_kind, "kind").items()} == {
        (CaseKind.COMPLAINT,): 3,  # A C G
        (CaseKind.CONSULTATION,): 2,  # D F
        (CaseKind.HELP,): 2,  # B H
        (CaseKind.SUGGESTION,): 1,  # E
    }
    by_category = await _stats(district, group_by=[D.CATEGORY])
    received = {k: v[0] for k, v in _table(by_category, "category").items()}
    assert received == {("交通运输",): 1, ("商贸旅游",): 1, ("城乡建设",): 3, ("环境保护",): 3}


async def test_handling_time_can_be_skipped_or_sampled(district, seeded, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    skipped = await _stats(district, handling_time=False)
    assert skipped.handling_sample_stride == 0
    assert _table(skipped) == {(): (8, 6, 5, 4, 4, 3, 4, 3, 3, 1, 1, 1, 2, 1, 3, N, N)}
    monkeypatch.setattr(service, "MAX_HANDLING_SAMPLE", 2)
    sampled = await _stats(district)
    # 3 handled cases, at most 2 read: every 2nd case by id.
    assert sampled.handling_sample_stride == 2 and sampled.rows[0].handled == 3
    hours = {"A": 4.0, "B": 45.0, "D": 35.0}
    sample = sorted(h for name, h in hours.items() if seeded[name] % 2 == 0)
    assert sampled.rows[0].handling_hours_median == (statistics.median(sample) if sample else None)


async def test_by_day_and_week(district, seeded) -> None:  # type: ignore[no-untyped-def]
    by_day = await _stats(district, group_by=[D.DAY])
    assert {k: v[0] for k, v in _table(by_day, "period").items()} == {
        ("2026-09-30",): 1,
        ("2026-11-01",): 1,
        ("2026-11-02",): 2,
        ("2026-11-03",): 2,
        ("2026-11-16",): 1,
        ("2026-11-17",): 1,
    }
    by_week = await _stats(district, group_by=[D.WEEK])
    # Weeks start on Monday: C (Sunday 1 November) belongs to the week of 26 October.
    assert {k: v[0] for k, v in _table(by_week, "period").items()} == {
        ("2026-09-28",): 1,
        ("2026-10-26",): 1,
        ("2026-11-02",): 4,
        ("2026-11-16",): 2,
    }


async def test_filters(district, seeded) -> None:  # type: ignore[no-untyped-def]
    async def received(**kw: Any) -> int:
        report = await _stats(district, filter=StatsFilter(**kw))
        return sum(r.received for r in report.rows)

    november = {"received_from": dt.date(2026, 11, 1), "received_to": dt.date(2026, 11, 30)}
    assert await received(**november) == 7  # C's local date is 1 November
    assert await received(received_from=dt.date(2026, 11, 2)) == 6
    assert await received(received_to=dt.date(2026, 10, 31)) == 1  # only A
    assert await received(received_from=dt.date(2026, 11, 17), received_to=dt.date(2026, 11, 17)) == 1  # H
    assert await received(channel=(Channel.HOTLINE, Channel.WEIBO)) == 6
    assert await received(kind=(CaseKind.COMPLAINT,), **november) == 2  # C G
    hb_only = await _stats(district, filter=StatsFilter(department="NH-HB"))
    assert _table(hb_only) == {(): HB}
    # Within 城乡建设, HB leads nothing but returned D.
    category = await _stats(district, filter=StatsFilter(category=("城乡建设",)), group_by=[D.DEPARTMENT])
    table = _table(category, "department")
    assert table[("NH-ZJ",)] == ZJ
    assert table[("NH-HB",)][:10] == (0, 0, 0, 0, 0, 0, 0, 0, 0, 1)


async def test_handler_sees_only_its_department(district, seeded) -> None:  # type: ignore[no-untyped-def]
    mine = await _stats(district, handler("NH-HB"), group_by=[D.MONTH])
    everyone = await _stats(district, DISPATCHER, filter=StatsFilter(department="NH-HB"), group_by=[D.MONTH])
    assert _table(mine, "period") == _table(everyone, "period")
    assert sum(r.received for r in mine.rows) == 3
    own = await _stats(district, handler("NH-HB"), filter=StatsFilter(department="NH-HB"))
    assert _table(own) == {(): HB}
    with pytest.raises(NotAllowed):
        await _stats(district, handler("NH-HB"), filter=StatsFilter(department="NH-ZJ"))
    unbound = Principal(subject="h", roles=frozenset({Role.HANDLER}))
    with pytest.raises(NotAllowed):
        await _stats(district, unbound)
    with pytest.raises(NotAllowed):
        await _stats(district, CONNECTOR)


async def test_watched_roles_are_read_logged(district, seeded) -> None:  # type: ignore[no-untyped-def]
    async def logged() -> list[tuple[str, str, str | None]]:
        async with district.ctx() as ctx:
            rows = await ctx.session.execute(select(ReadLog.subject, ReadLog.action, ReadLog.target))
            return [tuple(r) for r in rows.all()]

    before = len(await logged())
    await _stats(district, AUDITOR, filter=StatsFilter(department="NH-ZJ"), group_by=[D.MONTH])
    await _stats(district, SUPERVISOR)
    await _stats(district, handler("NH-HB"))
    await _stats(district, DISPATCHER)
    rows = (await logged())[before:]
    assert rows == [
        ("auditor", "stats", "groupBy=MONTH; department=NH-ZJ"),
        ("supervisor", "stats", "groupBy=-"),
    ]


async def test_refuses_bad_requests(district) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValidationFailed):
        await _stats(district, group_by=[D.MONTH, D.MONTH])
    with pytest.raises(ValidationFailed):
        await _stats(district, group_by=[D.DAY, D.MONTH])
    with pytest.raises(ValidationFailed):
        await _stats(district, filter=StatsFilter(received_from=dt.date(2026, 2, 1), received_to=dt.date(2026, 1, 1)))
    with pytest.raises(UnknownDepartment):
        await _stats(district, filter=StatsFilter(department="NOPE"))
    async with district.ctx() as ctx:
        assert await ctx.session.scalar(select(func.count()).select_from(ReadLog)) == 0


async def test_empty_database(district, clock) -> None:  # type: ignore[no-untyped-def]
    assert (await _stats(district, group_by=[D.DEPARTMENT])).rows == []
    total = await _stats(district)
    assert len(total.rows) == 1 and total.rows[0].received == 0 and total.rows[0].response_rate is None
