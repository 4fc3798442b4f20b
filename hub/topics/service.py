"""Hot topics (热点): which categories, places and keywords rise in a window against the window before it."""

from __future__ import annotations

import asyncio
import datetime as dt
import math
from collections import Counter

from auth.permission import Operation, Scope
from hub.cases.access import actor_department
from hub.cases.reads import audit_query
from hub.clock import utcnow
from hub.context import ServiceContext
from hub.errors import ValidationFailed
from hub.permissions import require
from hub.topics import repository, terms
from hub.topics.types import HotTopic, HotTopics, TopicKind

MAX_WINDOW_DAYS = 366
MAX_LIMIT = 100
# Texts are segmented in chunks off the event loop; jieba holds the GIL, but other requests get turns.
_CHUNK = 500


async def hot_topics(
    ctx: ServiceContext, *, window_days: int = 7, now: dt.datetime | None = None, limit: int = 10, min_count: int = 2
) -> HotTopics:
    """Rising categories, places and keywords of the caller's visible cases; each case counts once per term."""
    scope = require(ctx.actor, Operation.STATS_READ)
    if not 1 <= window_days <= MAX_WINDOW_DAYS:
        raise ValidationFailed(f"the window is 1 to {MAX_WINDOW_DAYS} days")
    if not 1 <= limit <= MAX_LIMIT:
        raise ValidationFailed(f"the limit is 1 to {MAX_LIMIT}")
    if now is not None and now.tzinfo is None:
        raise ValidationFailed("`now` must carry a timezone")
    lead = None if scope is Scope.ALL else (await actor_department(ctx)).id
    end = (now or utcnow()).astimezone(dt.UTC)
    middle = end - dt.timedelta(days=window_days)
    start = middle - dt.timedelta(days=window_days)

    categories: tuple[Counter[str], Counter[str]] = (Counter(), Counter())
    for category, later, count in await repository.category_counts(
        ctx.session, start=start, middle=middle, end=end, lead_department_id=lead
    ):
        categories[later][category] += count
    places: tuple[Counter[str], Counter[str]] = (Counter(), Counter())
    keywords: tuple[Counter[str], Counter[str]] = (Counter(), Counter())
    chunk: list[tuple[bool, str, str, str | None]] = []
    async for received_at, title, content, address, region in repository.texts(
        ctx.session, start=start, end=end, lead_department_id=lead
    ):
        text = "。".join(part for part in (address, title, content) if part)
        chunk.append((received_at >= middle, title, text, region))
        if len(chunk) >= _CHUNK:
            await asyncio.to_thread(_count, chunk, places, keywords)
            chunk = []
    if chunk:
        await asyncio.to_thread(_count, chunk, places, keywords)

    await audit_query(ctx, action="hotTopics", target=f"windowDays={window_days}; end={end.isoformat()}")
    items = [
        *rising(categories[1], categories[0], TopicKind.CATEGORY, limit=limit, min_count=min_count),
        *rising(places[1], places[0], TopicKind.PLACE, limit=limit, min_count=min_count),
        *rising(keywords[1], keywords[0], TopicKind.KEYWORD, limit=limit, min_count=min_count),
    ]
    return HotTopics(window_start=middle, window_end=end, previous_start=start, items=items)


def _count(
    chunk: list[tuple[bool, str, str, str | None]],
    places: tuple[Counter[str], Counter[str]],
    keywords: tuple[Counter[str], Counter[str]],
) -> None:
    for later, title, text, region in chunk:
        found = terms.places(text)
        # The channel's region (桂城) is a place too, unless the text already names it more precisely (桂城街道).
        if region and not any(place.startswith(region) for place in found):
            found.append(region)
        places[later].update(found)
        keywords[later].update(terms.keywords(title, exclude=found))


def rising(
    current: Counter[str], previous: Counter[str], kind: TopicKind, *, limit: int, min_count: int = 2
) -> list[HotTopic]:
    """Terms seen at least min_count times now and more often than before, best score first."""
    items = [
        HotTopic(
            term=term,
            kind=kind,
            count=count,
            previous_count=previous[term],
            growth=(count - previous[term]) / max(previous[term], 1),
            score=(count - previous[term]) / math.sqrt(previous[term] + 1),
        )
        for term, count in current.items()
        if count >= min_count and count > previous[term]
    ]
    items.sort(key=lambda item: (-item.score, -item.count, item.term))
    return items[:limit]
