"""The read log for auditors: who looked at what, and when."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from auth.permission import Operation, Scope
from hub.cases.access import actor_department
from hub.cases.models import Case
from hub.cases.repository import department_clause
from hub.context import ServiceContext
from hub.permissions import require
from hub.trail.models import CaseEvent, ReadLog


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


async def trail_events(
    ctx: ServiceContext,
    *,
    case_no: str | None = None,
    actor: str | None = None,
    department: str | None = None,
    action: str | None = None,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    limit: int = 200,
) -> list[tuple[str, CaseEvent]]:
    """Trail events across cases, newest first, with their case numbers; a handler sees its department's only."""
    scope = require(ctx.actor, Operation.TRAIL_READ)
    stmt = select(Case.case_no, CaseEvent).join(Case, Case.id == CaseEvent.case_id)
    if scope is not Scope.ALL:
        stmt = stmt.where(department_clause((await actor_department(ctx)).id))
    if case_no:
        stmt = stmt.where(Case.case_no == case_no)
    if actor:
        stmt = stmt.where(CaseEvent.actor_subject == actor)
    if department:
        stmt = stmt.where(CaseEvent.actor_department == department)
    if action:
        stmt = stmt.where(CaseEvent.action == action)
    if since:
        stmt = stmt.where(CaseEvent.at >= since)
    if until:
        stmt = stmt.where(CaseEvent.at < until)
    stmt = stmt.order_by(CaseEvent.at.desc(), CaseEvent.id.desc()).limit(max(1, min(limit, 1000)))
    return [(no, event) for no, event in await ctx.session.execute(stmt)]
