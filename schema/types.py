"""GraphQL types, mapped by hand from the models: nothing reaches a client by accident."""

from __future__ import annotations

import datetime as dt
from typing import cast

import strawberry
from strawberry.scalars import JSON

from hub.cases.models import Case as CaseModel
from hub.cases.models import Reply as ReplyModel
from hub.cases.reads import may_see_personal_data
from hub.citizens.masking import mask_id_number, mask_name, mask_phone
from hub.departments.models import Department as DepartmentModel
from hub.enums import CaseKind, CaseStatus, Channel, DeliveryStatus, Satisfaction, Urgency
from hub.trail.models import CaseEvent as EventModel
from schema.context import HubContext

# Registered once; the hub's own enums are then used as GraphQL types directly.
for _enum in (Channel, CaseKind, CaseStatus, Urgency, Satisfaction, DeliveryStatus):
    strawberry.enum(_enum)


@strawberry.type
class Department:
    """A unit that handles cases."""

    id: strawberry.ID
    code: str
    name: str
    kind: str
    region: str | None
    parent_id: strawberry.Private[int | None]

    @strawberry.field
    async def parent(self, info: strawberry.Info[HubContext, None]) -> Department | None:
        """The unit above this one."""
        if self.parent_id is None:
            return None
        found = await info.context.loaders.department.load(self.parent_id)
        return Department.of(found) if found else None

    @classmethod
    def of(cls, row: DepartmentModel) -> Department:
        """Map a model."""
        return cls(
            id=strawberry.ID(str(row.id)),
            code=row.code,
            name=row.name,
            kind=row.kind,
            region=row.region,
            parent_id=row.parent_id,
        )


@strawberry.type
class Citizen:
    """Who wrote; phone and ID number masked unless the viewer may see them (DESIGN §5)."""

    name: str | None
    phone: str | None
    id_number: str | None
    masked: bool


@strawberry.type
class Actor:
    """Who did a step."""

    subject: str
    role: str
    department: str | None


@strawberry.type
class CaseEvent:
    """One step of the trail."""

    seq: int
    action: str
    at: dt.datetime
    actor: Actor
    from_status: str | None
    to_status: str | None
    note: str | None
    payload: JSON
    hash: str

    @classmethod
    def of(cls, row: EventModel) -> CaseEvent:
        """Map a model."""
        return cls(
            seq=row.seq,
            action=row.action,
            at=row.at,
            actor=Actor(subject=row.actor_subject, role=row.actor_role, department=row.actor_department),
            from_status=row.from_status,
            to_status=row.to_status,
            note=row.note,
            payload=cast(JSON, dict(row.payload or {})),
            hash=row.hash,
        )


@strawberry.type
class Reply:
    """An answer and whether it reached the citizen."""

    id: strawberry.ID
    content: str
    created_at: dt.datetime
    delivered_at: dt.datetime | None
    delivery_status: DeliveryStatus

    @classmethod
    def of(cls, row: ReplyModel) -> Reply:
        """Map a model."""
        return cls(
            id=strawberry.ID(str(row.id)),
            content=row.content,
            created_at=row.created_at,
            delivered_at=row.delivered_at,
            delivery_status=row.delivery_status,
        )


