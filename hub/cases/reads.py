"""Reading cases for a caller: scoped by role and department, personal data shown only where allowed."""

from __future__ import annotations

from collections.abc import Sequence

from auth.permission import UNMASKED_PERSONAL_DATA, Operation, Scope
from auth.principal import Role
from hub.cases import queries
from hub.cases.access import actor_department
from hub.cases.models import Case
from hub.cases.types import CaseFilter, CaseOrder
from hub.context import ServiceContext
from hub.departments.cache import DepartmentInfo
from hub.errors import NotFound
from hub.permissions import require
from hub.trail.service import record_read

WATCHED_ROLES = frozenset({Role.AUDITOR, Role.SUPERVISOR})


async def _scope_department(ctx: ServiceContext, operation: Operation) -> DepartmentInfo | None:
    """None for a principal that sees every department, else its own department."""
    scope = require(ctx.actor, operation)
    if scope is Scope.ALL:
        return None
    return await actor_department(ctx)


async def list_cases(
    ctx: ServiceContext,
    *,
    filter: CaseFilter,
    order: CaseOrder = CaseOrder.RECEIVED_AT_DESC,
    first: int = 50,
    after: str | None = None,
) -> queries.CasePage:
    """A page of the cases the caller may see, matching the filter."""
    department = await _scope_department(ctx, Operation.CASE_READ)
    first = max(1, min(first, 200))
    page = await queries.page_of_cases(
        ctx.session,
        filter=filter,
        order=order,
        first=first,
        after=after,
        scope_department_id=department.id if department else None,
    )
    await audit_query(ctx, action="cases", target=f"{len(page.cases)} cases")
    return page


async def get_case(ctx: ServiceContext, *, case_id: int | None = None, case_no: str | None = None) -> Case:
    """One case the caller may see; another department's case is simply not found."""
    department = await _scope_department(ctx, Operation.CASE_READ)
    case = await queries.visible_case(
        ctx.session, case_id=case_id, case_no=case_no, scope_department_id=department.id if department else None
    )
    if case is None:
        raise NotFound(f"case {case_no or case_id} not found")
    await audit_query(ctx, action="case", target=case.case_no)
    return case


async def audit_query(ctx: ServiceContext, *, action: str, target: str | None) -> None:
    """Record every query by an auditor or supervisor (DESIGN §4)."""
    if ctx.actor.roles & WATCHED_ROLES:
        await record_read(ctx.session, actor=ctx.actor, action=action, target=target, request_id=ctx.request_id)


def may_see_personal_data(
    ctx: ServiceContext, *, case_department_ids: Sequence[int | None], actor_department_id: int | None
) -> bool:
    """Whether the caller sees a case's citizen in clear: the centre, or a handler of its lead/co department."""
    for role, scope in UNMASKED_PERSONAL_DATA.items():
        if role not in ctx.actor.roles:
            continue
        if scope is Scope.ALL:
            return True
        if actor_department_id is not None and actor_department_id in case_department_ids:
            return True
    return False
