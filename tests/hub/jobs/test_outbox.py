"""The reply outbox against the fake channels over real HTTP: delivered once, retried, never silently lost."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
from channel_kit import FAKE_TYPES, answer, cases, count, fast_jobs, job_context, post, reply_row, wire
from helpers import AUDITOR

from connectors.fakes import FakeChannel, FakeWeChat, FaultKind, random_openid
from connectors.wechat import parse_message, to_draft
from hub.cases.models import Case, Reply
from hub.clock import utcnow
from hub.enums import DeliveryStatus
from hub.errors import IllegalTransition, NotAllowed
from hub.ingest.reads import connector_health
from hub.ingest.service import receive_push
from hub.ingest.sync import sync_channel
from hub.jobs.context import JobContext
from hub.jobs.models import DeadLetter, ReplyDelivery
from hub.jobs.outbox import deliver_reply, requeue_reply, sweep
from hub.trail.models import CaseEvent

CHANNELS = ["hotline", "website", "weibo", "wechat"]


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=5) as client:
        yield client


@pytest.fixture(params=CHANNELS)
def fake(request: pytest.FixtureRequest) -> Iterator[FakeChannel]:
    with FAKE_TYPES[request.param]() as running:
        yield running


@pytest.fixture
def wechat() -> Iterator[FakeWeChat]:
    with FakeWeChat() as running:
        yield running


async def new_case(db: Any, fake: FakeChannel, settings: Any, **extra: Any) -> int:
    """A citizen's message arrives through the channel's real path; the case id."""
    if isinstance(fake, FakeWeChat):
        openid = extra.pop("openid", random_openid())
        xml = fake.post_message("小区电梯经常故障，请相关部门检查。", openid=openid, **extra)
        message = parse_message(xml)
        async with db.ctx() as ctx:
            result = await receive_push(ctx, channel="wechat", draft=to_draft(message), dedupe_key=message.msg_id)
        assert result.case is not None
        return result.case.id
    post(fake, "小区电梯经常故障，请相关部门检查。", **extra)
    done = await sync_channel(sessions=db.sessions, settings=settings, channel=fake.name, job_settings=fast_jobs())
    assert done.created == 1
    return (await cases(db))[-1].id


def in_wire_format(fake: FakeChannel, reply: Reply) -> None:
    (sent,) = fake.replies
    if fake.name == "hotline":
        assert sent["replyContent"] == reply.content and sent["requestId"] == reply.idempotency_key
    elif fake.name == "website":
        assert sent["content"] == reply.content and sent["requestId"] == reply.idempotency_key
    elif fake.name == "weibo":
        assert sent["endpoint"] == "/2/comments/create.json" and sent["comment"] == reply.content
    else:
        assert sent["msgtype"] == "text" and sent["text"] == {"content": reply.content}


async def test_the_answer_reaches_the_channel_once(db: Any, fake: FakeChannel, http: httpx.AsyncClient) -> None:
    settings = wire(db.settings, fake)
    reply_id = await answer(db, await new_case(db, fake, settings))
    jc = job_context(db, settings, http)
    outcome = await deliver_reply(jc, reply_id=reply_id)
    repeat = await deliver_reply(jc, reply_id=reply_id)
    reply = await reply_row(db, reply_id)
    assert outcome.status == "DELIVERED" and repeat.status == "SKIPPED" and repeat.detail == "already DELIVERED"
    assert reply.delivery_status is DeliveryStatus.DELIVERED and reply.delivered_at and reply.attempts == 1
    in_wire_format(fake, reply)


async def _until_final(jc: JobContext, reply_id: int, limit: int = 10) -> list[str]:
    statuses = []
    for _attempt in range(limit):
        outcome = await deliver_reply(jc, reply_id=reply_id)
        statuses.append(outcome.status)
        if outcome.status != "RETRY":
            break
    return statuses


@pytest.mark.parametrize(("channel", "fault"), [("hotline", FaultKind.SERVER_ERROR), ("website", FaultKind.GARBAGE),
                                                ("wechat", FaultKind.RATE_LIMIT_CODE)])
async def test_a_failed_delivery_is_retried_and_delivered_once(db: Any, http: httpx.AsyncClient, channel: str,
                                                               fault: FaultKind) -> None:
    with FAKE_TYPES[channel]() as fake:
        settings = wire(db.settings, fake)
        reply_id = await answer(db, await new_case(db, fake, settings))
        write_path = {"hotline": "/api/workorders/", "website": "/v1/threads/answer",
                      "wechat": "/cgi-bin/message/custom/send"}[channel]
        fake.inject(fault, 2, path=write_path)
        statuses = await _until_final(job_context(db, settings, http), reply_id)
        assert statuses == ["RETRY", "RETRY", "DELIVERED"]
        reply = await reply_row(db, reply_id)
        assert reply.attempts == 3 and reply.last_error is None and len(fake.replies) == 1


async def test_retries_run_out_into_a_dead_letter(db: Any, http: httpx.AsyncClient) -> None:
    with FAKE_TYPES["hotline"]() as fake:
        settings = wire(db.settings, fake)
        reply_id = await answer(db, await new_case(db, fake, settings))
        fake.inject(FaultKind.SERVER_ERROR, 10, path="/api/workorders/")
        statuses = await _until_final(job_context(db, settings, http, fast_jobs(reply_max_attempts=3)), reply_id)
    assert statuses == ["RETRY", "RETRY", "FAILED"] and fake.replies == []
    reply = await reply_row(db, reply_id)
    assert reply.delivery_status is DeliveryStatus.FAILED and "HTTP 500" in (reply.last_error or "")
    assert await count(db, DeadLetter, DeadLetter.reply_id == reply_id,
                       DeadLetter.status == "RETRIES_EXHAUSTED") == 1


async def test_window_closed_is_recorded_and_visible(db: Any, wechat: FakeWeChat,
                                                     http: httpx.AsyncClient) -> None:
    settings = wire(db.settings, wechat)
    old = dt.datetime.now(dt.UTC) - dt.timedelta(hours=49)
    case_id = await new_case(db, wechat, settings, create_time=old)
    reply_id = await answer(db, case_id)
    outcome = await deliver_reply(job_context(db, settings, http), reply_id=reply_id)
    assert outcome.status == "WINDOW_CLOSED" and wechat.replies == []
    reply = await reply_row(db, reply_id)
    assert reply.delivery_status is DeliveryStatus.WINDOW_CLOSED and "45015" in (reply.last_error or "")
    notes = await count(db, CaseEvent, CaseEvent.case_id == case_id, CaseEvent.action == "NOTE_ADDED",
                        CaseEvent.note.contains("48小时"))
    assert notes == 1
    async with db.ctx(AUDITOR) as ctx:
        health = {row.name: row for row in await connector_health(ctx)}["wechat"]
    assert health.window_closed_replies == 1 and health.dead_letter_count == 1
    assert health.dead_letters[0].status == "WINDOW_CLOSED" and "WindowClosed" in health.dead_letters[0].error


async def test_a_maybe_delivered_wechat_send_is_not_repeated(db: Any, wechat: FakeWeChat,
                                                             http: httpx.AsyncClient) -> None:
    settings = wire(db.settings, wechat)
    reply_id = await answer(db, await new_case(db, wechat, settings))
    wechat.inject(FaultKind.SERVER_ERROR, 1, path="/cgi-bin/message/custom/send")
    jc = job_context(db, settings, http)
    outcome = await deliver_reply(jc, reply_id=reply_id)
    assert outcome.status == "FAILED" and "outcome unknown" in (outcome.detail or "")
    assert (await deliver_reply(jc, reply_id=reply_id)).status == "SKIPPED" and wechat.replies == []
    assert await count(db, DeadLetter, DeadLetter.status == "UNKNOWN_OUTCOME") == 1


async def _sent_then_crashed(db: Any, jc: JobContext, reply_id: int) -> None:
    """A worker claimed the reply, the channel got it, and the worker died before recording that."""
    reply = await reply_row(db, reply_id)
    async with db.sessions() as session:
        case = await session.get(Case, reply.case_id)
        assert case is not None
        reply_to = dict(case.reply_to)
    await jc.connectors.get(reply.channel.value).send_reply(reply_to=reply_to, content=reply.content,
                                                            idempotency_key=reply.idempotency_key)
    async with db.ctx() as ctx:
        ctx.session.add(ReplyDelivery(reply_id=reply_id, in_flight_since=utcnow() - dt.timedelta(minutes=10)))


@pytest.mark.parametrize("channel", ["hotline", "wechat"])
async def test_a_send_abandoned_mid_way(db: Any, http: httpx.AsyncClient, channel: str) -> None:
    with FAKE_TYPES[channel]() as fake:
        settings = wire(db.settings, fake)
        reply_id = await answer(db, await new_case(db, fake, settings))
        jc = job_context(db, settings, http)
        await _sent_then_crashed(db, jc, reply_id)
        outcome = await deliver_reply(jc, reply_id=reply_id)
        assert len(fake.replies) == 1  # the hotline deduplicates the resend; WeChat is not asked again
    expected = "DELIVERED" if channel == "hotline" else "FAILED"
    assert outcome.status == expected


async def test_a_send_in_flight_elsewhere_is_left_alone(db: Any, http: httpx.AsyncClient) -> None:
    with FAKE_TYPES["website"]() as fake:
        settings = wire(db.settings, fake)
        reply_id = await answer(db, await new_case(db, fake, settings))
        async with db.ctx() as ctx:
            ctx.session.add(ReplyDelivery(reply_id=reply_id, in_flight_since=utcnow()))
        outcome = await deliver_reply(job_context(db, settings, http), reply_id=reply_id)
    assert outcome.status == "BUSY" and outcome.retry_in and 100 < outcome.retry_in <= 121 and fake.replies == []


async def test_the_sweep_enqueues_what_nobody_works_on(db: Any, http: httpx.AsyncClient) -> None:
    with FAKE_TYPES["hotline"]() as fake:
        settings = wire(db.settings, fake)
        old, fresh, busy, done = [await answer(db, await new_case(db, fake, settings)) for _ in range(4)]
        await deliver_reply(job_context(db, settings, http), reply_id=done)
    async with db.ctx() as ctx:
        ctx.session.add(ReplyDelivery(reply_id=busy, in_flight_since=utcnow()))
        for reply_id in (old, busy, done):
            reply = await ctx.session.get(Reply, reply_id)
            assert reply is not None
            reply.created_at = utcnow() - dt.timedelta(minutes=5)
    queued: list[int] = []
    assert await sweep(db.sessions, enqueue=queued.append, age_seconds=60, lease_seconds=120) == [old]
    assert queued == [old] and fresh != old
    assert await sweep(db.sessions, enqueue=queued.append, age_seconds=60, lease_seconds=120) == []
    later = utcnow() + dt.timedelta(minutes=5)
    assert await sweep(db.sessions, enqueue=queued.append, age_seconds=60, lease_seconds=120,
                       now=later) == [old, fresh, busy]


async def test_an_operator_resends_a_closed_window_reply_once_the_citizen_writes_again(
    db: Any, wechat: FakeWeChat, http: httpx.AsyncClient
) -> None:
    settings = wire(db.settings, wechat)
    openid = random_openid()
    case_id = await new_case(db, wechat, settings, openid=openid,
                             create_time=dt.datetime.now(dt.UTC) - dt.timedelta(hours=49))
    reply_id = await answer(db, case_id)
    jc = job_context(db, settings, http)
    assert (await deliver_reply(jc, reply_id=reply_id)).status == "WINDOW_CLOSED"
    with pytest.raises(NotAllowed):
        async with db.ctx(AUDITOR) as ctx:
            await requeue_reply(ctx, reply_id=reply_id)
    wechat.note_interaction(openid)  # the citizen wrote again: the 48-hour window is open
    async with db.ctx() as ctx:
        await requeue_reply(ctx, reply_id=reply_id)
    assert (await deliver_reply(jc, reply_id=reply_id)).status == "DELIVERED" and len(wechat.replies) == 1
    async with db.ctx(AUDITOR) as ctx:
        health = {row.name: row for row in await connector_health(ctx)}["wechat"]
    assert health.dead_letter_count == 0 and health.delivered_replies == 1
    with pytest.raises(IllegalTransition):
        async with db.ctx() as ctx:
            await requeue_reply(ctx, reply_id=reply_id)
