"""Loading a case for an actor: locked, and invisible (not found) outside the actor's scope."""

from __future__ import annotations

from auth.permission import Operation, Scope
from hub.cases import repository
from hub.cases.models import Case
from hub.context import ServiceContext
from hub.departments.cache import DepartmentInfo, active_by_code
from hub.errors import NotAllowed, NotFound
from hub.permissions import require


async def actor_department(ctx: ServiceContext) -> DepartmentInfo:
    """The department the actor is bound to (from the per-process department cache), or NotAllowed."""
    code = ctx.actor.department
    department = await active_by_code(ctx.session, code) if code else None
    if department is None:
        raise NotAllowed("this operation needs a principal bound to a known department")
    return department


async def load_case(ctx: ServiceContext, *, case_id: int, operation: Operation, lock: bool = True) -> Case:
    """The case, locked for the transaction, if the actor may perform the operation on it."""
    scope = require(ctx.actor, operation)
    case = await repository.get(ctx.session, case_id=case_id, for_update=lock)
    if case is None:
        raise NotFound(f"case {case_id} not found")
    if scope is Scope.ALL:
        return case
    department = await actor_department(ctx)
    if case.lead_department_id == department.id:
        return case
    visible = await repository.is_visible_to_department(ctx.session, case_id=case.id, department_id=department.id)
    if not visible:
        # Same answer as a missing case: another department learns nothing about it.
        raise NotFound(f"case {case_id} not found")
    if scope is Scope.LEAD:
        raise NotAllowed(f"only the lead department of case {case.case_no} may {operation.value}")
    return case
