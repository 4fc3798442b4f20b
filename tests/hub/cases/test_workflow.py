"""The workflow of DESIGN §2 end to end, and every refusal changing nothing."""

from __future__ import annotations

import datetime as dt

import pytest
from helpers import AUDITOR, CONNECTOR, DISPATCHER, SUPERVISOR, draft, handler
from sqlalchemy import func, select

from hub.cases import followup
from hub.cases import repository as case_repo
from hub.cases import service as workflow
from hub.cases.intake import submit_case
from hub.cases.models import Case, Reply
from hub.enums import CaseStatus, Satisfaction
from hub.errors import (
    ExtensionTooLong,
    IllegalTransition,
    MissingReason,
    NotAllowed,
    NotFound,
    ReturnWindowClosed,
    UnknownDepartment,
)
from hub.trail.models import CaseEvent
from hub.trail.service import verify_chains

# A message no keyword rule catches, so it waits in RECEIVED for the centre.
PLAIN = {"title": "咨询一件事情", "content": "想了解一下相关规定，麻烦告知。", "kind": "CONSULTATION"}


async def _submit(db, **kw) -> Case:  # type: ignore[no-untyped-def]
    async with db.ctx(CONNECTOR) as ctx:
        result = await submit_case(ctx, draft=draft(**kw), auto_dispatch=False)
    return result.case


async def _events(db, case_id: int) -> list[str]:  # type: ignore[no-untyped-def]
    async with db.ctx() as ctx:
        rows = await ctx.session.execute(
            select(CaseEvent.action).where(CaseEvent.case_id == case_id).order_by(CaseEvent.seq)
        )
        return list(rows.scalars())


async def _status(db, case_id: int) -> CaseStatus:  # type: ignore[no-untyped-def]
    async with db.ctx() as ctx:
        case = await ctx.session.get(Case, case_id)
        assert case is not None
        return case.status


async def test_full_flow_writes_one_chained_event_per_step(district, clock) -> None:  # type: ignore[no-untyped-def]
    case = await _submit(district, **PLAIN)
    assert case.status is CaseStatus.RECEIVED and case.case_no.startswith("NH20261125")
    async with district.ctx(DISPATCHER) as ctx:
        await workflow.dispatch_case(ctx, case_id=case.id, lead_department="NH-HB", co_departments=["NH-CG"])
    clock.advance(hours=1)
    async with district.ctx(handler("NH-HB")) as ctx:
        await workflow.claim_case(ctx, case_id=case.id)
    async with district.ctx(handler("NH-HB")) as ctx:
        await followup.request_extension(ctx, case_id=case.id, working_days=5, reason="需要现场监测")
    async with district.ctx(DISPATCHER) as ctx:
        ext = await case_repo.pending_extension(ctx.session, case_id=case.id)
        assert ext is not None
        before = (await ctx.session.get(Case, case.id)).due_at  # type: ignore[union-attr]
        decided = await followup.decide_extension(ctx, extension_id=ext.id, approve=True)
        assert decided.new_due_at is not None and before is not None and decided.new_due_at > before
    async with district.ctx(SUPERVISOR) as ctx:
        await followup.supervise_case(ctx, case_id=case.id, note="请加快办理")
    async with district.ctx(handler("NH-HB")) as ctx:
        done, reply = await workflow.answer_case(
            ctx, case_id=case.id, content="经现场检查，已责令餐馆安装油烟净化设备。"
        )
        assert done.status is CaseStatus.ANSWERED and reply.delivery_status.value == "PENDING"
    async with district.ctx(DISPATCHER) as ctx:
        closed = await followup.record_callback(ctx, case_id=case.id, satisfaction=Satisfaction.SATISFIED, solved=True)
        assert closed.status is CaseStatus.CLOSED
    assert await _events(district, case.id) == [
        "SUBMITTED",
        "DISPATCHED",
        "CLAIMED",
        "EXTENSION_REQUESTED",
        "EXTENSION_DECIDED",
        "SUPERVISED",
        "ANSWERED",
        "CALLBACK_RECORDED",
    ]
    async with district.ctx() as ctx:
        report = await verify_chains(ctx.session)
    assert report.intact and report.events_checked == 8


