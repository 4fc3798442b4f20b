"""`stats(filter, groupBy)` (the 三率 and friends) and `hotTopics`, for the centre, supervisors and auditors."""

from __future__ import annotations

import datetime as dt

import strawberry

from hub.enums import CaseKind, Channel
from hub.stats import service as stats_service
from hub.stats.types import StatsDimension, StatsFilter, StatsRow
from hub.topics import service as topics_service
from schema.context import HubContext
from schema.errors import guarded
from schema.permissions import principal_of

strawberry.enum(StatsDimension)

HANDLING_FIELDS = frozenset({"handlingHoursMedian", "handlingHoursP90"})


@strawberry.input
class StatsFilterInput:
    """Which cases count: received between two local dates (inclusive), a department, channels, kinds, categories."""

    received_from: dt.date | None = None
    received_to: dt.date | None = None
    department: str | None = None
    channel: list[Channel] | None = None
    kind: list[CaseKind] | None = None
    category: list[str] | None = None

    def to_filter(self) -> StatsFilter:
        """The hub's filter."""
        return StatsFilter(
            received_from=self.received_from,
            received_to=self.received_to,
            department=self.department,
            channel=tuple(self.channel or ()),
            kind=tuple(self.kind or ()),
            category=tuple(self.category or ()),
        )


@strawberry.type
class StatsGroup:
    """One group's figures; rates are null when nothing is in the denominator."""

    department: str | None
    department_name: str | None
    channel: Channel | None
    kind: CaseKind | None
    category: str | None
    period: str | None
    received: int
    dispatched: int
    signed: int
    signed_on_time: int
    answered: int
    answered_on_time: int
    callbacks: int
    resolved: int
    satisfied: int
    returned: int
    extended: int
    reopened: int
    overdue_now: int
    supervised: int
    response_rate: float | None
    on_time_rate: float | None
    resolution_rate: float | None
    satisfaction_rate: float | None
    handling_hours_median: float | None
    handling_hours_p90: float | None

    @classmethod
    def of(cls, row: StatsRow) -> StatsGroup:
        """Map a row."""
        k = row.key
        return cls(
            department=k.department,
            department_name=k.department_name,
            channel=k.channel,
            kind=k.kind,
            category=k.category,
            period=k.period,
            received=row.received,
            dispatched=row.dispatched,
            signed=row.signed,
            signed_on_time=row.signed_on_time,
            answered=row.answered,
            answered_on_time=row.answered_on_time,
            callbacks=row.callbacks,
            resolved=row.resolved,
            satisfied=row.satisfied,
            returned=row.returned,
            extended=row.extended,
            reopened=row.reopened,
            overdue_now=row.overdue_now,
            supervised=row.supervised,
            response_rate=row.response_rate,
            on_time_rate=row.on_time_rate,
            resolution_rate=row.resolution_rate,
            satisfaction_rate=row.satisfaction_rate,
            handling_hours_median=row.handling_hours_median,
            handling_hours_p90=row.handling_hours_p90,
        )


@strawberry.type
class HotTopicItem:
    """A rising term over the window, against the window before."""

    term: str
    kind: str
    count: int
    previous_count: int
    growth: float
    score: float


def _selects_handling(info: strawberry.Info[HubContext, None]) -> bool:
    return any(f.name in HANDLING_FIELDS for sel in info.selected_fields for f in sel.selections if hasattr(f, "name"))


@strawberry.type
class StatsQuery:
    """Statistics and hot topics."""

    @strawberry.field
    async def stats(
        self,
        info: strawberry.Info[HubContext, None],
        filter: StatsFilterInput | None = None,
        group_by: list[StatsDimension] | None = None,
    ) -> list[StatsGroup]:
        """Received, dispatched, 响应率, 按时办结率, 解决率, 满意率 and more, grouped as asked (computed in SQL)."""
        ctx = info.context
        service = ctx.service(principal_of(info))
        wanted = (filter or StatsFilterInput()).to_filter()
        async with ctx.db():
            report = await guarded(
                stats_service.stats(
                    service, filter=wanted, group_by=group_by or [], handling_time=_selects_handling(info)
                )
            )
        return [StatsGroup.of(r) for r in report.rows]

    @strawberry.field
    async def hot_topics(
        self, info: strawberry.Info[HubContext, None], window_days: int = 7, first: int = 10
    ) -> list[HotTopicItem]:
        """Rising categories, places and keywords over the window compared with the window before."""
        ctx = info.context
        service = ctx.service(principal_of(info))
        async with ctx.db():
            found = await guarded(topics_service.hot_topics(service, window_days=window_days, limit=first))
        return [
            HotTopicItem(
                term=t.term,
                kind=str(t.kind),
                count=t.count,
                previous_count=t.previous_count,
                growth=t.growth,
                score=t.score,
            )
            for t in found.items
        ]
