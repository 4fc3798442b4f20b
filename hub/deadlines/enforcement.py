"""Deadlines enforced: a warning before each deadline, urging (催办) and an overdue mark when one passes,
auto-close of answered cases nobody called back, and the escalation list for supervisors."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from auth.permission import Operation
from auth.principal import SYSTEM
from hub.cases import service as workflow
from hub.cases.models import Case, SupervisionOrder
from hub.cases.notices import notices_for, publish
from hub.cases.steps import iso, record
from hub.clock import utcnow
from hub.context import ServiceContext
from hub.deadlines import repository
from hub.deadlines.service import calendar_for, policy_for
from hub.enums import CaseAction, CaseStatus
from hub.events import EventBus
from hub.permissions import require
from hub.settings import Settings

A = CaseAction


@dataclass
class SweepReport:
    """What one pass did."""

    warned: list[str] = field(default_factory=list)
    urged: list[str] = field(default_factory=list)
    overdue: list[str] = field(default_factory=list)
    auto_closed: list[str] = field(default_factory=list)


def _deadlines(case: Case) -> list[tuple[str, dt.datetime]]:
    out: list[tuple[str, dt.datetime]] = []
    if case.status is CaseStatus.DISPATCHED and case.sign_deadline is not None:
        out.append(("sign", case.sign_deadline))
    if case.status in (CaseStatus.DISPATCHED, CaseStatus.CLAIMED) and case.due_at is not None:
        out.append(("answer", case.due_at))
    return out


async def sweep(ctx: ServiceContext, *, now: dt.datetime | None = None, page: int = 5000) -> SweepReport:
    """One enforcement pass as the system; idempotent: each warning, urging and mark is written once per deadline.

    Cases are read ``page`` at a time by id, so a backlog of cases already urged never hides the ones after it.
    """
    ctx = ctx.as_actor(SYSTEM)
    now = now or utcnow()
    settings, report = ctx.settings, SweepReport()
    sign_warn = dt.timedelta(hours=settings.sign_warning_hours)
    answer_warn = dt.timedelta(hours=settings.answer_warning_hours)
    after = 0
    while cases := await repository.cases_near_deadlines(
        ctx.session, sign_horizon=now + sign_warn, answer_horizon=now + answer_warn, after_id=after, limit=page
    ):
        await _enforce(ctx, cases, now=now, warn={"sign": sign_warn, "answer": answer_warn}, report=report)
        after = cases[-1].id
    calendar, policy = await calendar_for(ctx.session, settings=settings), policy_for(settings)
    # A case answered N working days ago is at least N calendar days old: prefilter by that in SQL.
    answered_before, after = now - dt.timedelta(days=settings.auto_close_working_days), 0
    while stale := await repository.answered_before(
        ctx.session, answered_before=answered_before, after_id=after, limit=page
    ):
        after = stale[-1].id
        for case in stale:
            if case.answered_at is not None and policy.auto_close_at(calendar, case.answered_at) <= now:
                await workflow.close_case(ctx, case_id=case.id, note="回访期满未回访，系统自动办结")
                report.auto_closed.append(case.case_no)
    return report


async def _enforce(
    ctx: ServiceContext, cases: list[Case], *, now: dt.datetime, warn: dict[str, dt.timedelta], report: SweepReport
) -> None:
    """Warn, urge and mark one page of cases near or past their deadlines."""
    ids = [c.id for c in cases]
    done = await repository.deadline_keys(ctx.session, case_ids=ids)
    paused = (
        await repository.cases_with_pending_extension(ctx.session, case_ids=ids)
        if ctx.settings.pause_deadlines_during_extension
        else set()
    )
    for case in cases:
        if case.id in paused:
            continue
        for which, deadline in _deadlines(case):
            key = f"{which}:{iso(deadline)}"
            payload = {"deadline": which, "at": iso(deadline), "key": key}
            if deadline - warn[which] <= now < deadline and (case.id, A.WARNED.value, key) not in done:
                await record(ctx, case, A.WARNED, from_status=case.status, payload=payload)
                report.warned.append(case.case_no)
            if now >= deadline and (case.id, A.URGED.value, key) not in done:
                await record(ctx, case, A.URGED, from_status=case.status, payload=payload)
                report.urged.append(case.case_no)
                if (case.id, A.OVERDUE.value, key) not in done:
                    case.overdue = True
                    await record(ctx, case, A.OVERDUE, from_status=case.status, payload=payload)
                    report.overdue.append(case.case_no)


@dataclass(frozen=True)
class Escalations:
    """What supervisors should look at: overdue open cases and overdue supervision orders."""

    overdue_cases: list[Case]
    overdue_orders: list[SupervisionOrder]


async def escalations(ctx: ServiceContext, *, limit: int = 100) -> Escalations:
    """The escalation list (supervisors, auditors, the centre)."""
    require(ctx.actor, Operation.ESCALATIONS_READ)
    return Escalations(
        overdue_cases=await repository.overdue_open_cases(ctx.session, limit=limit),
        overdue_orders=await repository.overdue_orders(ctx.session, now=utcnow()),
    )


async def run_sweep(
    sessions: async_sessionmaker[AsyncSession], settings: Settings, bus: EventBus | None = None
) -> SweepReport:
    """One enforcement pass in its own transaction; its events go to live subscribers after the commit."""
    async with sessions() as session:
        async with session.begin():
            report = await sweep(ServiceContext(session, SYSTEM, settings))
            notices = await notices_for(session)
    if bus is not None:
        await publish(bus, notices)
    return report
