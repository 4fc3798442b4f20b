"""The reply outbox: deliver a PENDING reply once, retry what can be retried, never lose or repeat an answer.

A send is claimed first (``in_flight_since`` committed before the channel is called), so two workers never send
the same reply at once and a worker that died mid-send is noticed. Channels whose reply API deduplicates on our
idempotency key (hotline, website) are simply resent with the same key; on the others (WeChat, Weibo) an
outcome that may have reached the citizen is never resent blindly: the reply is marked FAILED with an
"outcome unknown" dead letter and a trail note, so the centre checks the channel before answering again.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from auth.permission import Operation
from auth.principal import SYSTEM
from connectors.base import ReplyReceipt
from connectors.errors import ChannelError, Permanent, Transient, WindowClosed
from hub.cases.notices import notices_for, publish
from hub.cases.outbox import note_new_reply
from hub.cases.repository import get as get_case
from hub.cases.service import add_note
from hub.clock import utcnow
from hub.context import ServiceContext
from hub.db import transaction
from hub.enums import Channel, DeliveryStatus
from hub.errors import IllegalTransition, NotFound, SettingsError
from hub.events import EventNotice
from hub.ingest.sync import backoff_delay
from hub.jobs import repository
from hub.jobs.context import JobContext
from hub.permissions import require

log = logging.getLogger("hub.outbox")

IDEMPOTENT_CHANNELS = frozenset({Channel.HOTLINE, Channel.WEBSITE})  # their reply APIs dedupe our key
UNKNOWN_OUTCOME = "outcome unknown, the answer may have reached the citizen: check the channel before resending"


@dataclass(frozen=True)
class DeliveryOutcome:
    """What one attempt did: DELIVERED, RETRY or BUSY (look again in ``retry_in`` s), FAILED, WINDOW_CLOSED, SKIPPED."""

    reply_id: int
    status: str
    detail: str | None = None
    retry_in: float | None = None


@dataclass(frozen=True)
class _Claim:
    reply_id: int
    case_id: int
    channel: Channel
    content: str
    key: str
    reply_to: Mapping[str, str]


async def deliver_reply(jc: JobContext, *, reply_id: int) -> DeliveryOutcome:
    """Send one reply through its channel's connector with its idempotency key and record the outcome."""
    claim = await _claim(jc, reply_id)
    if isinstance(claim, DeliveryOutcome):
        return claim
    receipt: ReplyReceipt | None = None
    error: ChannelError | None = None
    try:
        connector = jc.connectors.get(claim.channel.value)
        receipt = await asyncio.wait_for(
            connector.send_reply(reply_to=claim.reply_to, content=claim.content, idempotency_key=claim.key),
            timeout=jc.jobs.reply_send_timeout_seconds,
        )
        if not receipt.delivered:
            kind = Transient if receipt.retryable else Permanent
            error = kind(receipt.error or "the channel did not accept the reply")
    except TimeoutError:
        error = Transient("the send timed out", maybe_delivered=True)
    except ChannelError as exc:
        error = exc
    except SettingsError as exc:  # nothing was sent: retried, so a fixed deployment still delivers it
        error = Transient(exc.message)
    except Exception as exc:  # a bug must not leave the claim dangling; its message may quote data, so not kept
        log.exception("reply %d: the send crashed", reply_id)
        error = Transient(f"unexpected {type(exc).__name__} while sending", maybe_delivered=True)
    return await _record(jc, claim, receipt, error)


