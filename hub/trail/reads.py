"""The read log for auditors: who looked at what, and when."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from auth.permission import Operation
from hub.context import ServiceContext
from hub.permissions import require
from hub.trail.models import ReadLog


async def read_log(
    ctx: ServiceContext,
    *,
    subject: str | None = None,
    action: str | None = None,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    limit: int = 100,
) -> list[ReadLog]:
    """The newest read-log rows matching the filter (auditors only)."""
    require(ctx.actor, Operation.READLOG_READ)
    stmt = select(ReadLog)
    if subject:
        stmt = stmt.where(ReadLog.subject == subject)
    if action:
        stmt = stmt.where(ReadLog.action == action)
    if since:
        stmt = stmt.where(ReadLog.at >= since)
    if until:
        stmt = stmt.where(ReadLog.at < until)
    stmt = stmt.order_by(ReadLog.at.desc(), ReadLog.id.desc()).limit(max(1, min(limit, 1000)))
    return list((await ctx.session.execute(stmt)).scalars())
