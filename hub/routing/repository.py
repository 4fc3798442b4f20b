"""All SQL of routing rules and categories."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.routing.models import ActiveRule, RoutingRule

_R = RoutingRule


async def active_rules(session: AsyncSession) -> list[ActiveRule]:
    """Active rules, first to try first."""
    stmt = (
        select(_R.id, _R.name, _R.category, _R.keywords, _R.region, _R.channel, _R.kind, _R.lead_department_id,
               _R.co_department_ids, _R.auto_dispatch)
        .where(_R.active.is_(True))
        .order_by(_R.priority, _R.id)
    )
    return [
        ActiveRule(r.id, r.name, r.category, tuple(r.keywords or ()), r.region, r.channel, r.kind,
                   r.lead_department_id, tuple(r.co_department_ids or ()), bool(r.auto_dispatch))
        for r in await session.execute(stmt)
    ]
