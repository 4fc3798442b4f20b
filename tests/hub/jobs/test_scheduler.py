"""One scheduler leads at a time (Redis lock, PostgreSQL advisory lock, or a lock file beside SQLite)."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import uuid
from typing import Any

from channel_kit import cases, count, fast_jobs, wire
from helpers import draft
from sqlalchemy import update

from connectors.fakes import FakeHotline, FakeWeChat, FakeWeibo
from hub.cases.models import Case
from hub.clock import utcnow
from hub.ingest.pending import accept_pushes
from hub.ingest.push import PushItem
from hub.ingest.records import PendingIntake
from hub.ingest.service import PushResult
from hub.jobs.scheduler import AdvisoryLeaderLock, FileLeaderLock, RedisLeaderLock, Scheduler, leader_lock

REDIS_URL = os.environ.get("HUB_TEST_REDIS", "redis://127.0.0.1:6379/0")


async def _one_leader(first: Any, second: Any) -> None:
    assert await first.acquire() and await first.acquire()  # renewing keeps it
    assert not await second.acquire()
    await first.release()
    assert await second.acquire()
    await second.release()


async def test_redis_lock_has_one_holder_and_lapses() -> None:
    key = f"hubtest:leader:{uuid.uuid4().hex[:8]}"
    await _one_leader(RedisLeaderLock(REDIS_URL, ttl_seconds=5, key=key),
                      RedisLeaderLock(REDIS_URL, ttl_seconds=5, key=key))
    crashed = RedisLeaderLock(REDIS_URL, ttl_seconds=0.3, key=key)
    successor = RedisLeaderLock(REDIS_URL, ttl_seconds=5, key=key)
    assert await crashed.acquire() and not await successor.acquire()
    await asyncio.sleep(0.4)  # the holder died without releasing: its TTL runs out
    assert await successor.acquire()
    await successor.release()
    await crashed.release()


async def test_the_database_lock_fits_the_backend(db: Any) -> None:
    jobs = fast_jobs()
    first = leader_lock(db.settings, jobs, db.engine)
    if db.backend == "sqlite":
        assert isinstance(first, FileLeaderLock)
        path = db.settings.sqlite_path()
        second: Any = FileLeaderLock(path.with_name(path.name + ".scheduler.lock"))
    else:
        assert isinstance(first, AdvisoryLeaderLock)
        second = AdvisoryLeaderLock(db.engine)
    await _one_leader(first, second)
    assert isinstance(leader_lock(db.settings.model_copy(update={"redis_url": REDIS_URL}), jobs, db.engine),
                      RedisLeaderLock)


class _Held:
    async def acquire(self) -> bool:
        return True

    async def release(self) -> None:
        return None


async def test_a_tick_enqueues_each_configured_pull_channel_when_due(db: Any) -> None:
    with FakeHotline() as hotline, FakeWeibo() as weibo, FakeWeChat() as wechat:
        settings = wire(db.settings, hotline, weibo, wechat)
    synced: list[str] = []
    scheduler = Scheduler(settings=settings, jobs=fast_jobs(sync_interval_seconds=60), sessions=db.sessions,
                          lock=_Held(), enqueue_sync=synced.append, enqueue_reply=lambda _id: None)
    await scheduler.tick(now=1000.0)
    await scheduler.tick(now=1030.0)
    assert synced == ["hotline", "weibo"]  # WeChat pushes; the website is not configured
    await scheduler.tick(now=1061.0)
    assert synced == ["hotline", "weibo", "hotline", "weibo"]
    stop = asyncio.Event()
    stop.set()
    await scheduler.run(stop)  # returns at once and releases the lock


async def _pending(db: Any, key: str, *, minutes_ago: float) -> PushResult:
    async with db.ctx() as ctx:
        (accepted,) = await accept_pushes(ctx, channel="wechat", items=[
            PushItem(draft(channel="WECHAT", external_id=key, phone=None, account_id=f"o{key}"), key)])
        await ctx.session.execute(update(PendingIntake).where(PendingIntake.external_id == key)
                                  .values(received_at=utcnow() - dt.timedelta(minutes=minutes_ago)))
    assert isinstance(accepted, PushResult)
    return accepted


async def test_a_tick_creates_the_cases_of_wechat_messages_left_pending(db: Any) -> None:
    scheduler = Scheduler(settings=db.settings, jobs=fast_jobs(), sessions=db.sessions, lock=_Held(),
                          enqueue_sync=lambda _c: None, enqueue_reply=lambda _id: None)
    fresh = await _pending(db, "8001", minutes_ago=0)
    await scheduler.tick(now=1000.0)
    assert await count(db, Case) == 0 and await count(db, PendingIntake) == 1  # its job will create it
    stale = await _pending(db, "8002", minutes_ago=5)  # its job was lost
    await scheduler.tick(now=1011.0)
    assert sorted(c.case_no for c in await cases(db)) == sorted([str(fresh.number), str(stale.number)])
    assert await count(db, PendingIntake) == 0
