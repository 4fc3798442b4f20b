"""Warnings, urging, overdue marks and auto-close land at the right working time across National Day."""

from __future__ import annotations

import datetime as dt

from helpers import CONNECTOR, DISPATCHER, SUPERVISOR, draft, handler
from sqlalchemy import select

from hub.cases import followup
from hub.cases import service as workflow
from hub.cases.intake import submit_case
from hub.cases.models import Case
from hub.context import ServiceContext
from hub.deadlines.enforcement import escalations, sweep
from hub.enums import CaseStatus
from hub.jobs.scheduler import Scheduler
from hub.jobs.settings import load_job_settings
from hub.trail.models import CaseEvent
from hub.trail.service import verify_chains

CST = dt.timezone(dt.timedelta(hours=8))


def at(month: int, day: int, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(2026, month, day, hour, minute, tzinfo=CST)


async def _sweep(db, clock, moment: dt.datetime):  # type: ignore[no-untyped-def]
    clock.set(moment)
    async with db.ctx() as ctx:
        return await sweep(ctx)


async def _trail(db, case_id: int) -> list[tuple[str, str | None]]:  # type: ignore[no-untyped-def]
    async with db.ctx() as ctx:
        rows = await ctx.session.execute(
            select(CaseEvent.action, CaseEvent.payload).where(CaseEvent.case_id == case_id).order_by(CaseEvent.seq)
        )
        return [(a, (p or {}).get("deadline")) for a, p in rows]


async def test_deadlines_across_national_day(district, clock) -> None:  # type: ignore[no-untyped-def]
    clock.set(at(9, 30, 9, 50))
    async with district.ctx(CONNECTOR) as ctx:
        case = (
            await submit_case(
                ctx, draft=draft(title="咨询", content="请问如何办理", kind="CONSULTATION"), auto_dispatch=False
            )
        ).case
    clock.set(at(9, 30, 10))
    async with district.ctx(DISPATCHER) as ctx:
        dispatched = await workflow.dispatch_case(ctx, case_id=case.id, lead_department="NH-ZJ")
    # 1 working day after Wed 09-30 10:00 skips 10-01..10-07: Thu 10-08 10:00; 3 working days: Sat 10-10 (调休).
    assert dispatched.sign_deadline == at(10, 8, 10) and dispatched.due_at == at(10, 10, 10)

    assert (await _sweep(district, clock, at(9, 30, 12))).warned == []
    assert (await _sweep(district, clock, at(10, 8, 7, 59))).warned == []  # warning is 2 h before: 08:00
    assert (await _sweep(district, clock, at(10, 8, 8, 30))).warned == [case.case_no]
    assert (await _sweep(district, clock, at(10, 8, 9))).warned == []  # once per deadline
    report = await _sweep(district, clock, at(10, 8, 10, 1))
    assert report.urged == [case.case_no] and report.overdue == [case.case_no]
    clock.set(at(10, 8, 11))
    async with district.ctx(handler("NH-ZJ")) as ctx:
        await workflow.claim_case(ctx, case_id=case.id)
    assert (await _sweep(district, clock, at(10, 9, 9, 59))).warned == []  # answer warning 24 h before: 10-09 10:00
    assert (await _sweep(district, clock, at(10, 9, 10, 30))).warned == [case.case_no]
    assert (await _sweep(district, clock, at(10, 10, 10, 1))).urged == [case.case_no]
    async with district.ctx(SUPERVISOR) as ctx:
        listed = await escalations(ctx)
    assert [c.case_no for c in listed.overdue_cases] == [case.case_no]
    clock.set(at(10, 10, 12))
    async with district.ctx(handler("NH-ZJ")) as ctx:
        await workflow.answer_case(ctx, case_id=case.id, content="已答复")
    # Auto-close 5 working days after Sat 10-10 12:00: Mon 12, 13, 14, 15, Fri 16 12:00.
    assert (await _sweep(district, clock, at(10, 16, 11, 59))).auto_closed == []
    assert (await _sweep(district, clock, at(10, 16, 12, 1))).auto_closed == [case.case_no]
    assert await _trail(district, case.id) == [
        ("SUBMITTED", None),
        ("DISPATCHED", None),
        ("WARNED", "sign"),
        ("URGED", "sign"),
        ("OVERDUE", "sign"),
        ("CLAIMED", None),
        ("WARNED", "answer"),
        ("URGED", "answer"),
        ("OVERDUE", "answer"),
        ("ANSWERED", None),
        ("CLOSED", None),
    ]
    async with district.ctx() as ctx:
        closed = await ctx.session.get(Case, case.id)
        assert closed is not None and closed.status is CaseStatus.CLOSED and closed.overdue
        assert (await verify_chains(ctx.session)).intact


async def _claimed_with_extension_request(db, clock):  # type: ignore[no-untyped-def]
    """A consultation dispatched Mon 2026-11-02 09:00 to 住建局, signed, with 2 more working days asked."""
    clock.set(at(11, 2, 9))
    async with db.ctx(CONNECTOR) as ctx:
        draft_ = draft(title="咨询", content="请问如何办理", kind="CONSULTATION")
        case = (await submit_case(ctx, draft=draft_, auto_dispatch=False)).case
    async with db.ctx(DISPATCHER) as ctx:
        await workflow.dispatch_case(ctx, case_id=case.id, lead_department="NH-ZJ")
    async with db.ctx(handler("NH-ZJ")) as ctx:
        await workflow.claim_case(ctx, case_id=case.id)
        request = await followup.request_extension(ctx, case_id=case.id, working_days=2, reason="需现场核查")
    return case, request


async def test_an_approved_extension_moves_the_urging(district, clock) -> None:  # type: ignore[no-untyped-def]
    case, request = await _claimed_with_extension_request(district, clock)
    async with district.ctx(DISPATCHER) as ctx:
        await followup.decide_extension(ctx, extension_id=request.id, approve=True)
    # Due Thu 11-05 09:00, extended by 2 working days: Mon 11-09 09:00.
    assert (await _sweep(district, clock, at(11, 5, 9, 30))).urged == []
    assert (await _sweep(district, clock, at(11, 9, 9, 1))).urged == [case.case_no]


async def test_a_pending_extension_pauses_deadlines_only_when_set(district, clock) -> None:  # type: ignore[no-untyped-def]
    case, _request = await _claimed_with_extension_request(district, clock)
    clock.set(at(11, 5, 9, 30))
    paused = district.settings.model_copy(update={"pause_deadlines_during_extension": True})
    async with district.ctx() as ctx:
        assert (await sweep(ServiceContext(ctx.session, ctx.actor, paused))).urged == []
    assert (await _sweep(district, clock, at(11, 5, 9, 30))).urged == [case.case_no]


async def test_the_scheduler_runs_the_deadline_sweep(district, clock) -> None:  # type: ignore[no-untyped-def]
    class Held:
        async def acquire(self) -> bool:
            return True

        async def release(self) -> None:
            return None

    clock.set(at(11, 2, 9))
    async with district.ctx(CONNECTOR) as ctx:
        case = (
            await submit_case(
                ctx, draft=draft(title="咨询", content="请问如何办理", kind="CONSULTATION"), auto_dispatch=False
            )
        ).case
    async with district.ctx(DISPATCHER) as ctx:
        await workflow.dispatch_case(ctx, case_id=case.id, lead_department="NH-ZJ")
    clock.set(at(11, 3, 9, 30))  # the sign deadline (Tue 09:00) has passed
    scheduler = Scheduler(
        settings=district.settings,
        jobs=load_job_settings(),
        sessions=district.sessions,
        lock=Held(),
        enqueue_sync=lambda _c: None,
        enqueue_reply=lambda _r: None,
    )
    await scheduler.tick(now=1000.0)
    assert ("URGED", "sign") in await _trail(district, case.id)


async def test_a_backlog_of_urged_cases_does_not_hide_later_ones(district, clock) -> None:  # type: ignore[no-untyped-def]
    """The sweep reads cases a page at a time: with pages of 2, a third case past its deadline is still urged."""
    cases = []
    for hour in (9, 10, 11):
        clock.set(at(11, 2, hour))
        async with district.ctx(CONNECTOR) as ctx:
            draft_ = draft(title=f"咨询{hour}", content="请问如何办理", kind="CONSULTATION")
            cases.append((await submit_case(ctx, draft=draft_, auto_dispatch=False)).case)
        async with district.ctx(DISPATCHER) as ctx:
            await workflow.dispatch_case(ctx, case_id=cases[-1].id, lead_department="NH-ZJ")
    numbers = [c.case_no for c in cases]
    clock.set(at(11, 3, 10, 30))  # sign deadlines Tue 09:00 and 10:00 passed; 11:00 not yet
    async with district.ctx() as ctx:
        assert (await sweep(ctx, page=2)).urged == numbers[:2]
    clock.set(at(11, 3, 11, 1))
    async with district.ctx() as ctx:
        report = await sweep(ctx, page=2)
    assert report.urged == [numbers[2]] and report.overdue == [numbers[2]]
    # Answered on Tue 11-03, nobody calls back: all three auto-close 5 working days later, across pages.
    for case in cases:
        async with district.ctx(handler("NH-ZJ")) as ctx:
            await workflow.claim_case(ctx, case_id=case.id)
            await workflow.answer_case(ctx, case_id=case.id, content="已答复")
    clock.set(at(11, 10, 12))
    async with district.ctx() as ctx:
        assert sorted((await sweep(ctx, page=2)).auto_closed) == sorted(numbers)