@strawberry.type
class Case:
    """One citizen matter (DESIGN §6)."""

    row: strawberry.Private[CaseModel]

    @strawberry.field
    def id(self) -> strawberry.ID:
        """The case's id."""
        return strawberry.ID(str(self.row.id))

    @strawberry.field
    def case_no(self) -> str:
        """The human-readable number, e.g. NH20261128000123."""
        return self.row.case_no

    @strawberry.field
    def channel(self) -> Channel:
        """Where it came from."""
        return self.row.channel

    @strawberry.field
    def kind(self) -> CaseKind:
        """Consultation, help, complaint, …"""
        return self.row.kind

    @strawberry.field
    def status(self) -> CaseStatus:
        """Where it stands in the workflow."""
        return self.row.status

    @strawberry.field
    def urgency(self) -> Urgency:
        """NORMAL or URGENT."""
        return self.row.urgency

    @strawberry.field
    def title(self) -> str:
        """The subject line."""
        return self.row.title

    @strawberry.field
    def content(self) -> str:
        """What the citizen wrote."""
        return self.row.content

    @strawberry.field
    def category(self) -> str | None:
        """First-level category."""
        return self.row.category

    @strawberry.field
    def suggested_category(self) -> str | None:
        """What the suggester proposed."""
        return self.row.suggested_category

    @strawberry.field
    def suggestion_confidence(self) -> float | None:
        """How sure the suggester was (0–1)."""
        return self.row.suggestion_confidence

    @strawberry.field
    def address(self) -> str | None:
        """Where it happened."""
        return self.row.address

    @strawberry.field
    def received_at(self) -> dt.datetime:
        """When the channel received it."""
        return self.row.received_at

    @strawberry.field
    def dispatched_at(self) -> dt.datetime | None:
        """When the centre dispatched it."""
        return self.row.dispatched_at

    @strawberry.field
    def sign_deadline(self) -> dt.datetime | None:
        """By when the lead department must sign."""
        return self.row.sign_deadline

    @strawberry.field
    def due_at(self) -> dt.datetime | None:
        """By when it must be answered."""
        return self.row.due_at

    @strawberry.field
    def answered_at(self) -> dt.datetime | None:
        """When it was answered."""
        return self.row.answered_at

    @strawberry.field
    def closed_at(self) -> dt.datetime | None:
        """When it was closed."""
        return self.row.closed_at

    @strawberry.field
    def overdue(self) -> bool:
        """Whether a deadline passed."""
        return self.row.overdue

    @strawberry.field
    def satisfaction(self) -> Satisfaction | None:
        """The callback's verdict."""
        return self.row.satisfaction

    @strawberry.field
    def supervised(self) -> bool:
        """Whether a supervision order was issued."""
        return self.row.supervised

    @strawberry.field
    async def lead_department(self, info: strawberry.Info[HubContext, None]) -> Department | None:
        """The lead department (主办)."""
        if self.row.lead_department_id is None:
            return None
        found = await info.context.loaders.department.load(self.row.lead_department_id)
        return Department.of(found) if found else None

    @strawberry.field
    async def co_departments(self, info: strawberry.Info[HubContext, None]) -> list[Department]:
        """Co-handling departments (协办)."""
        ids = await info.context.loaders.co_departments.load(self.row.id)
        found = await info.context.loaders.department.load_many(ids)
        return [Department.of(d) for d in found if d is not None]

    @strawberry.field
    async def citizen(self, info: strawberry.Info[HubContext, None]) -> Citizen | None:
        """Who wrote, masked unless the viewer is the centre or a handler of this case's departments."""
        if self.row.citizen_id is None:
            return None
        ctx = info.context
        person = await ctx.loaders.citizen.load(self.row.citizen_id)
        if person is None:
            return None
        co = await ctx.loaders.co_departments.load(self.row.id)
        assert ctx.principal is not None
        clear = may_see_personal_data(
            ctx.service(ctx.principal),
            case_department_ids=[self.row.lead_department_id, *co],
            actor_department_id=ctx.actor_department_id,
        )
        if clear:
            if person.phone or person.id_number:
                ctx.unmasked_cases.append(self.row.case_no)
            return Citizen(name=person.name, phone=person.phone, id_number=person.id_number, masked=False)
        return Citizen(
            name=mask_name(person.name),
            phone=mask_phone(person.phone),
            id_number=mask_id_number(person.id_number),
            masked=True,
        )

    @strawberry.field
    async def events(self, info: strawberry.Info[HubContext, None], last: int | None = None) -> list[CaseEvent]:
        """The trail, oldest first (or only the last N)."""
        rows = await info.context.loaders.events.load(self.row.id)
        if last is not None:
            rows = rows[-last:] if last > 0 else []
        return [CaseEvent.of(r) for r in rows]

    @strawberry.field
    async def replies(self, info: strawberry.Info[HubContext, None]) -> list[Reply]:
        """Answers to the citizen."""
        return [Reply.of(r) for r in await info.context.loaders.replies.load(self.row.id)]


@strawberry.type
class PageInfo:
    """Relay page info."""

    has_next_page: bool
    end_cursor: str | None


@strawberry.type
class CaseEdge:
    """A case and its cursor."""

    cursor: str
    node: Case


@strawberry.type
class CaseConnection:
    """A page of cases (Relay connection)."""

    edges: list[CaseEdge]
    page_info: PageInfo
    total_count: int = strawberry.field(
        description="Matching cases; with a search, counted up to 1,000 (see totalCountCapped)."
    )
    total_count_capped: bool = strawberry.field(
        default=False, description="True when a search matched more than 1,000 cases and totalCount is 1,000."
    )


@strawberry.type
class Me:
    """The caller."""

    subject: str
    roles: list[str]
    department: str | None
