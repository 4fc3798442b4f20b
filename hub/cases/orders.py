"""Listing supervision orders (督办): open and overdue ones, scoped to the caller."""

from __future__ import annotations

from sqlalchemy import select

from auth.permission import Operation, Scope
from hub.cases.access import actor_department
from hub.cases.models import SupervisionOrder
from hub.context import ServiceContext
from hub.enums import SupervisionStatus
from hub.permissions import require


async def list_orders(ctx: ServiceContext, *, open_only: bool = True, limit: int = 200) -> list[SupervisionOrder]:
    """Supervision orders, the earliest deadline first; a handler sees its department's only."""
    scope = require(ctx.actor, Operation.CASE_READ)
    stmt = select(SupervisionOrder)
    if scope is not Scope.ALL:
        stmt = stmt.where(SupervisionOrder.department_id == (await actor_department(ctx)).id)
    if open_only:
        stmt = stmt.where(SupervisionOrder.status == SupervisionStatus.OPEN)
    stmt = stmt.order_by(SupervisionOrder.deadline, SupervisionOrder.id).limit(max(1, min(limit, 1000)))
    return list((await ctx.session.execute(stmt)).scalars())
