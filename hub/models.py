"""Every model, imported once so the metadata (and Alembic) sees the whole schema."""

from hub.accounts.models import ServiceClient, SigningKey, User
from hub.cases.models import (
    Callback,
    Case,
    CaseCoDepartment,
    CaseCounter,
    ExtensionRequest,
    Reply,
    SupervisionOrder,
)
from hub.citizens.models import Citizen, CitizenIdentity
from hub.db import Base
from hub.deadlines.models import CalendarOverride
from hub.departments.models import Department
from hub.ingest.models import ConnectorState
from hub.ingest.records import ConnectorPause, InboundReceipt, PendingIntake
from hub.jobs.models import DeadLetter, ReplyDelivery
from hub.routing.models import Category, RoutingRule
from hub.trail.models import CaseEvent, ReadLog

__all__ = [
    "Base",
    "CalendarOverride",
    "Callback",
    "Case",
    "CaseCoDepartment",
    "CaseCounter",
    "CaseEvent",
    "Category",
    "Citizen",
    "CitizenIdentity",
    "ConnectorPause",
    "ConnectorState",
    "DeadLetter",
    "Department",
    "ExtensionRequest",
    "InboundReceipt",
    "PendingIntake",
    "ReadLog",
    "Reply",
    "ReplyDelivery",
    "RoutingRule",
    "ServiceClient",
    "SigningKey",
    "SupervisionOrder",
    "User",
]
