"""Live case events for the caller's scope."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncGenerator

import strawberry

from auth.permission import Operation, Scope
from hub.cases.access import actor_department
from hub.errors import HubError
from hub.permissions import require
from schema.context import HubContext
from schema.errors import ClientError
from schema.permissions import principal_of


@strawberry.type
class CaseEventNotice:
    """A step just taken on a case the subscriber may see."""

    case_id: strawberry.ID
    case_no: str
    seq: int
    action: str
    status: str
    at: dt.datetime


@strawberry.type
class Subscription:
    """Live updates."""

    @strawberry.subscription
    async def case_events(
        self, info: strawberry.Info[HubContext, None], case_id: strawberry.ID | None = None
    ) -> AsyncGenerator[CaseEventNotice, None]:
        """Every event on the caller's cases (a handler: its department's), optionally one case only."""
        ctx = info.context
        principal = principal_of(info)
        try:
            scope = require(principal, Operation.EVENTS_SUBSCRIBE)
            department_id = None
            if scope is not Scope.ALL:
                async with ctx.db():
                    department_id = (await actor_department(ctx.service(principal))).id
                await ctx.session.rollback()
        except HubError as exc:
            raise ClientError(exc.message, exc.code) from None
        async for notice in ctx.bus.subscribe():
            if department_id is not None and department_id not in notice.department_ids:
                continue
            if case_id is not None and str(notice.case_id) != str(case_id):
                continue
            yield CaseEventNotice(
                case_id=strawberry.ID(str(notice.case_id)),
                case_no=notice.case_no,
                seq=notice.seq,
                action=notice.action,
                status=notice.status,
                at=dt.datetime.now(dt.UTC),
            )
