"""Ingest's durable records beside the cursor: push receipts (retry dedupe) and rate-limit pauses."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from hub.clock import utcnow
from hub.db import Base, BigId, UTCDateTime


class InboundReceipt(Base):
    """A pushed message or event already handled, by the channel's dedupe key (WeChat MsgId, event key)."""

    __tablename__ = "inbound_receipt"

    channel: Mapped[str] = mapped_column(String(16), primary_key=True)
    dedupe_key: Mapped[str] = mapped_column(String(128), primary_key=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("hub_case.id"))
    # the number reserved for a message whose case is created after the reply (pending intake)
    case_no: Mapped[str | None] = mapped_column(String(32))
    received_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


class ConnectorPause(Base):
    """A pull channel asked us to wait (rate limit): no pass before ``until``."""

    __tablename__ = "connector_pause"

    channel: Mapped[str] = mapped_column(String(16), primary_key=True)
    until: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    reason: Mapped[str] = mapped_column(String(300))


class PendingIntake(Base):
    """A verified pushed message, answered with its reserved case number, whose case is not created yet."""

    __tablename__ = "pending_intake"
    __table_args__ = (UniqueConstraint("channel", "external_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    channel: Mapped[str] = mapped_column(String(16))
    external_id: Mapped[str] = mapped_column(String(128))
    case_no: Mapped[str] = mapped_column(String(32))
    dedupe_key: Mapped[str | None] = mapped_column(String(128))  # its receipt is written with the case
    draft: Mapped[str] = mapped_column(Text)  # the parsed CaseDraft as JSON (hub.ingest.pending)
    received_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0)  # failed tries at creating its case
