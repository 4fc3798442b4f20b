"""All SQL of ingest: channel cursors and health, push receipts, rate-limit pauses."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from hub.ingest.models import ConnectorState
from hub.ingest.records import ConnectorPause, InboundReceipt
from hub.sql import one_of


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
    stmt = _insert(session)(ConnectorState).values(
        channel=channel, error_count=0, ingested_count=created, last_success_at=now
    )
    stmt = stmt.on_conflict_do_update(
        index_elements=[ConnectorState.channel],
        set_={"last_success_at": stmt.excluded.last_success_at,
              "ingested_count": ConnectorState.ingested_count + stmt.excluded.ingested_count},
    )
    await session.execute(stmt)
