"""Routing: which department leads a case, and whether that is certain enough to dispatch alone."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncSession

from auth.permission import Operation
from auth.principal import Principal
from hub.departments import service as departments
from hub.errors import ValidationFailed
from hub.permissions import require
from hub.routing.models import ActiveRule, Category, RoutingRule
from hub.routing.suggester import Suggestion, default_suggester, load_taxonomy


@dataclass(frozen=True)
class RouteDecision:
    """Where a case should go, why, and how sure the hub is."""

    category: str | None
    confidence: float
    lead_department_id: int | None = None
    co_department_ids: tuple[int, ...] = ()
    rule_id: int | None = None
    certain: bool = False
    reasons: tuple[str, ...] = field(default_factory=tuple)


def suggest_category(*, title: str, content: str) -> Suggestion:
    """The suggester's best first-level category for a text."""
    return default_suggester().suggest(title, content)


def _matches(
    rule: ActiveRule, *, text: str, category: str | None, region: str | None, channel: str, kind: str
) -> tuple[bool, bool]:
    """(matches, matched by keyword) for one rule."""
    if rule.channel and rule.channel != channel:
        return False, False
    if rule.kind and rule.kind != kind:
        return False, False
    if rule.region and (not region or rule.region not in region) and rule.region not in text:
        return False, False
    if rule.category and rule.category != category:
        return False, False
    if rule.keywords:
        hit = any(k and k in text for k in rule.keywords)
        return hit, hit
    return True, False


def decide_route(
    rules: Sequence[ActiveRule],
    *,
    title: str,
    content: str,
    channel: str,
    kind: str,
    region: str | None = None,
    category_hint: str | None = None,
    certainty_threshold: float,
    suggestion: Suggestion | None = None,
) -> RouteDecision:
    """Match the rules (active, in priority order) by priority; certain when a keyword rule or a confident category
    picks one. Callers load the rules once per page; ``suggestion`` is the text's, when it was scored ahead."""
    if suggestion is None:
        suggestion = suggest_category(title=title, content=content)
    category, confidence = suggestion.category, suggestion.confidence
    if category_hint and category_hint in {name for name, _ in suggestion.ranked}:
        category, confidence = category_hint, 1.0
    text = f"{title}\n{content}"
    for rule in rules:
        matched, by_keyword = _matches(rule, text=text, category=category, region=region, channel=channel, kind=kind)
        if not matched:
            continue
        sure = by_keyword or (rule.category is not None and confidence >= certainty_threshold)
        reasons = ["keyword" if by_keyword else f"category {category} ({confidence:.2f})", f"rule {rule.name}"]
        return RouteDecision(
            category=category,
            confidence=confidence,
            lead_department_id=rule.lead_department_id,
            co_department_ids=rule.co_department_ids,
            rule_id=rule.id,
            certain=bool(rule.auto_dispatch and sure),
            reasons=tuple(reasons),
        )
    return RouteDecision(category=category, confidence=confidence, reasons=("no rule matched",))


async def create_rule(
    session: AsyncSession,
    *,
    actor: Principal,
    name: str,
    lead_department: str,
    priority: int = 100,
    category: str | None = None,
    keywords: Sequence[str] = (),
    region: str | None = None,
    channel: str | None = None,
    kind: str | None = None,
    co_departments: Sequence[str] = (),
    auto_dispatch: bool = True,
) -> RoutingRule:
    """Add a routing rule (admin only)."""
    require(actor, Operation.ROUTING_MANAGE)
    if not (category or keywords or region or channel or kind):
        raise ValidationFailed("a routing rule needs at least one condition")
    lead = await departments.resolve(session, code=lead_department)
    co = [(await departments.resolve(session, code=c)).id for c in co_departments]
    rule = RoutingRule(
        name=name,
        priority=priority,
        category=category,
        keywords=list(keywords),
        region=region,
        channel=channel,
        kind=kind,
        lead_department_id=lead.id,
        co_department_ids=co,
        auto_dispatch=auto_dispatch,
        active=True,
    )
    session.add(rule)
    await session.flush()
    return rule


async def load_category_tree(session: AsyncSession) -> int:
    """Fill the category table from the shipped three-level tree (idempotent); returns rows added."""
    existing = {c.path: c for c in (await session.execute(Category.__table__.select())).mappings()}
    added = 0
    ids: dict[str, int] = {path: int(row["id"]) for path, row in existing.items()}
    for levels in load_taxonomy():
        for depth in range(1, len(levels) + 1):
            path = "/".join(levels[:depth])
            if path in ids or not levels[depth - 1]:
                continue
            parent = ids.get("/".join(levels[: depth - 1])) if depth > 1 else None
            node = Category(path=path, name=levels[depth - 1], level=depth, parent_id=parent)
            session.add(node)
            await session.flush()
            ids[path] = node.id
            added += 1
    return added
