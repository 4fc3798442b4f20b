"""A citizen and the channel identities that lead to them."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from hub.clock import utcnow
from hub.db import Base, BigId, UTCDateTime


class Citizen(Base):
    """A person who wrote to the district. Phone and ID number are personal data (DESIGN §5)."""

    __tablename__ = "citizen"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    name: Mapped[str | None] = mapped_column(String(100))
    phone: Mapped[str | None] = mapped_column(String(32), index=True)
    id_number: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class CitizenIdentity(Base):
    """One way to reach a citizen: a phone, a WeChat openid, a Weibo uid, a website account."""

    __tablename__ = "citizen_identity"
    __table_args__ = (UniqueConstraint("kind", "value"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    citizen_id: Mapped[int] = mapped_column(ForeignKey("citizen.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # PHONE, HOTLINE, WEBSITE, WEIBO, WECHAT
    value: Mapped[str] = mapped_column(String(128))
    bound_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
