"""Connector health for the ``connectors`` query: per channel its cursor, last success, lag, errors, dead letters
and the state of its outgoing replies."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from auth.permission import Operation
from connectors.registry import channel_value, names
from hub.clock import utcnow
from hub.context import ServiceContext
from hub.enums import DeliveryStatus
from hub.ingest import repository
from hub.ingest.config import PULL_CHANNELS, is_configured
from hub.jobs import repository as jobs_repository
from hub.permissions import require

NEWEST_DEAD_LETTERS = 5


@dataclass(frozen=True)
class DeadLetterView:
    """A job that gave up, with its error (never personal data)."""

    id: int
    job: str
    status: str
    error: str
    attempts: int
    created_at: dt.datetime
    reply_id: int | None
    ref: str | None


@dataclass(frozen=True)
class ConnectorHealth:
    """Where one channel stands."""

    channel: str  # a Channel value (HOTLINE …)
    name: str  # the CLI/URL name (hotline …)
    pulls: bool  # polled by the scheduler (WeChat only pushes)
    configured: bool
    cursor: str | None
    last_success_at: dt.datetime | None
    lag_seconds: float | None  # now − last success
    error_count: int
    last_error: str | None
    last_error_at: dt.datetime | None
    failing: bool  # the last thing that happened was an error
    ingested_count: int
    paused_until: dt.datetime | None  # a rate limit asked us to wait
    dead_letter_count: int
    dead_letters: list[DeadLetterView]
    pending_replies: int
    oldest_pending_reply_at: dt.datetime | None
    delivered_replies: int
    failed_replies: int
    window_closed_replies: int


async def connector_health(ctx: ServiceContext) -> list[ConnectorHealth]:
    """Every channel's health, in registry order (needs connector:read)."""
    require(ctx.actor, Operation.CONNECTOR_READ)
    session = ctx.session
    now = utcnow()
    states = {state.channel: state for state in await repository.all_states(session)}
    pauses = {pause.channel: pause.until for pause in await repository.all_pauses(session)}
    letters = await jobs_repository.dead_letter_counts(session)
    replies = await jobs_repository.reply_status_counts(session)
    result = []
    for name in names():
        value = channel_value(name)
        state = states.get(value)
        newest = await jobs_repository.newest_dead_letters(session, channel=value, limit=NEWEST_DEAD_LETTERS)
        last_success = state.last_success_at if state else None
        last_error_at = state.last_error_at if state else None
        pending, oldest = replies.get((value, DeliveryStatus.PENDING.value), (0, None))
        paused = pauses.get(value)
        result.append(ConnectorHealth(
            channel=value,
            name=name,
            pulls=name in PULL_CHANNELS,
            configured=is_configured(ctx.settings, name),
            cursor=state.cursor if state else None,
            last_success_at=last_success,
            lag_seconds=(now - last_success).total_seconds() if last_success else None,
            error_count=state.error_count if state else 0,
            last_error=state.last_error if state else None,
            last_error_at=last_error_at,
            failing=last_error_at is not None and (last_success is None or last_error_at > last_success),
            ingested_count=state.ingested_count if state else 0,
            paused_until=paused if paused is not None and paused > now else None,
            dead_letter_count=letters.get(value, 0),
            dead_letters=[DeadLetterView(d.id, d.job, d.status, d.error, d.attempts, d.created_at, d.reply_id, d.ref)
                          for d in newest],
            pending_replies=pending,
            oldest_pending_reply_at=oldest,
            delivered_replies=replies.get((value, DeliveryStatus.DELIVERED.value), (0, None))[0],
            failed_replies=replies.get((value, DeliveryStatus.FAILED.value), (0, None))[0],
            window_closed_replies=replies.get((value, DeliveryStatus.WINDOW_CLOSED.value), (0, None))[0],
        ))
    return result