async def _claim(jc: JobContext, reply_id: int) -> _Claim | DeliveryOutcome:
    notices: list[EventNotice] = []
    async with transaction(jc.sessions) as session:
        reply = await repository.lock_reply(session, reply_id=reply_id)
        if reply is None:
            return DeliveryOutcome(reply_id, "SKIPPED", "no such reply")
        if reply.delivery_status is not DeliveryStatus.PENDING:
            return DeliveryOutcome(reply_id, "SKIPPED", f"already {reply.delivery_status.value}")
        delivery = await repository.delivery_for_update(session, reply_id=reply_id)
        now = utcnow()
        lease = dt.timedelta(seconds=jc.jobs.reply_send_lease_seconds)
        if delivery.in_flight_since is not None and now - delivery.in_flight_since < lease:
            # look again when that send's lease ends: it may have died (its message then comes back too)
            wait = (delivery.in_flight_since + lease - now).total_seconds() + 1.0
            return DeliveryOutcome(reply_id, "BUSY", "another worker is sending it", retry_in=wait)
        outcome: _Claim | DeliveryOutcome
        if delivery.in_flight_since is not None and reply.channel not in IDEMPOTENT_CHANNELS:
            error = f"a worker stopped mid-send; {UNKNOWN_OUTCOME}"
            delivery.in_flight_since = None
            await _give_up(jc, session, reply_id, DeliveryStatus.FAILED, error, "UNKNOWN_OUTCOME")
            notices = await _notices(jc, session)
            outcome = DeliveryOutcome(reply_id, "FAILED", error)
        else:  # never tried, or abandoned on a channel that deduplicates a resend with the same key
            outcome = await _claimed(session, reply_id, now)
    await _publish(jc, notices)
    return outcome


async def _claimed(session: AsyncSession, reply_id: int, now: dt.datetime) -> _Claim:
    reply = await repository.lock_reply(session, reply_id=reply_id)
    delivery = await repository.delivery_for_update(session, reply_id=reply_id)
    assert reply is not None
    case = await get_case(session, case_id=reply.case_id)
    assert case is not None
    delivery.in_flight_since = now
    reply.attempts = (reply.attempts or 0) + 1
    reply_to = {str(key): str(value) for key, value in (case.reply_to or {}).items()}
    return _Claim(reply.id, reply.case_id, reply.channel, reply.content, reply.idempotency_key, reply_to)


async def _record(
    jc: JobContext, claim: _Claim, receipt: ReplyReceipt | None, error: ChannelError | None
) -> DeliveryOutcome:
    async with transaction(jc.sessions) as session:
        reply = await repository.lock_reply(session, reply_id=claim.reply_id)
        delivery = await repository.delivery_for_update(session, reply_id=claim.reply_id)
        assert reply is not None
        now = utcnow()
        delivery.in_flight_since = None
        if error is None and receipt is not None:
            reply.delivery_status, reply.delivered_at, reply.last_error = DeliveryStatus.DELIVERED, now, None
            delivery.next_attempt_at = None
            delivery.channel_ref = (receipt.channel_ref or None) and receipt.channel_ref[:128]
            log.info("reply %d delivered on %s", claim.reply_id, claim.channel.value)
            return DeliveryOutcome(claim.reply_id, "DELIVERED")
        assert error is not None
        text = f"{type(error).__name__}: {error.message}"
        reply.last_error = text[:300]
        if isinstance(error, WindowClosed):
            status, reason = DeliveryStatus.WINDOW_CLOSED, "WINDOW_CLOSED"
        elif error.maybe_delivered and claim.channel not in IDEMPOTENT_CHANNELS:
            status, reason, text = DeliveryStatus.FAILED, "UNKNOWN_OUTCOME", f"{UNKNOWN_OUTCOME} ({text})"
        elif error.retryable and reply.attempts < jc.jobs.reply_max_attempts:
            delay = backoff_delay(reply.attempts, base=jc.jobs.reply_retry_base_seconds,
                                  cap=jc.jobs.reply_retry_cap_seconds, retry_after=error.retry_after)
            delivery.next_attempt_at = now + dt.timedelta(seconds=delay)
            log.info("reply %d: %s; retry in %.1f s", claim.reply_id, text, delay)
            return DeliveryOutcome(claim.reply_id, "RETRY", text, retry_in=delay)
        else:
            status, reason = DeliveryStatus.FAILED, "FAILED" if not error.retryable else "RETRIES_EXHAUSTED"
        await _give_up(jc, session, claim.reply_id, status, text, reason)
        notices = await _notices(jc, session)
    await _publish(jc, notices)
    return DeliveryOutcome(claim.reply_id, status.value, text)


