"""A co-handling knows whether its case is open (migration 0008's triggers), and inboxes read it right."""

from __future__ import annotations

from helpers import CONNECTOR, DISPATCHER, draft, handler
from sqlalchemy import select

from hub.cases import followup
from hub.cases import service as workflow
from hub.cases.intake import submit_case
from hub.cases.models import CaseCoDepartment
from hub.cases.queries import page_of_cases
from hub.cases.types import CaseFilter, CaseOrder
from hub.departments import cache as department_cache
from hub.enums import CaseStatus, Satisfaction

OPEN = (CaseStatus.DISPATCHED, CaseStatus.CLAIMED)


async def _flags(db, case_id: int) -> dict[int, bool]:  # type: ignore[no-untyped-def]
    async with db.ctx() as ctx:
        rows = await ctx.session.execute(
            select(CaseCoDepartment.department_id, CaseCoDepartment.case_open).where(
                CaseCoDepartment.case_id == case_id
            )
        )
        return {department: bool(flag) for department, flag in rows}


async def _listed(db, department: str, statuses: tuple[CaseStatus, ...]) -> tuple[list[str], int]:  # type: ignore[no-untyped-def]
    """Case numbers and total of a department's list (as its handlers' inbox asks), by status."""
    async with db.ctx() as ctx:
        own = (await department_cache.directory(ctx.session)).by_code[department].id
        page = await page_of_cases(
            ctx.session,
            filter=CaseFilter(status=statuses, department=department),
            order=CaseOrder.RECEIVED_AT_DESC,
            first=10,
            after=None,
            scope_department_id=own,
        )
        return [c.case_no for c in page.cases], page.total


async def _co_handled_case(db, title: str, content: str):  # type: ignore[no-untyped-def]
    """A case led by 住建局 and co-handled by 城管局."""
    async with db.ctx(CONNECTOR) as ctx:
        case = (await submit_case(ctx, draft=draft(title=title, content=content), auto_dispatch=False)).case
    async with db.ctx(DISPATCHER) as ctx:
        await workflow.dispatch_case(ctx, case_id=case.id, lead_department="NH-ZJ", co_departments=["NH-CG"])
    return case


async def _answered_and_called_back(db, case_id: int, satisfaction: Satisfaction) -> None:  # type: ignore[no-untyped-def]
    async with db.ctx(handler("NH-ZJ")) as ctx:
        await workflow.claim_case(ctx, case_id=case_id)
        await workflow.answer_case(ctx, case_id=case_id, content="已处理")
    async with db.ctx(DISPATCHER) as ctx:
        solved = satisfaction is not Satisfaction.DISSATISFIED
        await followup.record_callback(ctx, case_id=case_id, satisfaction=satisfaction, solved=solved)


async def test_the_flag_follows_the_case_and_the_co_handlers_inbox_with_it(district, clock) -> None:  # type: ignore[no-untyped-def]
    case = await _co_handled_case(district, "楼道堆物", "楼道长期堆放杂物")
    assert set((await _flags(district, case.id)).values()) == {True}
    assert await _listed(district, "NH-CG", OPEN) == ([case.case_no], 1)

    await _answered_and_called_back(district, case.id, Satisfaction.SATISFIED)
    assert set((await _flags(district, case.id)).values()) == {False}
    assert await _listed(district, "NH-CG", OPEN) == ([], 0)
    assert await _listed(district, "NH-CG", (CaseStatus.CLOSED,)) == ([case.case_no], 1)
    # Open and closed statuses together: the co-handling is found whatever its flag.
    assert await _listed(district, "NH-CG", (CaseStatus.CLAIMED, CaseStatus.CLOSED)) == ([case.case_no], 1)


async def test_a_reopened_case_is_open_again_for_its_co_handlers(district, clock) -> None:  # type: ignore[no-untyped-def]
    case = await _co_handled_case(district, "路灯不亮", "小区路灯坏了")
    await _answered_and_called_back(district, case.id, Satisfaction.DISSATISFIED)
    assert set((await _flags(district, case.id)).values()) == {True}
    every_open = (CaseStatus.RECEIVED, CaseStatus.DISPATCHED, CaseStatus.CLAIMED, CaseStatus.ANSWERED)
    assert await _listed(district, "NH-CG", every_open) == ([case.case_no], 1)
