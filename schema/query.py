"""Root queries (DESIGN §6)."""

from __future__ import annotations

import datetime as dt

import strawberry

from auth.permission import Operation
from hub.cases import reads
from hub.cases.types import CaseOrder
from hub.departments import repository as departments
from hub.trail import reads as trail_reads
from hub.trail.service import verify_chains
from schema.channels import ChannelsQuery
from schema.context import HubContext
from schema.errors import guarded
from schema.inputs import CaseFilterInput
from schema.loaders import build_case, build_cases, department_nodes, selected_relations
from schema.oversight import DuplicatesQuery, OversightQuery
from schema.permissions import principal_of, require_operation
from schema.stats import StatsQuery
from schema.types import Case, CaseConnection, CaseEdge, Department, Me, PageInfo


@strawberry.type(name="BrokenLink")
class BrokenLinkType:
    """The first event of a case whose chain does not hold."""

    case_no: str | None
    seq: int
    reason: str


@strawberry.type
class TrailReport:
    """What verifying the trail found."""

    intact: bool
    cases_checked: int
    events_checked: int
    broken: list[BrokenLinkType]


@strawberry.type
class ReadLogEntry:
    """One recorded read."""

    at: dt.datetime
    subject: str
    role: str
    department: str | None
    action: str
    target: str | None
    request_id: str | None


@strawberry.type
class Query(OversightQuery, ChannelsQuery, DuplicatesQuery, StatsQuery):
    """Reads, each scoped to the caller."""

    @strawberry.field
    def me(self, info: strawberry.Info[HubContext, None]) -> Me:
        """The caller as the hub sees them."""
        principal = principal_of(info)
        return Me(
            subject=principal.subject, roles=sorted(r.value for r in principal.roles), department=principal.department
        )

    @strawberry.field
    async def case(
        self, info: strawberry.Info[HubContext, None], id: strawberry.ID | None = None, case_no: str | None = None
    ) -> Case:
        """One case by id or number; another department's case is not found."""
        ctx = info.context
        service = ctx.service(principal_of(info))
        async with ctx.db():
            row = await guarded(reads.get_case(service, case_id=int(id) if id else None, case_no=case_no))
        return await build_case(ctx, row, selected_relations(info))

    @strawberry.field
    async def cases(
        self,
        info: strawberry.Info[HubContext, None],
        filter: CaseFilterInput | None = None,
        first: int = 50,
        after: str | None = None,
        order_by: CaseOrder = CaseOrder.RECEIVED_AT_DESC,
    ) -> CaseConnection:
        """A page of the cases the caller may see (Relay connection)."""
        ctx = info.context
        service = ctx.service(principal_of(info))
        wanted = (filter or CaseFilterInput()).to_filter()
        async with ctx.db():
            page = await guarded(reads.list_cases(service, filter=wanted, order=order_by, first=first, after=after))
        nodes = await build_cases(ctx, page.cases, selected_relations(info, "edges", "node"))
        edges = [CaseEdge(cursor=c, node=node) for node, c in zip(nodes, page.cursors, strict=True)]
        return CaseConnection(
            edges=edges,
            total_count=page.total,
            total_count_capped=page.total_capped,
            page_info=PageInfo(has_next_page=page.has_next, end_cursor=page.cursors[-1] if page.cursors else None),
        )

    @strawberry.field
    async def departments(self, info: strawberry.Info[HubContext, None]) -> list[Department]:
        """Every department of the district."""
        principal = principal_of(info)
        require_operation(principal, Operation.DEPARTMENT_READ)
        async with info.context.db() as session:
            rows = await departments.all_departments(session)
        nodes = department_nodes(rows)
        return [node for node in (nodes.get(d.id) for d in rows) if node is not None]

    @strawberry.field
    async def verify_trail(
        self, info: strawberry.Info[HubContext, None], case_id: strawberry.ID | None = None
    ) -> TrailReport:
        """Recompute the hash chains of one case or all, naming the first broken link of each."""
        principal = principal_of(info)
        require_operation(principal, Operation.TRAIL_VERIFY)
        ctx = info.context
        async with ctx.db() as session:
            report = await verify_chains(session, case_id=int(case_id) if case_id else None)
            await reads.audit_query(ctx.service(principal), action="verifyTrail", target=case_id)
        return TrailReport(
            intact=report.intact,
            cases_checked=report.cases_checked,
            events_checked=report.events_checked,
            broken=[BrokenLinkType(case_no=b.case_no, seq=b.seq, reason=b.reason) for b in report.broken],
        )

    @strawberry.field
    async def read_log(
        self,
        info: strawberry.Info[HubContext, None],
        subject: str | None = None,
        action: str | None = None,
        since: dt.datetime | None = None,
        until: dt.datetime | None = None,
        limit: int = 100,
    ) -> list[ReadLogEntry]:
        """Who read what (auditors): every auditor or supervisor query and every unmasked personal-data read."""
        ctx = info.context
        service = ctx.service(principal_of(info))
        async with ctx.db():
            rows = await guarded(
                trail_reads.read_log(service, subject=subject, action=action, since=since, until=until, limit=limit)
            )
            await reads.audit_query(service, action="readLog", target=subject)
        return [
            ReadLogEntry(
                at=r.at,
                subject=r.subject,
                role=r.role,
                department=r.department,
                action=r.action,
                target=r.target,
                request_id=r.request_id,
            )
            for r in rows
        ]
