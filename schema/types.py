"""GraphQL types, mapped by hand from the models: nothing reaches a client by accident."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any, Protocol, cast

import strawberry
from sqlalchemy import Row
from strawberry.scalars import JSON

from hub.cases.models import Case as CaseModel
from hub.cases.models import Reply as ReplyModel
from hub.enums import CaseKind, CaseStatus, Channel, DeliveryStatus, Satisfaction, Urgency
from hub.trail.models import CaseEvent as EventModel
from schema.execution import plain_resolver

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
    parent: Department | None  # the unit above this one, built with it (the tree is a few levels deep)

    @classmethod
    def of(cls, row: DepartmentRow, parent: Department | None = None) -> Department:
        """Map a model or a cached department."""
        return cls(
            id=strawberry.ID(str(row.id)), code=row.code, name=row.name, kind=row.kind, region=row.region, parent=parent
        )


class DepartmentRow(Protocol):
    """What a department node is built from: the model or the per-process cache's `DepartmentInfo`."""

    @property
    def id(self) -> int: ...
    @property
    def code(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def kind(self) -> str: ...
    @property
    def region(self) -> str | None: ...
    @property
    def parent_id(self) -> int | None: ...


class DepartmentNodes:
    """Department nodes with their parents, each built once per request from one set of rows."""

    def __init__(self, rows: Mapping[int, DepartmentRow]) -> None:
        self._rows = rows
        self._nodes: dict[int, Department | None] = {}

    def get(self, department_id: int | None) -> Department | None:
        """The node of a department id (None for None or an unknown id)."""
        if department_id is None:
            return None
        if department_id not in self._nodes:
            row = self._rows.get(department_id)
            self._nodes[department_id] = None  # a cycle in the tree ends here instead of recursing forever
            if row is not None:
                self._nodes[department_id] = Department.of(row, self.get(row.parent_id))
        return self._nodes[department_id]


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
    def of(cls, row: EventModel | Row[Any]) -> CaseEvent:
        """Map a model or a row of its table."""
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
    def of(cls, row: ReplyModel | Row[Any]) -> Reply:
        """Map a model or a row of its table."""
        return cls(
            id=strawberry.ID(str(row.id)),
            content=row.content,
            created_at=row.created_at,
            delivered_at=row.delivered_at,
            delivery_status=row.delivery_status,
        )


@plain_resolver
def _events(root: Case, last: int | None = None) -> list[CaseEvent]:
    """The trail, oldest first (or only the last N)."""
    if last is None:
        return root.trail
    return root.trail[-last:] if last > 0 else []


@strawberry.type
class Case:
    """One citizen matter (DESIGN §6).

    Built complete for what the query selects (`schema.loaders.build_cases`: one statement per relation for a
    whole page), so every field but `events(last:)` is a plain value: graphql-core resolves ~40 fields per case
    in an inbox, and a resolver per scalar was most of the request's time.
    """

    id: strawberry.ID
    case_no: str
    channel: Channel
    kind: CaseKind
    status: CaseStatus
    urgency: Urgency
    title: str
    content: str
    category: str | None
    suggested_category: str | None
    suggestion_confidence: float | None
    address: str | None
    received_at: dt.datetime
    dispatched_at: dt.datetime | None
    sign_deadline: dt.datetime | None
    due_at: dt.datetime | None
    answered_at: dt.datetime | None
    closed_at: dt.datetime | None
    overdue: bool
    satisfaction: Satisfaction | None
    supervised: bool
    lead_department: Department | None
    co_departments: list[Department]
    citizen: Citizen | None  # masked unless the viewer is the centre or a handler of this case's departments
    events: list[CaseEvent] = strawberry.field(resolver=_events)
    replies: list[Reply]
    trail: strawberry.Private[list[CaseEvent]]  # what was loaded: all events, or the last N the query asks for

    @classmethod
    def of(
        cls,
        row: CaseModel | Row[Any],
        *,
        lead_department: Department | None = None,
        co_departments: list[Department] | None = None,
        citizen: Citizen | None = None,
        trail: list[CaseEvent] | None = None,
        replies: list[Reply] | None = None,
    ) -> Case:
        """Map a model (or a row of `hub.cases.queries.PAGE_COLUMNS`) and what was loaded with it."""
        return cls(
            id=strawberry.ID(str(row.id)),
            case_no=row.case_no,
            channel=row.channel,
            kind=row.kind,
            status=row.status,
            urgency=row.urgency,
            title=row.title,
            content=row.content,
            category=row.category,
            suggested_category=row.suggested_category,
            suggestion_confidence=row.suggestion_confidence,
            address=row.address,
            received_at=row.received_at,
            dispatched_at=row.dispatched_at,
            sign_deadline=row.sign_deadline,
            due_at=row.due_at,
            answered_at=row.answered_at,
            closed_at=row.closed_at,
            overdue=row.overdue,
            satisfaction=row.satisfaction,
            supervised=row.supervised,
            lead_department=lead_department,
            co_departments=co_departments or [],
            citizen=citizen,
            trail=trail or [],
            replies=replies or [],
        )


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
