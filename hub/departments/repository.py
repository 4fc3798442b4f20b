"""All SQL of departments."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.departments.models import Department


async def by_code(session: AsyncSession, *, code: str) -> Department | None:
    """The active department with this code."""
    stmt = select(Department).where(Department.code == code, Department.active.is_(True))
    return (await session.execute(stmt)).scalar_one_or_none()


async def by_codes(session: AsyncSession, *, codes: Sequence[str]) -> dict[str, Department]:
    """Active departments by code; unknown codes are simply absent."""
    if not codes:
        return {}
    stmt = select(Department).where(Department.code.in_(codes), Department.active.is_(True))
    return {d.code: d for d in (await session.execute(stmt)).scalars()}


async def by_ids(session: AsyncSession, *, ids: Sequence[int]) -> dict[int, Department]:
    """Departments by id."""
    if not ids:
        return {}
    return {d.id: d for d in (await session.execute(select(Department).where(Department.id.in_(ids)))).scalars()}


async def all_departments(session: AsyncSession) -> list[Department]:
    """Every department, ordered by code."""
    return list((await session.execute(select(Department).order_by(Department.code))).scalars())
