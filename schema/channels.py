"""The `connectors` field: per channel its cursor, health, lag, errors, dead letters and reply backlog."""

from __future__ import annotations

import datetime as dt

import strawberry

from hub.ingest import reads as ingest_reads
from hub.ingest.reads import ConnectorHealth
from schema.context import HubContext
from schema.errors import guarded
from schema.permissions import principal_of


@strawberry.type
class DeadLetter:
    """A job that gave up, with its error."""

    id: strawberry.ID
    job: str
    status: str
    error: str
    attempts: int
    created_at: dt.datetime
    reply_id: strawberry.ID | None
    ref: str | None


@strawberry.type
class ConnectorStatus:
    """One channel's connector."""

    channel: str
    name: str
    pulls: bool
    configured: bool
    cursor: str | None
    last_success_at: dt.datetime | None
    lag_seconds: float | None
    error_count: int
    last_error: str | None
    last_error_at: dt.datetime | None
    failing: bool
    ingested_count: int
    paused_until: dt.datetime | None
    dead_letter_count: int
    dead_letters: list[DeadLetter]
    pending_replies: int
    oldest_pending_reply_at: dt.datetime | None
    delivered_replies: int
    failed_replies: int
    window_closed_replies: int

    @classmethod
    def of(cls, h: ConnectorHealth) -> ConnectorStatus:
        """Map the read model."""
        letters = [
            DeadLetter(
                id=strawberry.ID(str(d.id)),
                job=d.job,
                status=d.status,
                error=d.error,
                attempts=d.attempts,
                created_at=d.created_at,
                reply_id=strawberry.ID(str(d.reply_id)) if d.reply_id else None,
                ref=d.ref,
            )
            for d in h.dead_letters
        ]
        return cls(
            channel=h.channel,
            name=h.name,
            pulls=h.pulls,
            configured=h.configured,
            cursor=h.cursor,
            last_success_at=h.last_success_at,
            lag_seconds=h.lag_seconds,
            error_count=h.error_count,
            last_error=h.last_error,
            last_error_at=h.last_error_at,
            failing=h.failing,
            ingested_count=h.ingested_count,
            paused_until=h.paused_until,
            dead_letter_count=h.dead_letter_count,
            dead_letters=letters,
            pending_replies=h.pending_replies,
            oldest_pending_reply_at=h.oldest_pending_reply_at,
            delivered_replies=h.delivered_replies,
            failed_replies=h.failed_replies,
            window_closed_replies=h.window_closed_replies,
        )


@strawberry.type
class ChannelsQuery:
    """Connector health."""

    @strawberry.field
    async def connectors(self, info: strawberry.Info[HubContext, None]) -> list[ConnectorStatus]:
        """Every channel's connector: cursor, last success, lag, errors, dead letters, reply backlog."""
        ctx = info.context
        service = ctx.service(principal_of(info))
        async with ctx.db():
            rows = await guarded(ingest_reads.connector_health(service))
        return [ConnectorStatus.of(h) for h in rows]
