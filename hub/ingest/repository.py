"""All SQL of ingest: channel cursors and health, push receipts, rate-limit pauses."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import delete, func, literal, select, union_all, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from hub.cases.models import Case
from hub.enums import Channel
from hub.ingest.models import ConnectorState
from hub.ingest.records import ConnectorPause, InboundReceipt, PendingIntake
from hub.sql import one_of

_LOOKUP = 5000


def _insert(session: AsyncSession) -> Any:
    return pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert


async def ensure_state(session: AsyncSession, *, channel: str) -> None:
    """Create the channel's state row if it does not exist yet (concurrent callers are fine)."""
    stmt = _insert(session)(ConnectorState).values(channel=channel, error_count=0, ingested_count=0)
    await session.execute(stmt.on_conflict_do_nothing(index_elements=[ConnectorState.channel]))


async def get_state(session: AsyncSession, *, channel: str) -> ConnectorState | None:
    """A channel's state row."""
    return await session.get(ConnectorState, channel, populate_existing=True)


async def all_states(session: AsyncSession) -> list[ConnectorState]:
    """Every channel's state row."""
    return list((await session.execute(select(ConnectorState).order_by(ConnectorState.channel))).scalars())


async def advance_cursor(
    session: AsyncSession, *, channel: str, expected: str | None, cursor: str | None, created: int, now: dt.datetime
) -> bool:
    """Move the cursor from ``expected`` (compare-and-set) and count a success; False if it had moved."""
    stmt = (
        update(ConnectorState)
        .where(ConnectorState.channel == channel, ConnectorState.cursor.is_not_distinct_from(expected))
        .values(cursor=cursor, last_success_at=now, ingested_count=ConnectorState.ingested_count + created)
        .execution_options(synchronize_session=False)
    )
    result: Any = await session.execute(stmt)
    return bool(result.rowcount == 1)


async def record_success(session: AsyncSession, *, channel: str, created: int, now: dt.datetime) -> None:
    """Count stored messages of a channel that has no cursor to move (pushes, imports)."""
    await ensure_state(session, channel=channel)
    stmt = (
        update(ConnectorState)
        .where(ConnectorState.channel == channel)
        .values(last_success_at=now, ingested_count=ConnectorState.ingested_count + created)
        .execution_options(synchronize_session=False)
    )
    await session.execute(stmt)


async def record_error(session: AsyncSession, *, channel: str, message: str, now: dt.datetime) -> None:
    """Count a failed pass or call and keep its (personal-data-free) message."""
    await ensure_state(session, channel=channel)
    stmt = (
        update(ConnectorState)
        .where(ConnectorState.channel == channel)
        .values(last_error=message[:300], last_error_at=now, error_count=ConnectorState.error_count + 1)
        .execution_options(synchronize_session=False)
    )
    await session.execute(stmt)


async def get_pause(session: AsyncSession, *, channel: str) -> ConnectorPause | None:
    """The channel's rate-limit pause, if one was recorded."""
    return await session.get(ConnectorPause, channel, populate_existing=True)


async def all_pauses(session: AsyncSession) -> list[ConnectorPause]:
    """Every recorded pause."""
    return list((await session.execute(select(ConnectorPause))).scalars())


async def set_pause(session: AsyncSession, *, channel: str, until: dt.datetime, reason: str) -> None:
    """Pause a channel's passes until a moment."""
    stmt = _insert(session)(ConnectorPause).values(channel=channel, until=until, reason=reason[:300])
    stmt = stmt.on_conflict_do_update(index_elements=[ConnectorPause.channel],
                                      set_={"until": stmt.excluded.until, "reason": stmt.excluded.reason})
    await session.execute(stmt)


async def clear_pause(session: AsyncSession, *, channel: str) -> None:
    """Forget a channel's pause."""
    await session.execute(delete(ConnectorPause).where(ConnectorPause.channel == channel))


