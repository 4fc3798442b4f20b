"""Ingest's durable records beside the cursor: push receipts (retry dedupe) and rate-limit pauses."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from hub.clock import utcnow
from hub.db import Base, UTCDateTime


class InboundReceipt(Base):
    """A pushed message or event already handled, by the channel's dedupe key (WeChat MsgId, event key)."""

    __tablename__ = "inbound_receipt"

    channel: Mapped[str] = mapped_column(String(16), primary_key=True)
    dedupe_key: Mapped[str] = mapped_column(String(128), primary_key=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("hub_case.id"))
    received_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


class ConnectorPause(Base):
    """A pull channel asked us to wait (rate limit): no pass before ``until``."""

    __tablename__ = "connector_pause"

    channel: Mapped[str] = mapped_column(String(16), primary_key=True)
    until: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    reason: Mapped[str] = mapped_column(String(300))
