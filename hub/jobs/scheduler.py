"""The scheduler: one active process syncs each configured pull channel periodically and sweeps the outbox.

Only one scheduler leads at a time: a Redis lock with a TTL (renewed every tick) when HUB_REDIS_URL is set,
else a PostgreSQL session advisory lock, else (SQLite) an exclusive lock file next to the database. Others wait
and take over when the leader's lock lapses.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import fcntl
import logging
import os
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any, Protocol

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker

from hub.clock import utcnow
from hub.db import transaction
from hub.deadlines.enforcement import run_sweep
from hub.ingest import repository as ingest_repository
from hub.ingest.config import configured_pull_channels
from hub.ingest.pending import drain_stale
from hub.jobs import outbox, repository
from hub.jobs.settings import JobSettings
from hub.settings import Settings

log = logging.getLogger("hub.scheduler")
ADVISORY_KEY = 0x48_55_42_53  # "HUBS"
_RENEW = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) end return 0"
_RELEASE = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end return 0"


class LeaderLock(Protocol):
    """Held by at most one scheduler at a time."""

    async def acquire(self) -> bool:
        """Take or renew the lock; True while this process holds it."""
        ...

    async def release(self) -> None:
        """Give the lock up."""
        ...


class RedisLeaderLock:
    """SET NX PX with a random token, renewed only by its holder."""

    def __init__(self, url: str, *, ttl_seconds: float, key: str) -> None:
        import redis.asyncio as redis

        self._client: Any = redis.from_url(url)
        self._key = key
        self._token = uuid.uuid4().hex
        self._ttl_ms = int(ttl_seconds * 1000)
        self._held = False

    async def acquire(self) -> bool:
        """Renew if held, else try to take it."""
        if self._held and await self._client.eval(_RENEW, 1, self._key, self._token, self._ttl_ms):
            return True
        self._held = bool(await self._client.set(self._key, self._token, nx=True, px=self._ttl_ms))
        return self._held

    async def release(self) -> None:
        """Delete the key if it is still ours."""
        with contextlib.suppress(Exception):
            await self._client.eval(_RELEASE, 1, self._key, self._token)
        self._held = False
        await self._client.aclose()


class AdvisoryLeaderLock:
    """A PostgreSQL session advisory lock on a connection kept open while leading."""

    def __init__(self, engine: AsyncEngine, *, key: int = ADVISORY_KEY) -> None:
        self._engine = engine
        self._key = key
        self._conn: AsyncConnection | None = None

    async def acquire(self) -> bool:
        """Check the held connection is alive, else try to take the lock on a new one."""
        if self._conn is not None:
            try:
                await repository.ping(self._conn)
                return True
            except Exception:  # the connection (and with it the lock) is gone
                with contextlib.suppress(Exception):
                    await self._conn.invalidate()
                self._conn = None
        conn = await self._engine.connect()
        if await repository.try_advisory_lock(conn, key=self._key):
            await conn.commit()
            self._conn = conn
            return True
        await conn.close()
        return False

    async def release(self) -> None:
        """Unlock and close the connection."""
        if self._conn is not None:
            with contextlib.suppress(Exception):
                await repository.advisory_unlock(self._conn, key=self._key)
                await self._conn.close()
            self._conn = None


class FileLeaderLock:
    """An exclusive ``flock`` on a file next to the SQLite database (one machine, one scheduler)."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._file: IO[str] | None = None

    async def acquire(self) -> bool:
        """Hold the file lock, taking it if free."""
        return self._file is not None or self._take()

    def _take(self) -> bool:
        handle = open(self._path, "a+")  # held open for as long as we lead
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            handle.close()
            return False
        handle.seek(0)
        handle.truncate()
        handle.write(str(os.getpid()))
        handle.flush()
        self._file = handle
        return True

    async def release(self) -> None:
        """Unlock and close the file."""
        if self._file is not None:
            fcntl.flock(self._file, fcntl.LOCK_UN)
            self._file.close()
            self._file = None


