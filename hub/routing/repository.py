"""All SQL of routing rules and categories."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.routing.models import Category, RoutingRule


async def active_rules(session: AsyncSession) -> list[RoutingRule]:
    """Active rules, first to try first."""
    stmt = select(RoutingRule).where(RoutingRule.active.is_(True)).order_by(RoutingRule.priority, RoutingRule.id)
    return list((await session.execute(stmt)).scalars())


async def first_level_categories(session: AsyncSession) -> list[str]:
    """The hub's category vocabulary."""
    stmt = select(Category.name).where(Category.level == 1).order_by(Category.id)
    return list((await session.execute(stmt)).scalars())
