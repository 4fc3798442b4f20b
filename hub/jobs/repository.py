"""All SQL of the jobs: the outbox's bookkeeping, the sweep's picks and the dead-letter list."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, or_, select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from hub.cases.models import Reply
from hub.enums import DeliveryStatus
from hub.jobs.models import DeadLetter, ReplyDelivery


async def lock_reply(session: AsyncSession, *, reply_id: int) -> Reply | None:
    """A reply, locked for the rest of the transaction."""
    stmt = select(Reply).where(Reply.id == reply_id).with_for_update().execution_options(populate_existing=True)
    return (await session.execute(stmt)).scalar_one_or_none()


async def delivery_for_update(session: AsyncSession, *, reply_id: int) -> ReplyDelivery:
    """The reply's delivery row (created on first use), locked for the rest of the transaction."""
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    await session.execute(insert(ReplyDelivery).values(reply_id=reply_id).on_conflict_do_nothing())
    stmt = (
        select(ReplyDelivery)
        .where(ReplyDelivery.reply_id == reply_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return (await session.execute(stmt)).scalar_one()


async def due_reply_ids(
    session: AsyncSession, *, created_before: dt.datetime, retry_before: dt.datetime, stale_before: dt.datetime,
    limit: int,
) -> list[int]:
    """PENDING replies nobody is working on: never enqueued, retry overdue, or a send abandoned mid-way."""
    stmt = (
        select(Reply.id)
        .outerjoin(ReplyDelivery, ReplyDelivery.reply_id == Reply.id)
        .where(
            Reply.delivery_status == DeliveryStatus.PENDING,
            Reply.created_at <= created_before,
            or_(ReplyDelivery.in_flight_since.is_(None), ReplyDelivery.in_flight_since <= stale_before),
            or_(ReplyDelivery.next_attempt_at.is_(None), ReplyDelivery.next_attempt_at <= retry_before),
            or_(ReplyDelivery.enqueued_at.is_(None), ReplyDelivery.enqueued_at <= retry_before),
        )
        .order_by(Reply.id)
        .limit(limit)
    )
    return list((await session.execute(stmt)).scalars())


async def mark_enqueued(session: AsyncSession, *, reply_ids: Sequence[int], now: dt.datetime) -> None:
    """Note when the sweep enqueued replies, so the next sweep leaves them to the queue for a while."""
    if not reply_ids:
        return
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    for reply_id in reply_ids:
        await session.execute(insert(ReplyDelivery).values(reply_id=reply_id).on_conflict_do_nothing())
    stmt = (
        update(ReplyDelivery)
        .where(ReplyDelivery.reply_id.in_(reply_ids))
        .values(enqueued_at=now)
        .execution_options(synchronize_session=False)
    )
    await session.execute(stmt)


async def pending_reply_ids(session: AsyncSession, *, reply_ids: Sequence[int] | None = None) -> list[int]:
    """PENDING replies (all, or those among the given ids)."""
    stmt = select(Reply.id).where(Reply.delivery_status == DeliveryStatus.PENDING).order_by(Reply.id)
    if reply_ids is not None:
        stmt = stmt.where(Reply.id.in_(list(reply_ids)))
    return list((await session.execute(stmt)).scalars())


def add_dead_letter(
    session: AsyncSession, *, job: str, status: str, error: str, now: dt.datetime, channel: str | None = None,
    reply_id: int | None = None, ref: str | None = None, attempts: int = 0,
) -> DeadLetter:
    """Record a job that gave up (flushed with the transaction)."""
    letter = DeadLetter(job=job, channel=channel, reply_id=reply_id, ref=(ref or None) and ref[:128],
                        status=status, error=error[:300], attempts=attempts, created_at=now)
    session.add(letter)
    return letter


async def dead_letter_counts(session: AsyncSession) -> dict[str | None, int]:
    """Unresolved dead letters per channel."""
    stmt = select(DeadLetter.channel, func.count()).where(DeadLetter.resolved_at.is_(None)).group_by(DeadLetter.channel)
    return {channel: int(count) for channel, count in (await session.execute(stmt)).all()}


async def newest_dead_letters(session: AsyncSession, *, channel: str, limit: int) -> list[DeadLetter]:
    """A channel's newest unresolved dead letters."""
    stmt = (
        select(DeadLetter)
        .where(DeadLetter.channel == channel, DeadLetter.resolved_at.is_(None))
        .order_by(DeadLetter.created_at.desc(), DeadLetter.id.desc())
        .limit(limit)
    )
    return list((await session.execute(stmt)).scalars())


async def dead_letters_for_reply(session: AsyncSession, *, reply_id: int) -> list[DeadLetter]:
    """The dead letters of one reply, oldest first."""
    stmt = select(DeadLetter).where(DeadLetter.reply_id == reply_id).order_by(DeadLetter.id)
    return list((await session.execute(stmt)).scalars())


async def reply_status_counts(session: AsyncSession) -> dict[tuple[str, str], tuple[int, dt.datetime | None]]:
    """Per (channel, delivery status): how many replies, and the oldest one's creation time."""
    stmt = select(Reply.channel, Reply.delivery_status, func.count(), func.min(Reply.created_at)).group_by(
        Reply.channel, Reply.delivery_status
    )
    rows: Any = (await session.execute(stmt)).all()
    result: dict[tuple[str, str], tuple[int, dt.datetime | None]] = {}
    for channel, status, count, oldest in rows:
        if oldest is not None and oldest.tzinfo is None:
            oldest = oldest.replace(tzinfo=dt.UTC)  # aggregates bypass the column type on SQLite
        result[(str(channel), str(status))] = (int(count), oldest)
    return result


async def try_advisory_lock(connection: AsyncConnection, *, key: int) -> bool:
    """Take a PostgreSQL session-level advisory lock without waiting."""
    return bool((await connection.execute(text("SELECT pg_try_advisory_lock(:key)"), {"key": key})).scalar())


async def advisory_unlock(connection: AsyncConnection, *, key: int) -> None:
    """Release a session-level advisory lock."""
    await connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": key})


async def ping(connection: AsyncConnection) -> None:
    """Fail if the connection is gone."""
    await connection.execute(text("SELECT 1"))


async def resolve_dead_letters(session: AsyncSession, *, reply_id: int, now: dt.datetime) -> None:
    """Mark a reply's open dead letters resolved."""
    stmt = (
        update(DeadLetter)
        .where(DeadLetter.reply_id == reply_id, DeadLetter.resolved_at.is_(None))
        .values(resolved_at=now)
        .execution_options(synchronize_session=False)
    )
    await session.execute(stmt)
