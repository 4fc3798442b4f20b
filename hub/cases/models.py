"""The case and what hangs off it: co-departments, replies, extensions, supervision, callbacks."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Boolean, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint, text, true
from sqlalchemy.orm import Mapped, mapped_column

from hub.clock import utcnow
from hub.db import Base, BigId, Json, UTCDateTime
from hub.enums import (
    CaseKind,
    CaseStatus,
    Channel,
    DeliveryStatus,
    ExtensionStatus,
    Satisfaction,
    SupervisionStatus,
    Urgency,
)
from hub.types import enum_column

# Cases still being handled (not CLOSED, not MERGED), as the partial index of inboxes states it.
OPEN_STATUSES_SQL = "status IN ('RECEIVED', 'DISPATCHED', 'CLAIMED', 'ANSWERED')"
OPEN_STATUSES = frozenset({CaseStatus.RECEIVED, CaseStatus.DISPATCHED, CaseStatus.CLAIMED, CaseStatus.ANSWERED})


class Case(Base):
    """One citizen matter, from whichever channel it came (DESIGN §6)."""

    __tablename__ = "hub_case"
    __table_args__ = (
        UniqueConstraint("channel", "external_id"),
        Index("ix_hub_case_lead_status", "lead_department_id", "status"),
        Index("ix_hub_case_status_received", "status", "received_at"),
        # Open cases newest first (inboxes): a partial index, ~1 % of the table once cases close (migration 0005).
        Index(
            "ix_hub_case_open_received",
            "received_at",
            "id",
            postgresql_include=["lead_department_id", "status"],
            postgresql_where=text(OPEN_STATUSES_SQL),
            sqlite_where=text(OPEN_STATUSES_SQL),
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    case_no: Mapped[str] = mapped_column(String(32), unique=True)
    channel: Mapped[Channel] = mapped_column(enum_column(Channel))
    external_id: Mapped[str] = mapped_column(String(128))
    kind: Mapped[CaseKind] = mapped_column(enum_column(CaseKind))
    status: Mapped[CaseStatus] = mapped_column(enum_column(CaseStatus))
    urgency: Mapped[Urgency] = mapped_column(enum_column(Urgency), default=Urgency.NORMAL)
    title: Mapped[str] = mapped_column(String(300))
    content: Mapped[str] = mapped_column(Text)
    category: Mapped[str | None] = mapped_column(String(32), index=True)
    suggested_category: Mapped[str | None] = mapped_column(String(32))
    suggestion_confidence: Mapped[float | None] = mapped_column(Float)
    address: Mapped[str | None] = mapped_column(String(300))
    region: Mapped[str | None] = mapped_column(String(64))
    citizen_id: Mapped[int | None] = mapped_column(ForeignKey("citizen.id"), index=True)
    lead_department_id: Mapped[int | None] = mapped_column(ForeignKey("department.id"))
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("hub_case.id"), index=True)
    received_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, index=True)
    dispatched_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    claimed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    answered_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    sign_deadline: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    due_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, index=True)
    return_deadline: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    overdue: Mapped[bool] = mapped_column(Boolean, default=False)
    satisfaction: Mapped[Satisfaction | None] = mapped_column(enum_column(Satisfaction))
    solved: Mapped[bool | None] = mapped_column(Boolean)
    return_count: Mapped[int] = mapped_column(Integer, default=0)
    extension_count: Mapped[int] = mapped_column(Integer, default=0)
    reopen_count: Mapped[int] = mapped_column(Integer, default=0)
    supervised: Mapped[bool] = mapped_column(Boolean, default=False)
    reply_to: Mapped[dict[str, Any]] = mapped_column(Json, default=dict)
    raw_payload: Mapped[str] = mapped_column(Text, default="")  # exactly as the channel sent it
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class CaseCoDepartment(Base):
    """A co-handling department (协办) of a case."""

    __tablename__ = "case_co_department"
    __table_args__ = (
        Index("ix_case_co_department_department_case", "department_id", "case_id"),
        # The co-handlings of open cases (inbox counts): a few hundred of a department's thousands (migration 0008).
        Index(
            "ix_case_co_department_open",
            "department_id",
            "case_id",
            postgresql_where=text("case_open"),
            sqlite_where=text("case_open"),
        ),
    )

    case_id: Mapped[int] = mapped_column(ForeignKey("hub_case.id"), primary_key=True)
    department_id: Mapped[int] = mapped_column(ForeignKey("department.id"), primary_key=True)
    # Whether the case is open now (OPEN_STATUSES_SQL). Written only by the database's triggers (migration 0008),
    # on insert and on every status change of the case.
    case_open: Mapped[bool] = mapped_column(Boolean, server_default=true())


class CaseCounter(Base):
    """The last case number handed out on a day; case numbers are prefix + day + sequence."""

    __tablename__ = "case_counter"

    day: Mapped[str] = mapped_column(String(8), primary_key=True)
    value: Mapped[int] = mapped_column(Integer, default=0)


PENDING_SQL = "delivery_status = 'PENDING'"


class Reply(Base):
    """An answer to the citizen, and whether it reached them on their channel."""

    __tablename__ = "reply"
    # The outbox sweep looks for PENDING replies every minute; at a million delivered ones a scan took a second.
    __table_args__ = (
        Index("ix_reply_pending", "id", postgresql_where=text(PENDING_SQL), sqlite_where=text(PENDING_SQL)),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("hub_case.id"), index=True)
    department_id: Mapped[int | None] = mapped_column(ForeignKey("department.id"))
    author_subject: Mapped[str] = mapped_column(String(128))
    content: Mapped[str] = mapped_column(Text)
    channel: Mapped[Channel] = mapped_column(enum_column(Channel))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    delivery_status: Mapped[DeliveryStatus] = mapped_column(enum_column(DeliveryStatus), default=DeliveryStatus.PENDING)
    delivered_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    idempotency_key: Mapped[str] = mapped_column(String(64), unique=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(String(300))


class ExtensionRequest(Base):
    """A lead department's request for more time (延期), decided by the centre."""

    __tablename__ = "extension_request"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("hub_case.id"), index=True)
    department_id: Mapped[int | None] = mapped_column(ForeignKey("department.id"))
    requested_by: Mapped[str] = mapped_column(String(128))
    working_days: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(Text)
    status: Mapped[ExtensionStatus] = mapped_column(enum_column(ExtensionStatus), default=ExtensionStatus.PENDING)
    requested_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    decided_by: Mapped[str | None] = mapped_column(String(128))
    decided_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    decision_note: Mapped[str | None] = mapped_column(Text)
    old_due_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    new_due_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class SupervisionOrder(Base):
    """A supervisor's order (督办) to the lead department, with its own deadline."""

    __tablename__ = "supervision_order"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("hub_case.id"), index=True)
    department_id: Mapped[int | None] = mapped_column(ForeignKey("department.id"))
    issued_by: Mapped[str] = mapped_column(String(128))
    note: Mapped[str] = mapped_column(Text)
    deadline: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    status: Mapped[SupervisionStatus] = mapped_column(enum_column(SupervisionStatus), default=SupervisionStatus.OPEN)
    issued_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    response: Mapped[str | None] = mapped_column(Text)
    responded_by: Mapped[str | None] = mapped_column(String(128))
    responded_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class Callback(Base):
    """A follow-up call (回访): was the citizen satisfied, was the problem solved."""

    __tablename__ = "callback"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("hub_case.id"), index=True)
    recorded_by: Mapped[str] = mapped_column(String(128))
    satisfaction: Mapped[Satisfaction] = mapped_column(enum_column(Satisfaction))
    solved: Mapped[bool] = mapped_column(Boolean)
    note: Mapped[str | None] = mapped_column(Text)
    recorded_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