async def test_dissatisfied_callback_reopens_to_the_same_department(district, clock) -> None:  # type: ignore[no-untyped-def]
    case = await _submit(district, **PLAIN)
    async with district.ctx(DISPATCHER) as ctx:
        await workflow.dispatch_case(ctx, case_id=case.id, lead_department="NH-ZJ")
    async with district.ctx(handler("NH-ZJ")) as ctx:
        await workflow.claim_case(ctx, case_id=case.id)
        await workflow.answer_case(ctx, case_id=case.id, content="已答复")
    clock.advance(days=1)
    async with district.ctx(DISPATCHER) as ctx:
        reopened = await followup.record_callback(
            ctx, case_id=case.id, satisfaction=Satisfaction.DISSATISFIED, solved=False, note="问题未解决"
        )
    assert reopened.status is CaseStatus.CLAIMED and reopened.reopen_count == 1
    assert reopened.due_at is not None and reopened.due_at > clock.current
    async with district.ctx(handler("NH-ZJ")) as ctx:
        again, _ = await workflow.answer_case(ctx, case_id=case.id, content="再次答复")
    assert again.status is CaseStatus.ANSWERED


async def test_direct_answer_by_the_centre(district, clock) -> None:  # type: ignore[no-untyped-def]
    case = await _submit(district, **PLAIN)
    async with district.ctx(DISPATCHER) as ctx:
        answered, _ = await workflow.answer_case(ctx, case_id=case.id, content="您好，相关规定如下……")
    assert answered.status is CaseStatus.ANSWERED and answered.lead_department_id is None


@pytest.mark.parametrize(
    "step",
    ["close_received", "answer_dispatched", "close_claimed", "dispatch_closed", "merge_closed"],
)
async def test_illegal_transitions_change_nothing(district, clock, step: str) -> None:  # type: ignore[no-untyped-def]
    case = await _submit(district, **PLAIN)
    other = await _submit(district, **PLAIN)
    if step != "close_received":
        async with district.ctx(DISPATCHER) as ctx:
            await workflow.dispatch_case(ctx, case_id=case.id, lead_department="NH-ZJ")
    if step in ("close_claimed", "dispatch_closed", "merge_closed"):
        async with district.ctx(handler("NH-ZJ")) as ctx:
            await workflow.claim_case(ctx, case_id=case.id)
    if step in ("dispatch_closed", "merge_closed"):
        async with district.ctx(handler("NH-ZJ")) as ctx:
            await workflow.answer_case(ctx, case_id=case.id, content="已处理")
        async with district.ctx(DISPATCHER) as ctx:
            await workflow.close_case(ctx, case_id=case.id)
    status, events = await _status(district, case.id), await _events(district, case.id)
    with pytest.raises(IllegalTransition) as err:
        if step == "close_received":
            async with district.ctx(DISPATCHER) as ctx:
                await workflow.close_case(ctx, case_id=case.id)
        elif step == "answer_dispatched":
            async with district.ctx(handler("NH-ZJ")) as ctx:
                await workflow.answer_case(ctx, case_id=case.id, content="跳过签收")
        elif step == "close_claimed":
            async with district.ctx(DISPATCHER) as ctx:
                await workflow.close_case(ctx, case_id=case.id)
        elif step == "dispatch_closed":
            async with district.ctx(DISPATCHER) as ctx:
                await workflow.dispatch_case(ctx, case_id=case.id, lead_department="NH-HB")
        else:
            async with district.ctx(DISPATCHER) as ctx:
                await workflow.merge_cases(ctx, primary_id=other.id, duplicate_ids=[case.id])
    assert err.value.code == "ILLEGAL_TRANSITION" and case.case_no in err.value.message
    assert await _status(district, case.id) is status
    assert await _events(district, case.id) == events


async def test_handler_of_another_department_gets_not_found(district, clock) -> None:  # type: ignore[no-untyped-def]
    case = await _submit(district, **PLAIN)
    async with district.ctx(DISPATCHER) as ctx:
        await workflow.dispatch_case(ctx, case_id=case.id, lead_department="NH-ZJ", co_departments=["NH-CG"])
    with pytest.raises(NotFound):
        async with district.ctx(handler("NH-JY")) as ctx:
            await workflow.claim_case(ctx, case_id=case.id)
    with pytest.raises(NotAllowed):  # co-handling sees the case but does not sign for it
        async with district.ctx(handler("NH-CG")) as ctx:
            await workflow.claim_case(ctx, case_id=case.id)
    with pytest.raises(NotAllowed):
        async with district.ctx(AUDITOR) as ctx:
            await workflow.close_case(ctx, case_id=case.id)
    with pytest.raises(NotAllowed):
        async with district.ctx(CONNECTOR) as ctx:
            await workflow.dispatch_case(ctx, case_id=case.id, lead_department="NH-ZJ")
    assert await _status(district, case.id) is CaseStatus.DISPATCHED
    assert await _events(district, case.id) == ["SUBMITTED", "DISPATCHED"]


async def test_unknown_department_is_refused(district, clock) -> None:  # type: ignore[no-untyped-def]
    case = await _submit(district, **PLAIN)
    for lead, co in (("NH-XX", []), ("NH-ZJ", ["NOPE"])):
        with pytest.raises(UnknownDepartment) as err:
            async with district.ctx(DISPATCHER) as ctx:
                await workflow.dispatch_case(ctx, case_id=case.id, lead_department=lead, co_departments=co)
        assert "NH-XX" in err.value.message or "NOPE" in err.value.message
    assert await _status(district, case.id) is CaseStatus.RECEIVED
    assert await _events(district, case.id) == ["SUBMITTED"]


