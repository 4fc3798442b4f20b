"""Managing the department tree."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from auth.permission import Operation
from auth.principal import Principal
from hub.departments import repository
from hub.departments.models import Department
from hub.errors import UnknownDepartment, ValidationFailed
from hub.permissions import require


async def resolve(session: AsyncSession, *, code: str) -> Department:
    """The department with this code, or UnknownDepartment."""
    department = await repository.by_code(session, code=code)
    if department is None:
        raise UnknownDepartment(f"unknown department {code!r}")
    return department


async def create_department(
    session: AsyncSession,
    *,
    actor: Principal,
    code: str,
    name: str,
    kind: str = "BUREAU",
    parent_code: str | None = None,
    region: str | None = None,
) -> Department:
    """Add a department under a parent (admin only)."""
    require(actor, Operation.DEPARTMENT_MANAGE)
    if not code.strip() or not name.strip():
        raise ValidationFailed("a department needs a code and a name")
    if await repository.by_code(session, code=code) is not None:
        raise ValidationFailed(f"department {code!r} exists already")
    parent = await resolve(session, code=parent_code) if parent_code else None
    department = Department(
        code=code, name=name, kind=kind, parent_id=parent.id if parent else None, region=region, active=True
    )
    session.add(department)
    await session.flush()
    return department