def leader_lock(settings: Settings, jobs: JobSettings, engine: AsyncEngine) -> LeaderLock:
    """The lock fitting the deployment: Redis, else PostgreSQL advisory, else a lock file beside SQLite."""
    if settings.redis_url:
        return RedisLeaderLock(
            settings.redis_url,
            ttl_seconds=jobs.scheduler_lock_ttl_seconds,
            key=f"{jobs.redis_namespace}:scheduler:leader",
        )
    path = settings.sqlite_path()
    if path is None:
        return AdvisoryLeaderLock(engine)
    return FileLeaderLock(path.with_name(path.name + ".scheduler.lock"))


# Warnings and urgings are due at minute resolution at best; once a minute is prompt enough.
DEADLINE_SWEEP_SECONDS = 60.0
# Pending intake is drained by a job right after it is stored; a row still waiting after this long lost its job.
PENDING_INTAKE_SWEEP_SECONDS = 10.0
PENDING_INTAKE_AGE_SECONDS = 30.0


class Scheduler:
    """Every tick (1 s): if leading, enqueue due syncs, sweep the outbox and the deadlines, prune old receipts."""

    def __init__(
        self,
        *,
        settings: Settings,
        jobs: JobSettings,
        sessions: async_sessionmaker[AsyncSession],
        lock: LeaderLock,
        enqueue_sync: Callable[[str], None],
        enqueue_reply: Callable[[int], None],
        tick_seconds: float = 1.0,
    ) -> None:
        self.settings = settings
        self.jobs = jobs
        self.sessions = sessions
        self.lock = lock
        self.enqueue_sync = enqueue_sync
        self.enqueue_reply = enqueue_reply
        self.tick_seconds = tick_seconds
        self.leading = False
        self._next_sync: dict[str, float] = {}
        self._next_sweep = 0.0
        self._next_prune = 0.0
        self._next_deadlines = 0.0
        self._next_intake = 0.0

    async def run(self, stop: asyncio.Event) -> None:
        """Lead (or wait to) until ``stop`` is set."""
        try:
            while not stop.is_set():
                try:
                    leading = await self.lock.acquire()
                    if leading != self.leading:
                        log.info("scheduler leadership %s", "taken" if leading else "lost")
                    self.leading = leading
                    if leading:
                        await self.tick()
                except Exception:  # one failed tick (database or Redis away) must not end the schedule
                    log.exception("scheduler tick failed")
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), timeout=self.tick_seconds)
        finally:
            await self.lock.release()

    async def tick(self, now: float | None = None) -> None:
        """Enqueue what is due."""
        moment = time.monotonic() if now is None else now
        for channel in configured_pull_channels(self.settings):
            if moment >= self._next_sync.get(channel, 0.0):
                self.enqueue_sync(channel)
                self._next_sync[channel] = moment + self.jobs.sync_interval_seconds
        if moment >= self._next_sweep:
            self._next_sweep = moment + self.jobs.outbox_sweep_seconds
            swept = await outbox.sweep(
                self.sessions,
                enqueue=self.enqueue_reply,
                age_seconds=self.jobs.outbox_sweep_age_seconds,
                lease_seconds=self.jobs.reply_send_lease_seconds,
            )
            if swept:
                log.info("outbox sweep enqueued %d replies", len(swept))
        if moment >= self._next_deadlines:
            self._next_deadlines = moment + DEADLINE_SWEEP_SECONDS
            report = await run_sweep(self.sessions, self.settings)
            if report.urged or report.warned or report.auto_closed:
                log.info(
                    "deadlines: %d warned, %d urged, %d auto-closed",
                    len(report.warned),
                    len(report.urged),
                    len(report.auto_closed),
                )
        if moment >= self._next_intake:
            self._next_intake = moment + PENDING_INTAKE_SWEEP_SECONDS
            await drain_stale(self.sessions, self.settings, older_than=dt.timedelta(seconds=PENDING_INTAKE_AGE_SECONDS))
        if moment >= self._next_prune:
            self._next_prune = moment + 3600
            before = utcnow() - dt.timedelta(days=self.jobs.receipt_ttl_days)
            async with transaction(self.sessions) as session:
                await ingest_repository.prune_receipts(session, before=before)
