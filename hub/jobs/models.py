"""What the background jobs keep: per-reply delivery bookkeeping and the dead-letter list."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from hub.clock import utcnow
from hub.db import Base, BigId, UTCDateTime


class ReplyDelivery(Base):
    """The outbox's bookkeeping for one reply: a send in flight, the next retry, the last enqueue."""

    __tablename__ = "reply_delivery"

    reply_id: Mapped[int] = mapped_column(ForeignKey("reply.id"), primary_key=True)
    # set (and committed) before the channel is called, cleared when the outcome is recorded: a value older
    # than the lease means a worker died mid-send and the outcome is unknown
    in_flight_since: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    next_attempt_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, index=True)
    enqueued_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    channel_ref: Mapped[str | None] = mapped_column(String(128))


class DeadLetter(Base):
    """A job that gave up: a reply that could not be delivered, a message that could not be stored."""

    __tablename__ = "dead_letter"
    __table_args__ = (Index("ix_dead_letter_channel_created", "channel", "created_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    job: Mapped[str] = mapped_column(String(48))
    channel: Mapped[str | None] = mapped_column(String(16))
    reply_id: Mapped[int | None] = mapped_column(ForeignKey("reply.id"), index=True)
    ref: Mapped[str | None] = mapped_column(String(128))  # an external id or a job's argument, never personal data
    status: Mapped[str] = mapped_column(String(32))
    error: Mapped[str] = mapped_column(String(300))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    resolved_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
