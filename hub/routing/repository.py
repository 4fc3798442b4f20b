"""All SQL of routing rules and categories."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.routing.models import RoutingRule


async def active_rules(session: AsyncSession) -> list[RoutingRule]:
    """Active rules, first to try first."""
    stmt = select(RoutingRule).where(RoutingRule.active.is_(True)).order_by(RoutingRule.priority, RoutingRule.id)
    return list((await session.execute(stmt)).scalars())
