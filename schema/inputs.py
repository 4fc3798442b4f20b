"""GraphQL inputs, turned into the hub's own filter types."""

from __future__ import annotations

import datetime as dt

import strawberry

import schema.types  # noqa: F401  (registers the enums)
from hub.cases.types import CaseFilter, CaseOrder
from hub.enums import CaseKind, CaseStatus, Channel, Satisfaction

strawberry.enum(CaseOrder)


@strawberry.input
class CaseFilterInput:
    """What an inbox or an auditor filters by; every field optional."""

    status: list[CaseStatus] | None = None
    channel: list[Channel] | None = None
    kind: list[CaseKind] | None = None
    category: list[str] | None = None
    lead_department: str | None = None
    co_department: str | None = None
    department: str | None = None
    overdue: bool | None = None
    received_from: dt.datetime | None = None
    received_to: dt.datetime | None = None
    due_from: dt.datetime | None = None
    due_to: dt.datetime | None = None
    search: str | None = None
    citizen_id: strawberry.ID | None = None

    def to_filter(self) -> CaseFilter:
        """The hub's filter."""
        return CaseFilter(
            status=tuple(self.status or ()),
            channel=tuple(self.channel or ()),
            kind=tuple(self.kind or ()),
            category=tuple(self.category or ()),
            lead_department=self.lead_department,
            co_department=self.co_department,
            department=self.department,
            overdue=self.overdue,
            received_from=self.received_from,
            received_to=self.received_to,
            due_from=self.due_from,
            due_to=self.due_to,
            search=(self.search or "").strip() or None,
            citizen_id=int(self.citizen_id) if self.citizen_id else None,
        )


@strawberry.input
class SubmitCaseInput:
    """A citizen message handed in by a connector (or typed in by the centre)."""

    channel: Channel
    external_id: str
    title: str
    content: str
    received_at: dt.datetime
    kind: CaseKind | None = None
    urgent: bool = False
    citizen_name: str | None = None
    citizen_phone: str | None = None
    account_id: str | None = None
    address: str | None = None
    region: str | None = None


@strawberry.input
class CallbackInput:
    """The result of a follow-up call."""

    case_id: strawberry.ID
    satisfaction: Satisfaction
    solved: bool
    note: str | None = None
