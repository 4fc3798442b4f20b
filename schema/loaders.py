"""One DataLoader per relation, built per request: a page of cases costs the same statements at any size."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from strawberry.dataloader import DataLoader

from hub.cases import queries
from hub.cases.models import Reply
from hub.citizens import repository as citizens
from hub.citizens.models import Citizen
from hub.departments import repository as departments
from hub.departments.models import Department
from hub.trail.models import CaseEvent

if TYPE_CHECKING:
    from schema.context import HubContext


class Loaders:
    """The request's loaders."""

    def __init__(self, ctx: HubContext) -> None:
        self._ctx = ctx
        self.department = DataLoader(self._departments)
        self.citizen = DataLoader(self._citizens)
        self.co_departments = DataLoader(self._co_departments)
        self.events = DataLoader(self._events)
        self.replies = DataLoader(self._replies)

    async def _departments(self, ids: Sequence[int]) -> list[Department | None]:
        async with self._ctx.db() as session:
            found = await departments.by_ids(session, ids=list(ids))
        return [found.get(i) for i in ids]

    async def _citizens(self, ids: Sequence[int]) -> list[Citizen | None]:
        async with self._ctx.db() as session:
            found = {c.id: c for c in await citizens.get_many(session, ids=list(ids))}
        return [found.get(i) for i in ids]

    async def _co_departments(self, case_ids: Sequence[int]) -> list[list[int]]:
        async with self._ctx.db() as session:
            found = await queries.co_departments_by_case(session, case_ids=list(case_ids))
        return [found[i] for i in case_ids]

    async def _events(self, case_ids: Sequence[int]) -> list[list[CaseEvent]]:
        async with self._ctx.db() as session:
            found = await queries.events_by_case(session, case_ids=list(case_ids))
        return [found[i] for i in case_ids]

    async def _replies(self, case_ids: Sequence[int]) -> list[list[Reply]]:
        async with self._ctx.db() as session:
            found = await queries.replies_by_case(session, case_ids=list(case_ids))
        return [found[i] for i in case_ids]
