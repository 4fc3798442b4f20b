"""All SQL of the trail."""

from __future__ import annotations

from collections.abc import AsyncIterator

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.cases.models import Case
from hub.trail.models import CaseEvent


async def last_event(session: AsyncSession, *, case_id: int) -> CaseEvent | None:
    """The newest event of a case."""
    stmt = select(CaseEvent).where(CaseEvent.case_id == case_id).order_by(CaseEvent.seq.desc()).limit(1)
    return (await session.execute(stmt)).scalar_one_or_none()


async def stream_events(
    session: AsyncSession, *, case_id: int | None = None
) -> AsyncIterator[tuple[str | None, CaseEvent]]:
    """Every event (or one case's) with its case number, case by case in chain order, streamed."""
    stmt = (
        select(Case.case_no, CaseEvent)
        .join(Case, Case.id == CaseEvent.case_id)
        .order_by(CaseEvent.case_id, CaseEvent.seq)
        .execution_options(yield_per=2000)
    )
    if case_id is not None:
        stmt = stmt.where(CaseEvent.case_id == case_id)
    result = await session.stream(stmt)
    async for case_no, event in result:
        yield case_no, event
