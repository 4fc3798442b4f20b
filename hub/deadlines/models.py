"""Admin-entered calendar rows: a year's State Council notice, ahead of the packages."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Date, String
from sqlalchemy.orm import Mapped, mapped_column

from hub.clock import utcnow
from hub.db import Base, UTCDateTime
from hub.enums import CalendarDayKind
from hub.types import enum_column


class CalendarOverride(Base):
    """One official day: a holiday off, or a make-up workday (调休) on."""

    __tablename__ = "calendar_override"

    day: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    kind: Mapped[CalendarDayKind] = mapped_column(enum_column(CalendarDayKind))
    note: Mapped[str | None] = mapped_column(String(200))
    created_by: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
