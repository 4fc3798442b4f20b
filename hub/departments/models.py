"""The department tree."""

from __future__ import annotations

from sqlalchemy import Boolean, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from hub.db import Base, BigId


class Department(Base):
    """A unit that handles cases: the district, a bureau, a street office or the dispatch centre."""

    __tablename__ = "department"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(16), default="BUREAU")  # DISTRICT, BUREAU, STREET, CENTRE
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("department.id"), index=True)
    region: Mapped[str | None] = mapped_column(String(64))  # the street a street office covers
    active: Mapped[bool] = mapped_column(Boolean, default=True)