async def test_return_needs_a_reason_and_its_window(district, clock) -> None:  # type: ignore[no-untyped-def]
    case = await _submit(district, **PLAIN)
    async with district.ctx(DISPATCHER) as ctx:
        await workflow.dispatch_case(ctx, case_id=case.id, lead_department="NH-ZJ")
    with pytest.raises(MissingReason):
        async with district.ctx(handler("NH-ZJ")) as ctx:
            await workflow.return_case(ctx, case_id=case.id, reason="   ")
    # Dispatched Wed 2026-11-25 09:30: the 2-working-day window ends Fri 11-27 09:30.
    clock.set(dt.datetime(2026, 11, 27, 9, 31, tzinfo=dt.timezone(dt.timedelta(hours=8))))
    with pytest.raises(ReturnWindowClosed):
        async with district.ctx(handler("NH-ZJ")) as ctx:
            await workflow.return_case(ctx, case_id=case.id, reason="不属于我局职责")
    assert await _status(district, case.id) is CaseStatus.DISPATCHED
    assert await _events(district, case.id) == ["SUBMITTED", "DISPATCHED"]


async def test_return_within_window_goes_back_to_the_centre(district, clock) -> None:  # type: ignore[no-untyped-def]
    case = await _submit(district, **PLAIN)
    async with district.ctx(DISPATCHER) as ctx:
        await workflow.dispatch_case(ctx, case_id=case.id, lead_department="NH-ZJ")
    clock.advance(days=1)
    async with district.ctx(handler("NH-ZJ")) as ctx:
        returned = await workflow.return_case(ctx, case_id=case.id, reason="属于街道职责")
    assert returned.status is CaseStatus.RECEIVED and returned.lead_department_id is None
    assert returned.return_count == 1


async def test_over_long_extension_is_refused(district, clock) -> None:  # type: ignore[no-untyped-def]
    case = await _submit(district, **PLAIN)
    async with district.ctx(DISPATCHER) as ctx:
        await workflow.dispatch_case(ctx, case_id=case.id, lead_department="NH-ZJ")
    async with district.ctx(handler("NH-ZJ")) as ctx:
        await workflow.claim_case(ctx, case_id=case.id)
    with pytest.raises(ExtensionTooLong):
        async with district.ctx(handler("NH-ZJ")) as ctx:
            await followup.request_extension(ctx, case_id=case.id, working_days=11, reason="情况复杂")
    with pytest.raises(MissingReason):
        async with district.ctx(handler("NH-ZJ")) as ctx:
            await followup.request_extension(ctx, case_id=case.id, working_days=3, reason="")
    assert await _events(district, case.id) == ["SUBMITTED", "DISPATCHED", "CLAIMED"]


async def test_merge_folds_duplicates_into_a_primary(district, clock) -> None:  # type: ignore[no-untyped-def]
    first = await _submit(district, **PLAIN)
    second = await _submit(district, channel="WECHAT", **PLAIN)
    async with district.ctx(DISPATCHER) as ctx:
        primary = await workflow.merge_cases(ctx, primary_id=first.id, duplicate_ids=[second.id])
    assert primary.status is CaseStatus.RECEIVED
    async with district.ctx() as ctx:
        merged = await ctx.session.get(Case, second.id)
        assert merged is not None and merged.status is CaseStatus.MERGED and merged.merged_into_id == first.id
        count = await ctx.session.scalar(select(func.count()).select_from(CaseEvent))
    assert count == 4


async def test_merged_citizens_receive_the_primary_answer_on_their_channel(district, clock) -> None:  # type: ignore[no-untyped-def]
    primary = await _submit(district, **PLAIN)
    wechat = await _submit(district, channel="WECHAT", account_id="oMergedCitizen000000000000001", **PLAIN)
    async with district.ctx(DISPATCHER) as ctx:
        await workflow.merge_cases(ctx, primary_id=primary.id, duplicate_ids=[wechat.id])
    async with district.ctx(DISPATCHER) as ctx:
        await workflow.answer_case(ctx, case_id=primary.id, content="您好，已统一答复。")
    async with district.ctx() as ctx:
        replies = (await ctx.session.execute(select(Reply).order_by(Reply.id))).scalars().all()
    assert [(r.case_id, r.channel.value, r.content) for r in replies] == [
        (primary.id, "HOTLINE", "您好，已统一答复。"),
        (wechat.id, "WECHAT", "您好，已统一答复。"),
    ]