async def get_receipt(session: AsyncSession, *, channel: str, key: str) -> InboundReceipt | None:
    """The receipt of a pushed message or event already handled."""
    return await session.get(InboundReceipt, (channel, key), populate_existing=True)


async def add_receipt(
    session: AsyncSession, *, channel: str, key: str, case_id: int | None, now: dt.datetime
) -> bool:
    """Record a handled push; False when a concurrent delivery of the same one recorded it first."""
    stmt = _insert(session)(InboundReceipt).values(channel=channel, dedupe_key=key, case_id=case_id, received_at=now)
    result: Any = await session.execute(stmt.on_conflict_do_nothing())
    return bool(result.rowcount == 1)


async def prune_receipts(session: AsyncSession, *, before: dt.datetime) -> int:
    """Drop receipts older than a moment (WeChat retries within seconds; days of margin suffice)."""
    result: Any = await session.execute(delete(InboundReceipt).where(InboundReceipt.received_at < before))
    return int(result.rowcount or 0)


async def receipts_for(session: AsyncSession, *, channel: str, keys: Sequence[str]) -> dict[str, int | None]:
    """The receipts some dedupe keys already have: key → case id (None for an event)."""
    found: dict[str, int | None] = {}
    for start in range(0, len(keys), 500):
        stmt = select(InboundReceipt.dedupe_key, InboundReceipt.case_id).where(
            InboundReceipt.channel == channel, one_of(InboundReceipt.dedupe_key, keys[start : start + 500])
        )
        found.update((key, case_id) for key, case_id in (await session.execute(stmt)).all())
    return found


async def add_receipts(
    session: AsyncSession, *, channel: str, receipts: Mapping[str, int | None], now: dt.datetime
) -> None:
    """Record handled pushes in one statement; keys a concurrent delivery recorded first are left as they are."""
    if not receipts:
        return
    rows = [{"channel": channel, "dedupe_key": key, "case_id": case_id, "received_at": now}
            for key, case_id in receipts.items()]
    await session.execute(_insert(session)(InboundReceipt).values(rows).on_conflict_do_nothing())


async def count_success(session: AsyncSession, *, channel: str, created: int, now: dt.datetime) -> None:
    """``record_success`` in one statement (an upsert): a batch of pushes touches the channel's row once."""
    table = ConnectorState.__table__  # Core: no ORM bulk-insert step on the push path
    stmt = _insert(session)(table).values(channel=channel, error_count=0, ingested_count=created, last_success_at=now)
    stmt = stmt.on_conflict_do_update(
        index_elements=[table.c.channel],
        set_={"last_success_at": stmt.excluded.last_success_at,
              "ingested_count": table.c.ingested_count + stmt.excluded.ingested_count},
    )
    await session.execute(stmt)


# --- pending intake: messages answered with a reserved case number, their cases created by a job ----------------


_RECEIPTS = InboundReceipt.__table__.c
_CASES = Case.__table__.c
_PENDING = PendingIntake.__table__.c


async def known_numbers(
    session: AsyncSession, *, channel: str, keys: Sequence[str], external_ids: Sequence[str]
) -> tuple[dict[str, str | None], dict[str, str]]:
    """In one read: the number each received dedupe key was answered with (None for an event), and the numbers
    these messages already have as cases or as pending intake (Core columns: no ORM compile step per batch)."""
    receipts: dict[str, str | None] = {}
    numbers: dict[str, str] = {}
    keys, external_ids = list(keys)[:_LOOKUP], list(external_ids)[:_LOOKUP]  # a batch is at most a few hundred
    parts = []
    if keys:
        parts.append(
            select(literal("r"), _RECEIPTS.dedupe_key, func.coalesce(_RECEIPTS.case_no, _CASES.case_no))
            .select_from(InboundReceipt.__table__.outerjoin(Case.__table__, _CASES.id == _RECEIPTS.case_id))
            .where(_RECEIPTS.channel == channel, one_of(_RECEIPTS.dedupe_key, keys))
        )
    if external_ids:
        parts.append(select(literal("c"), _CASES.external_id, _CASES.case_no)
                     .where(_CASES.channel == Channel(channel), one_of(_CASES.external_id, external_ids)))
        parts.append(select(literal("p"), _PENDING.external_id, _PENDING.case_no)
                     .where(_PENDING.channel == channel, one_of(_PENDING.external_id, external_ids)))
    if not parts:
        return receipts, numbers
    for tag, key, number in (await session.execute(union_all(*parts))).all():
        if tag == "r":
            receipts[key] = number
        else:
            numbers[key] = number
    return receipts, numbers


