"""All SQL of duplicate detection: the case to compare, its bounded candidates, and the merged cases of a primary."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, Row, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.cases.models import Case
from hub.duplicates.types import CaseText
from hub.enums import FINAL_STATUSES, CaseStatus, Channel

_TEXT_COLUMNS = (
    Case.id,
    Case.title,
    Case.content,
    Case.received_at,
    Case.channel,
    Case.address,
    Case.region,
    Case.category,
    Case.citizen_id,
)
MAX_MERGE_DEPTH = 8  # a primary's duplicates, their duplicates … (merges of merges), never a loop


def _text(row: Row[Any] | Any) -> CaseText:
    return CaseText(
        id=row.id,
        title=row.title or "",
        content=row.content or "",
        received_at=row.received_at,
        channel=row.channel,
        address=row.address,
        region=row.region,
        category=row.category,
        citizen_id=row.citizen_id,
    )


async def case_text(session: AsyncSession, *, case_id: int) -> tuple[CaseText, str, CaseStatus] | None:
    """What scoring reads of one case, with its case number and status."""
    stmt = select(*_TEXT_COLUMNS, Case.case_no, Case.status).where(Case.id == case_id)
    row = (await session.execute(stmt)).one_or_none()
    return (_text(row), row.case_no, row.status) if row is not None else None


async def open_candidates(
    session: AsyncSession,
    *,
    case_id: int,
    since: dt.datetime,
    until: dt.datetime,
    citizen_id: int | None,
    place_terms: Sequence[str],
    limit: int,
) -> list[CaseText]:
    """Open cases received in [since, until] that share the citizen or name one of the places; newest first.

    Bounded three ways: the time window (``ix_hub_case_status_received``), the open statuses, and ``limit``.
    Without a citizen and without a place there is nothing to look for and no query is made.
    """
    matches: list[ColumnElement[bool]] = []
    if citizen_id is not None:
        matches.append(Case.citizen_id == citizen_id)
    for term in dict.fromkeys(t for t in place_terms if t):
        for column in (Case.title, Case.content, Case.address):
            matches.append(column.contains(term, autoescape=True))
    if not matches:
        return []
    stmt = (
        select(*_TEXT_COLUMNS)
        .where(
            Case.id != case_id,
            Case.status.not_in(FINAL_STATUSES),
            Case.received_at >= since,
            Case.received_at <= until,
            or_(*matches),
        )
        .order_by(Case.received_at.desc(), Case.id.desc())
        .limit(limit)
    )
    return [_text(row) for row in (await session.execute(stmt)).all()]


async def merged_into(session: AsyncSession, *, primary_id: int) -> list[tuple[int, Channel, dict[str, Any]]]:
    """Every case merged into a primary, directly or through a case merged into it: (id, channel, reply_to)."""
    found: list[tuple[int, Channel, dict[str, Any]]] = []
    seen = {primary_id}
    frontier = [primary_id]
    for _depth in range(MAX_MERGE_DEPTH):
        if not frontier:
            break
        stmt = (
            select(Case.id, Case.channel, Case.reply_to)
            .where(Case.merged_into_id.in_(frontier), Case.status == CaseStatus.MERGED)
            .order_by(Case.received_at, Case.id)
        )
        rows = [r for r in (await session.execute(stmt)).all() if r.id not in seen]
        seen.update(r.id for r in rows)
        found.extend((r.id, r.channel, dict(r.reply_to or {})) for r in rows)
        frontier = [r.id for r in rows]
    return found


async def reply_target(session: AsyncSession, *, case_id: int) -> tuple[Channel, dict[str, Any]] | None:
    """A case's own channel and reply target."""
    row = (await session.execute(select(Case.channel, Case.reply_to).where(Case.id == case_id))).one_or_none()
    return (row.channel, dict(row.reply_to or {})) if row is not None else None