async def _give_up(
    jc: JobContext, session: AsyncSession, reply_id: int, status: DeliveryStatus, error: str, reason: str
) -> None:
    """Final: the reply's status, a dead letter the centre sees, and a note on the case's trail."""
    reply = await repository.lock_reply(session, reply_id=reply_id)
    assert reply is not None
    now = utcnow()
    reply.delivery_status, reply.last_error = status, error[:300]
    repository.add_dead_letter(session, job="deliver_reply", channel=reply.channel.value, reply_id=reply.id,
                               ref=str(reply.id), status=reason, error=error, attempts=reply.attempts, now=now)
    if status is DeliveryStatus.WINDOW_CLOSED:
        note = (f"答复 #{reply.id} 未能送达：微信48小时客服消息窗口已关闭，请通过电话等其他方式告知市民。")
    else:
        note = f"答复 #{reply.id} 未能经{reply.channel.value}送达（{reason}）：{error[:200]}"
    await add_note(ServiceContext(session, SYSTEM, jc.settings), case_id=reply.case_id, note=note)
    log.warning("reply %d not delivered on %s: %s", reply.id, reply.channel.value, reason)


async def _notices(jc: JobContext, session: AsyncSession) -> list[EventNotice]:
    return await notices_for(session) if jc.bus is not None else []


async def _publish(jc: JobContext, notices: list[EventNotice]) -> None:
    if jc.bus is not None and notices:
        await publish(jc.bus, notices)


async def sweep(
    sessions: async_sessionmaker[AsyncSession], *, enqueue: Callable[[int], None], age_seconds: float,
    lease_seconds: float, now: dt.datetime | None = None, limit: int = 500,
) -> list[int]:
    """Enqueue PENDING replies nobody is working on (older than ``age_seconds``); returns their ids.

    Covers a process that died between commit and enqueue, a delayed retry lost with its broker, and a send
    abandoned mid-way (re-claimed by deliver_reply, which knows what is safe for the channel).
    """
    moment = now or utcnow()
    horizon = moment - dt.timedelta(seconds=age_seconds)
    async with transaction(sessions) as session:
        ids = await repository.due_reply_ids(session, created_before=horizon, retry_before=horizon,
                                             stale_before=moment - dt.timedelta(seconds=lease_seconds), limit=limit)
        await repository.mark_enqueued(session, reply_ids=ids, now=moment)
    for reply_id in ids:
        enqueue(reply_id)
    return ids


async def requeue_reply(ctx: ServiceContext, *, reply_id: int) -> int:
    """Make a FAILED or WINDOW_CLOSED reply PENDING again (an operator's decision); enqueue it after the commit.

    For an "outcome unknown" failure the operator has checked the channel first; a WeChat window reopens when the
    citizen writes again. Resolves the reply's dead letters and notes the resend on the case's trail.
    """
    require(ctx.actor, Operation.REPLY_RESEND)
    reply = await repository.lock_reply(ctx.session, reply_id=reply_id)
    if reply is None:
        raise NotFound(f"reply {reply_id} not found")
    if reply.delivery_status not in (DeliveryStatus.FAILED, DeliveryStatus.WINDOW_CLOSED):
        raise IllegalTransition(f"reply {reply_id} is {reply.delivery_status.value}: only failed replies are resent")
    delivery = await repository.delivery_for_update(ctx.session, reply_id=reply_id)
    delivery.in_flight_since = delivery.next_attempt_at = delivery.enqueued_at = None
    reply.delivery_status, reply.attempts = DeliveryStatus.PENDING, 0
    await repository.resolve_dead_letters(ctx.session, reply_id=reply_id, now=utcnow())
    note = f"答复 #{reply.id} 由 {ctx.actor.subject} 安排重新发送"
    await add_note(ctx.as_actor(SYSTEM), case_id=reply.case_id, note=note)
    note_new_reply(ctx.session, reply.id)
    return reply.id