async def numbers_for_externals(
    session: AsyncSession, *, channel: str, external_ids: Sequence[str]
) -> dict[str, str]:
    """The case numbers these messages already have, as cases or as pending intake, in one read."""
    return (await known_numbers(session, channel=channel, keys=[], external_ids=external_ids))[1]


async def add_pending(session: AsyncSession, *, rows: Sequence[Mapping[str, Any]]) -> set[str]:
    """Insert pending intake rows; the external ids inserted (a concurrent delivery may have stored one first)."""
    if not rows:
        return set()
    # executemany on the table: compiled once and cached (a multi-row VALUES is compiled anew for every batch)
    table = PendingIntake.__table__
    stmt = _insert(session)(table).on_conflict_do_nothing().returning(table.c.external_id)
    return set((await session.execute(stmt, list(rows))).scalars())


async def add_numbered_receipts(
    session: AsyncSession, *, channel: str, receipts: Mapping[str, tuple[int | None, str | None]], now: dt.datetime
) -> None:
    """Record handled pushes (key → case id, case number; both None for an event) in one statement."""
    if not receipts:
        return
    rows = [{"channel": channel, "dedupe_key": key, "case_id": case_id, "case_no": number, "received_at": now}
            for key, (case_id, number) in receipts.items()]
    await session.execute(_insert(session)(InboundReceipt.__table__).on_conflict_do_nothing(), rows)


async def take_pending(
    session: AsyncSession, *, limit: int, max_attempts: int, ids: Sequence[int] | None = None
) -> list[PendingIntake]:
    """The oldest pending rows (or these), locked for this transaction (rows another drain holds are skipped)."""
    stmt = select(PendingIntake).where(PendingIntake.attempts < max_attempts).order_by(PendingIntake.id).limit(limit)
    if ids is not None:
        stmt = stmt.where(PendingIntake.id.in_(list(ids)))
    if session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update(skip_locked=True)
    return list((await session.execute(stmt)).scalars())


async def delete_pending(session: AsyncSession, *, ids: Sequence[int]) -> None:
    """Forget pending rows whose cases exist now."""
    await session.execute(delete(PendingIntake).where(PendingIntake.id.in_(list(ids))))


async def oldest_pending(session: AsyncSession, *, max_attempts: int | None = None) -> dt.datetime | None:
    """When the oldest pending message was accepted (None when nothing waits; given up rows left out)."""
    stmt = select(func.min(PendingIntake.received_at))
    if max_attempts is not None:
        stmt = stmt.where(PendingIntake.attempts < max_attempts)
    return await session.scalar(stmt)


async def pending_ids(session: AsyncSession, *, limit: int, max_attempts: int) -> list[int]:
    """The ids of the oldest pending rows still tried."""
    stmt = select(PendingIntake.id).where(PendingIntake.attempts < max_attempts).order_by(PendingIntake.id)
    return list((await session.execute(stmt.limit(limit))).scalars())


async def count_attempt(session: AsyncSession, *, row_id: int) -> PendingIntake | None:
    """One more failed attempt at a pending row's case; the row (None if it is gone)."""
    row = await session.get(PendingIntake, row_id, with_for_update=True)
    if row is not None:
        row.attempts += 1
        await session.flush()
    return row
