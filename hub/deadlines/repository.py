"""The SQL of deadline enforcement: which open cases are near or past a deadline."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.cases.models import Case, ExtensionRequest, SupervisionOrder
from hub.enums import CaseStatus, ExtensionStatus, SupervisionStatus
from hub.trail.models import CaseEvent


async def cases_near_deadlines(
    session: AsyncSession,
    *,
    sign_horizon: dt.datetime,
    answer_horizon: dt.datetime,
    after_id: int = 0,
    limit: int = 5000,
) -> list[Case]:
    """Open cases whose sign or answer deadline falls before its horizon (so: near or past), by id after one."""
    stmt = (
        select(Case)
        .where(
            Case.id > after_id,
            or_(
                and_(Case.status == CaseStatus.DISPATCHED, Case.sign_deadline < sign_horizon),
                and_(Case.status.in_((CaseStatus.DISPATCHED, CaseStatus.CLAIMED)), Case.due_at < answer_horizon),
            ),
        )
        .order_by(Case.id)
        .limit(limit)
    )
    return list((await session.execute(stmt)).scalars())


async def answered_before(
    session: AsyncSession, *, answered_before: dt.datetime, after_id: int = 0, limit: int = 5000
) -> list[Case]:
    """Answered cases still waiting for a callback, answered before a moment, by id after one."""
    stmt = (
        select(Case)
        .where(Case.id > after_id, Case.status == CaseStatus.ANSWERED, Case.answered_at < answered_before)
        .order_by(Case.id)
        .limit(limit)
    )
    return list((await session.execute(stmt)).scalars())


async def deadline_keys(session: AsyncSession, *, case_ids: Sequence[int]) -> set[tuple[int, str, str]]:
    """(case id, action, deadline key) of the warnings and urgings already on the trail."""
    if not case_ids:
        return set()
    stmt = select(CaseEvent.case_id, CaseEvent.action, CaseEvent.payload).where(
        CaseEvent.case_id.in_(case_ids), CaseEvent.action.in_(("WARNED", "URGED", "OVERDUE"))
    )
    return {(cid, action, str((payload or {}).get("key"))) for cid, action, payload in await session.execute(stmt)}


async def cases_with_pending_extension(session: AsyncSession, *, case_ids: Sequence[int]) -> set[int]:
    """Which of these cases wait for an extension decision."""
    if not case_ids:
        return set()
    stmt = select(ExtensionRequest.case_id).where(
        ExtensionRequest.case_id.in_(case_ids), ExtensionRequest.status == ExtensionStatus.PENDING
    )
    return set((await session.execute(stmt)).scalars())


async def overdue_orders(session: AsyncSession, *, now: dt.datetime) -> list[SupervisionOrder]:
    """Open supervision orders past their deadline."""
    stmt = (
        select(SupervisionOrder)
        .where(SupervisionOrder.status == SupervisionStatus.OPEN, SupervisionOrder.deadline < now)
        .order_by(SupervisionOrder.deadline)
    )
    return list((await session.execute(stmt)).scalars())


async def overdue_open_cases(session: AsyncSession, *, limit: int) -> list[Case]:
    """Open cases marked overdue, the longest overdue first."""
    stmt = (
        select(Case)
        .where(Case.overdue.is_(True), Case.status.in_((CaseStatus.DISPATCHED, CaseStatus.CLAIMED)))
        .order_by(Case.due_at.asc().nulls_last(), Case.id)
        .limit(limit)
    )
    return list((await session.execute(stmt)).scalars())
