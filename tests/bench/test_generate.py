"""The benchmark's data generator: valid hash chains, realistic mixes, resumable and reproducible, both backends."""

from __future__ import annotations

import asyncio
import datetime as dt

from sqlalchemy import func, select

from bench.generate import generate, plan_days
from hub.cases.models import Callback, Case, CaseCoDepartment, ExtensionRequest, Reply, SupervisionOrder
from hub.citizens.models import CitizenIdentity
from hub.trail.models import CaseEvent
from hub.trail.service import verify_chains

END = dt.datetime(2026, 11, 25, 18, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))


def test_plan_spreads_exactly_the_cases_over_three_years() -> None:
    plan = plan_days(100_000, 1, END.date())
    assert sum(n for _, n in plan) == 100_000
    assert len(plan) == 3 * 365 and plan[-1][0] == END.date()
    assert plan == plan_days(100_000, 1, END.date())


async def _counts(db, column) -> dict[str, int]:  # type: ignore[no-untyped-def]
    async with db.sessions() as session:
        return {str(k): int(n) for k, n in await session.execute(select(column, func.count()).group_by(column))}


async def _count(db, model) -> int:  # type: ignore[no-untyped-def]
    async with db.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def test_tiny_history_has_valid_chains_and_realistic_mixes(db) -> None:  # type: ignore[no-untyped-def]
    report = await asyncio.to_thread(generate, db.url, cases=600, seed=3, end=END)
    assert report.cases == 600
    async with db.sessions() as session:
        verified = await verify_chains(session)
    assert verified.intact, verified.broken[:3]
    assert verified.cases_checked == 600 and verified.events_checked == report.events
    channels = await _counts(db, Case.channel)
    assert set(channels) == {"HOTLINE", "WEBSITE", "WEIBO", "WECHAT"}
    assert channels["HOTLINE"] > channels["WECHAT"] > channels["WEIBO"]
    assert len(await _counts(db, Case.kind)) >= 6
    assert len(await _counts(db, Case.category)) >= 7
    statuses = await _counts(db, Case.status)
    assert statuses["CLOSED"] > 500 and statuses.get("MERGED", 0) > 0
    assert sum(statuses.get(s, 0) for s in ("RECEIVED", "DISPATCHED", "CLAIMED", "ANSWERED")) > 0
    actions = await _counts(db, CaseEvent.action)
    for action in (
        "SUBMITTED",
        "DISPATCHED",
        "CLAIMED",
        "RETURNED",
        "ANSWERED",
        "EXTENSION_DECIDED",
        "SUPERVISED",
        "CALLBACK_RECORDED",
        "CLOSED",
        "OVERDUE",
    ):
        assert actions.get(action, 0) > 0, action
    for model in (CaseCoDepartment, Reply, Callback, ExtensionRequest, SupervisionOrder):
        assert await _count(db, model) > 0, model.__name__
    assert {"PHONE", "WECHAT", "WEIBO", "WEBSITE"} <= set(await _counts(db, CitizenIdentity.kind))
    async with db.sessions() as session:
        open_old = await session.scalar(
            select(func.count())
            .select_from(Case)
            .where(
                Case.status.in_(("RECEIVED", "DISPATCHED", "CLAIMED")), Case.received_at < END - dt.timedelta(days=120)
            )
        )
        assert open_old == 0  # statuses follow age: old cases are done


async def test_history_built_in_steps_is_the_same_history(db, tmp_path) -> None:  # type: ignore[no-untyped-def]
    first = await asyncio.to_thread(generate, db.url, cases=300, seed=5, end=END, stop_after=120)
    rest = await asyncio.to_thread(generate, db.url, cases=300, seed=5, end=END)
    assert first.cases + rest.cases == 300
    whole_url = f"sqlite+aiosqlite:///{tmp_path / 'whole.sqlite3'}"
    await asyncio.to_thread(generate, whole_url, cases=300, seed=5, end=END)
    from hub.db import make_engine, make_sessionmaker

    engine = make_engine(whole_url)
    try:
        stmt = select(CaseEvent.case_id, CaseEvent.seq, CaseEvent.hash).order_by(CaseEvent.case_id, CaseEvent.seq)
        async with make_sessionmaker(engine)() as session:
            whole = list(await session.execute(stmt))
        async with db.sessions() as session:
            stepped = list(await session.execute(stmt))
            verified = await verify_chains(session)
    finally:
        await engine.dispose()
    assert verified.intact
    assert stepped == whole
