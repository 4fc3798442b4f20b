"""The category table and the routing rules the centre maintains."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Boolean, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from hub.db import Base, BigId, Json


class Category(Base):
    """A node of the category tree; first-level names are the hub's `category` vocabulary."""

    __tablename__ = "category"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    path: Mapped[str] = mapped_column(String(200), unique=True)  # 城乡建设/安全生产/事故处理
    name: Mapped[str] = mapped_column(String(64))
    level: Mapped[int] = mapped_column(Integer)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("category.id"), index=True)


class RoutingRule(Base):
    """When a case matches (category, keywords, region, channel, kind), route it to these departments."""

    __tablename__ = "routing_rule"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(100))
    priority: Mapped[int] = mapped_column(Integer, default=100)  # lower runs first
    category: Mapped[str | None] = mapped_column(String(32))
    keywords: Mapped[list[str]] = mapped_column(Json, default=list)
    region: Mapped[str | None] = mapped_column(String(64))
    channel: Mapped[str | None] = mapped_column(String(16))
    kind: Mapped[str | None] = mapped_column(String(16))
    lead_department_id: Mapped[int] = mapped_column(ForeignKey("department.id"))
    co_department_ids: Mapped[list[int]] = mapped_column(Json, default=list)
    auto_dispatch: Mapped[bool] = mapped_column(Boolean, default=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


@dataclass(frozen=True)
class ActiveRule:
    """An active routing rule as routing reads it: plain values, read once per page and matched per message."""

    id: int
    name: str
    category: str | None
    keywords: tuple[str, ...]
    region: str | None
    channel: str | None
    kind: str | None
    lead_department_id: int
    co_department_ids: tuple[int, ...]
    auto_dispatch: bool
