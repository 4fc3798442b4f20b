"""All SQL of cases; every read for a caller is scoped to what the caller may see."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any, cast

from sqlalchemy import ColumnElement, Table, delete, exists, insert, or_, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from hub.cases.models import Case, CaseCoDepartment, CaseCounter, ExtensionRequest
from hub.enums import Channel, ExtensionStatus
from hub.sql import one_of

# A bulk INSERT leaves out None values, splitting rows by which keys are None; NULL keeps them one statement.
_ONE_BATCH = {"render_nulls": True}


def department_clause(department_id: int, *, open_only: bool = False) -> ColumnElement[bool]:
    """Cases a department leads or co-handles; ``open_only`` when the caller's other conditions allow open cases
    only (then only the co-handlings of open cases can match, and their partial index answers)."""
    return or_(Case.lead_department_id == department_id, co_handled(department_id, open_only=open_only))


def co_handled(department_id: Any, *, open_only: bool = False) -> ColumnElement[bool]:
    """Cases a department co-handles (of open cases only, when asked: ``case_open`` is kept by triggers)."""
    conds = [CaseCoDepartment.case_id == Case.id, CaseCoDepartment.department_id == department_id]
    if open_only:
        conds.append(CaseCoDepartment.case_open)  # bare, as the partial index states it: PostgreSQL proves it
    return exists().where(*conds)


async def get(session: AsyncSession, *, case_id: int, for_update: bool = False) -> Case | None:
    """A case by id, locked for the rest of the transaction when asked."""
    stmt = select(Case).where(Case.id == case_id)
    if for_update:
        stmt = stmt.with_for_update()
    return (await session.execute(stmt)).scalar_one_or_none()


async def id_by_case_no(session: AsyncSession, *, case_no: str) -> int | None:
    """The id behind a case number."""
    return (await session.execute(select(Case.id).where(Case.case_no == case_no))).scalar_one_or_none()


async def by_external(session: AsyncSession, *, channel: Channel, external_id: str) -> Case | None:
    """The case a channel message already became, if any."""
    stmt = select(Case).where(Case.channel == channel, Case.external_id == external_id)
    return (await session.execute(stmt)).scalar_one_or_none()


async def co_department_ids(session: AsyncSession, *, case_id: int) -> set[int]:
    """The co-handling departments of a case."""
    stmt = select(CaseCoDepartment.department_id).where(CaseCoDepartment.case_id == case_id)
    return set((await session.execute(stmt)).scalars())


async def set_co_departments(session: AsyncSession, *, case_id: int, department_ids: Sequence[int]) -> None:
    """Replace a case's co-handling departments."""
    await session.execute(delete(CaseCoDepartment).where(CaseCoDepartment.case_id == case_id))
    for department_id in dict.fromkeys(department_ids):
        session.add(CaseCoDepartment(case_id=case_id, department_id=department_id))
    await session.flush()


async def is_visible_to_department(session: AsyncSession, *, case_id: int, department_id: int) -> bool:
    """Whether a department leads or co-handles a case."""
    stmt = select(Case.id).where(Case.id == case_id, department_clause(department_id))
    return (await session.execute(stmt)).scalar_one_or_none() is not None


async def next_case_number(session: AsyncSession, *, day: dt.date) -> int:
    """The next sequence number of a day, atomically (the row stays locked until commit)."""
    return await allocate_case_numbers(session, day=day, count=1)


async def allocate_case_numbers(session: AsyncSession, *, day: dt.date, count: int) -> int:
    """Reserve ``count`` consecutive sequence numbers of a day in one statement; returns the first."""
    key = day.strftime("%Y%m%d")
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    table = cast(Table, CaseCounter.__table__)  # Core: no ORM bulk-insert step (it runs for every push batch)
    counter = table.c
    stmt = (
        insert(table)
        .values(day=key, value=count)
        .on_conflict_do_update(index_elements=[counter.day], set_={"value": counter.value + count})
        .returning(counter.value)
    )
    last = int((await session.execute(stmt)).scalar_one())
    return last - count + 1


async def insert_cases(session: AsyncSession, *, rows: Sequence[Mapping[str, Any]]) -> list[Case]:
    """Insert new cases (rows with the same keys) in one statement; they come back persistent, in order."""
    if not rows:
        return []
    stmt = insert(Case).returning(Case, sort_by_parameter_order=True)
    return list((await session.scalars(stmt, list(rows), execution_options=_ONE_BATCH)).all())


async def insert_co_departments(session: AsyncSession, *, rows: Sequence[Mapping[str, int]]) -> None:
    """Insert (case_id, department_id) rows of new cases in one statement."""
    if rows:
        await session.execute(insert(cast(Table, CaseCoDepartment.__table__)), list(rows))


async def by_externals(
    session: AsyncSession, *, keys: Sequence[tuple[Channel, str]]
) -> dict[tuple[Channel, str], Case]:
    """The cases these (channel, external id) messages already became, in one read."""
    if not keys:
        return {}
    channels = sorted({channel for channel, _ in keys})
    external_ids = sorted({external_id for _, external_id in keys})
    stmt = select(Case).where(Case.channel.in_(channels), one_of(Case.external_id, external_ids))
    wanted = set(keys)
    cases: dict[tuple[Channel, str], Case] = {}
    for case in (await session.execute(stmt)).scalars():
        if (case.channel, case.external_id) in wanted:
            cases[(case.channel, case.external_id)] = case
    return cases


async def pending_extension(session: AsyncSession, *, case_id: int) -> ExtensionRequest | None:
    """The extension request of a case still waiting for the centre."""
    stmt = select(ExtensionRequest).where(
        ExtensionRequest.case_id == case_id, ExtensionRequest.status == ExtensionStatus.PENDING
    )
    return (await session.execute(stmt)).scalar_one_or_none()


async def get_extension(session: AsyncSession, *, extension_id: int) -> ExtensionRequest | None:
    """An extension request by id."""
    return await session.get(ExtensionRequest, extension_id)


async def cases_by_ids(session: AsyncSession, *, ids: Sequence[int]) -> list[Case]:
    """Cases by id (callers have checked the reader may see them)."""
    if not ids:
        return []
    return list((await session.execute(select(Case).where(Case.id.in_(ids)))).scalars())


async def merged_cases(session: AsyncSession, *, primary_id: int) -> list[Case]:
    """Every case merged into this one, also through merges of merges."""
    found: list[Case] = []
    frontier = [primary_id]
    while frontier:
        stmt = select(Case).where(Case.merged_into_id.in_(frontier)).order_by(Case.id)
        level = list((await session.execute(stmt)).scalars())
        found += level
        frontier = [c.id for c in level]
    return found
