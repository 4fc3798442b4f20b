"""Oversight fields: the trail across cases, supervision orders and the escalation list."""

from __future__ import annotations

import datetime as dt

import strawberry

from hub.cases import followup, orders, reads
from hub.cases import repository as case_repository
from hub.cases.models import SupervisionOrder as OrderModel
from hub.clock import utcnow
from hub.context import ServiceContext
from hub.deadlines import enforcement
from hub.duplicates import service as duplicates
from hub.enums import SupervisionStatus
from hub.trail import reads as trail_reads
from schema.context import HubContext
from schema.errors import guarded
from schema.loaders import build_cases, selected_relations
from schema.permissions import principal_of
from schema.types import Case, CaseEvent

strawberry.enum(SupervisionStatus)


@strawberry.type
class TrailEntry:
    """An event with the number of its case."""

    case_no: str
    event: CaseEvent


@strawberry.type
class SupervisionOrder:
    """A supervision order (督办) and its answer."""

    id: strawberry.ID
    case_id: strawberry.ID
    note: str
    deadline: dt.datetime
    status: SupervisionStatus
    issued_by: str
    issued_at: dt.datetime
    response: str | None
    responded_at: dt.datetime | None
    overdue: bool

    @classmethod
    def of(cls, row: OrderModel) -> SupervisionOrder:
        """Map a model."""
        return cls(
            id=strawberry.ID(str(row.id)),
            case_id=strawberry.ID(str(row.case_id)),
            note=row.note,
            deadline=row.deadline,
            status=row.status,
            issued_by=row.issued_by,
            issued_at=row.issued_at,
            response=row.response,
            responded_at=row.responded_at,
            overdue=row.status is SupervisionStatus.OPEN and row.deadline < utcnow(),
        )


@strawberry.type
class Escalations:
    """What supervisors look at first."""

    overdue_cases: list[Case]
    overdue_orders: list[SupervisionOrder]


@strawberry.type
class OversightQuery:
    """Reads for supervisors and auditors."""

    @strawberry.field
    async def trail(
        self,
        info: strawberry.Info[HubContext, None],
        case_no: str | None = None,
        actor: str | None = None,
        department: str | None = None,
        action: str | None = None,
        since: dt.datetime | None = None,
        until: dt.datetime | None = None,
        first: int = 200,
    ) -> list[TrailEntry]:
        """Trail events across cases, newest first, filterable by case, actor, department, action and time."""
        ctx = info.context
        service = ctx.service(principal_of(info))
        async with ctx.db():
            rows = await guarded(
                trail_reads.trail_events(
                    service,
                    case_no=case_no,
                    actor=actor,
                    department=department,
                    action=action,
                    since=since,
                    until=until,
                    limit=first,
                )
            )
            await reads.audit_query(service, action="trail", target=case_no or actor or department)
        return [TrailEntry(case_no=no, event=CaseEvent.of(event)) for no, event in rows]

    @strawberry.field
    async def supervision_orders(
        self, info: strawberry.Info[HubContext, None], open_only: bool = True
    ) -> list[SupervisionOrder]:
        """Supervision orders, open ones by default (a handler: its department's)."""
        ctx = info.context
        service = ctx.service(principal_of(info))
        async with ctx.db():
            rows = await guarded(orders.list_orders(service, open_only=open_only))
            await reads.audit_query(service, action="supervisionOrders", target=None)
        return [SupervisionOrder.of(r) for r in rows]

    @strawberry.field
    async def escalations(self, info: strawberry.Info[HubContext, None]) -> Escalations:
        """Overdue open cases and overdue supervision orders."""
        ctx = info.context
        service = ctx.service(principal_of(info))
        async with ctx.db():
            found = await guarded(enforcement.escalations(service))
            await reads.audit_query(service, action="escalations", target=None)
        return Escalations(
            overdue_cases=await build_cases(ctx, found.overdue_cases, selected_relations(info, "overdueCases")),
            overdue_orders=[SupervisionOrder.of(o) for o in found.overdue_orders],
        )


async def respond_supervision(s: ServiceContext, *, order_id: int, response: str) -> int:
    """Answer an order; returns the case id."""
    order = await followup.respond_supervision(s, order_id=order_id, response=response)
    return order.case_id


@strawberry.type
class DuplicateSuggestion:
    """An open case that is probably the same matter, with how sure the hub is and why."""

    score: float
    reasons: list[str]
    case: Case


@strawberry.type
class DuplicatesQuery:
    """一网打尽: the same matter reported on several channels."""

    @strawberry.field
    async def duplicate_suggestions(
        self, info: strawberry.Info[HubContext, None], case_id: strawberry.ID, first: int = 5
    ) -> list[DuplicateSuggestion]:
        """Open cases within the window that are probably the same matter as this one, best first."""
        ctx = info.context
        service = ctx.service(principal_of(info))
        async with ctx.db() as session:
            found = await guarded(duplicates.suggest_duplicates(service, case_id=int(case_id), limit=first))
            rows = {c.id: c for c in await case_repository.cases_by_ids(session, ids=[s.candidate_id for s in found])}
        shown = [s for s in found if s.candidate_id in rows]
        cases = await build_cases(ctx, [rows[s.candidate_id] for s in shown], selected_relations(info, "case"))
        return [
            DuplicateSuggestion(score=round(s.score, 3), reasons=list(s.reasons), case=case)
            for s, case in zip(shown, cases, strict=True)
        ]
