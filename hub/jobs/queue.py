"""The hub's actors on one broker, and the process-wide helpers to enqueue them after a commit.

Actors take ids and are idempotent: ``deliver_reply(reply_id)`` (the outbox), ``sync_channel(channel)`` (one
pass), and ``job_failed`` (dramatiq's ``on_retry_exhausted`` hook, which writes a dead letter). Enqueueing is
best effort after the commit: if the broker is unreachable the scheduler's outbox sweep enqueues the reply later.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Mapping, Sequence
from typing import Any

import dramatiq
from dramatiq.middleware import CurrentMessage
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub.clock import utcnow
from hub.db import transaction
from hub.events import EventBus
from hub.ingest.pending import DrainResult, drain_pending
from hub.ingest.sync import SyncResult, sync_channel
from hub.jobs import outbox, repository
from hub.jobs.broker import QUEUE, make_broker
from hub.jobs.context import JobContext
from hub.jobs.runtime import JobRuntime
from hub.jobs.settings import JobSettings, load_job_settings
from hub.logs import request_id_var
from hub.settings import Settings, get_settings

log = logging.getLogger("hub.jobs")

DELIVER_REPLY = "deliver_reply"
SYNC_CHANNEL = "sync_channel"
CREATE_PENDING_CASES = "create_pending_cases"
JOB_FAILED = "job_failed"


class Jobs:
    """The actors declared on one broker; in a worker process also the runtime they run on."""

    def __init__(self, broker: dramatiq.Broker, settings: Settings, job_settings: JobSettings, *,
                 bus: EventBus | None = None, connector_options: Mapping[str, Mapping[str, Any]] | None = None) -> None:
        self.broker = broker
        self.settings = settings
        self.job_settings = job_settings
        self._bus = bus
        self._options = connector_options
        self._runtime: JobRuntime | None = None
        self._guard = threading.Lock()
        self.deliver_reply = dramatiq.actor(broker=broker, actor_name=DELIVER_REPLY, queue_name=QUEUE,
                                            on_retry_exhausted=JOB_FAILED)(self._deliver_reply)
        self.sync_channel = dramatiq.actor(broker=broker, actor_name=SYNC_CHANNEL, queue_name=QUEUE,
                                           on_retry_exhausted=JOB_FAILED)(self._sync_channel)
        self.create_pending_cases = dramatiq.actor(broker=broker, actor_name=CREATE_PENDING_CASES, queue_name=QUEUE,
                                                   max_retries=3)(self._create_pending_cases)
        self.job_failed = dramatiq.actor(broker=broker, actor_name=JOB_FAILED, queue_name=QUEUE,
                                         max_retries=3)(self._job_failed)

    @property
    def runtime(self) -> JobRuntime:
        """The job runtime (event loop, engine, connectors), started on first use."""
        with self._guard:
            if self._runtime is None:
                self._runtime = JobRuntime(self.settings, self.job_settings, bus=self._bus,
                                           connector_options=self._options)
            return self._runtime.start()

    def close(self) -> None:
        """Stop the runtime, if this process ran jobs, and close the broker."""
        with self._guard:
            if self._runtime is not None:
                self._runtime.close()
                self._runtime = None
        self.broker.close()

    # --- enqueueing --------------------------------------------------------------------------------------

    def enqueue_reply(self, reply_id: int, *, delay_seconds: float | None = None) -> None:
        """Queue delivery of a reply (call after the commit that created it)."""
        delay = None if delay_seconds is None else int(delay_seconds * 1000)
        self.deliver_reply.send_with_options(args=(int(reply_id),), delay=delay)

    def enqueue_sync(self, channel: str, *, delay_seconds: float | None = None) -> None:
        """Queue one sync pass of a pull channel."""
        delay = None if delay_seconds is None else int(delay_seconds * 1000)
        self.sync_channel.send_with_options(args=(channel.lower(),), delay=delay)

    def enqueue_intake(self) -> None:
        """Queue a drain of pending intake (call after the commit that stored it)."""
        self.create_pending_cases.send()

    # --- actors ------------------------------------------------------------------------------------------

    def _deliver_reply(self, reply_id: int) -> None:
        async def job(jc: JobContext) -> outbox.DeliveryOutcome:
            return await outbox.deliver_reply(jc, reply_id=reply_id)

        job_id = _job_id()
        outcome = self.runtime.run(job, timeout=self.job_settings.reply_send_timeout_seconds + 60, job_id=job_id)
        log.info("deliver_reply(%d) job %s: %s", reply_id, job_id, outcome.status)
        if outcome.retry_in is not None:
            self.enqueue_reply(reply_id, delay_seconds=outcome.retry_in)

    def _sync_channel(self, channel: str) -> None:
        async def job(jc: JobContext) -> SyncResult:
            return await sync_channel(sessions=jc.sessions, settings=jc.settings, channel=channel,
                                      connector=jc.connectors.get(channel), job_settings=jc.jobs, bus=jc.bus)

        job_id = _job_id()
        result = self.runtime.run(job, timeout=540, job_id=job_id)
        log.info("sync_channel(%s) job %s: %s", channel, job_id, result.summary())
        # a rate limit shorter than the schedule's interval is retried sooner; longer ones wait for the schedule
        if result.error and result.retry_after is not None \
                and result.retry_after < self.job_settings.sync_interval_seconds:
            self.enqueue_sync(channel, delay_seconds=result.retry_after)

    def _create_pending_cases(self) -> None:
        async def job(jc: JobContext) -> DrainResult:
            return await drain_pending(jc.sessions, jc.settings, bus=jc.bus)

        job_id = _job_id()
        result = self.runtime.run(job, timeout=540, job_id=job_id)
        if result.taken:
            log.info("create_pending_cases job %s: %d cases in %d batches", job_id, result.taken, result.batches)

    def _job_failed(self, message: dict[str, Any], retry_info: dict[str, Any]) -> None:
        actor = str(message.get("actor_name", "?"))
        args = list(message.get("args") or [])
        options = message.get("options") or {}
        last = str(options.get("traceback") or "").strip().splitlines()[-1:] or ["unknown error"]
        # only the exception's class: its message could quote SQL parameters or payloads
        error = f"retries exhausted ({retry_info.get('retries', '?')}): {last[0].split(':', 1)[0]}"
        reply_id = int(args[0]) if actor == DELIVER_REPLY and args else None
        channel = str(args[0]).upper() if actor == SYNC_CHANNEL and args else None

        async def job(jc: JobContext) -> None:
            async with transaction(jc.sessions) as session:
                repository.add_dead_letter(session, job=actor, channel=channel, reply_id=reply_id,
                                           ref=",".join(map(str, args))[:128], status="RETRIES_EXHAUSTED",
                                           error=error, attempts=int(retry_info.get("retries") or 0), now=utcnow())

        self.runtime.run(job, timeout=60, job_id=_job_id())


def _job_id() -> str | None:
    message = CurrentMessage.get_current_message()
    job_id = message.message_id if message is not None else None
    request_id_var.set(job_id)  # the worker thread's own log lines; the next job sets its own
    return job_id


# --- the process's jobs ------------------------------------------------------------------------------------

_current: Jobs | None = None
_lock = threading.Lock()


def configure_jobs(settings: Settings | None = None, jobs: JobSettings | None = None, *,
                   broker: dramatiq.Broker | None = None, bus: EventBus | None = None,
                   connector_options: Mapping[str, Mapping[str, Any]] | None = None) -> Jobs:
    """Set up this process's broker and actors (Redis when HUB_REDIS_URL is set, else in-process)."""
    global _current
    settings = settings or get_settings()
    jobs = jobs or load_job_settings()
    with _lock:
        if _current is not None:
            _current.close()
        _current = Jobs(broker or make_broker(settings, jobs), settings, jobs, bus=bus,
                        connector_options=connector_options)
        return _current


def get_jobs() -> Jobs:
    """This process's jobs, configured from the environment on first use."""
    with _lock:
        current = _current
    return current if current is not None else configure_jobs()


def reset_jobs() -> None:
    """Close and forget this process's jobs (tests, shutdown)."""
    global _current
    with _lock:
        if _current is not None:
            _current.close()
        _current = None


def release_jobs(jobs: Jobs) -> None:
    """Close these jobs, and forget them if they are this process's."""
    global _current
    with _lock:
        if _current is jobs:
            _current = None
    jobs.close()


def enqueue_reply(reply_id: int) -> bool:
    """Queue delivery of a reply after the commit that created it; False (logged) if the broker is down."""
    try:
        get_jobs().enqueue_reply(reply_id)
    except Exception:  # the sweep enqueues it later; the answer is committed either way
        log.warning("could not enqueue delivery of reply %d; the outbox sweep will", reply_id)
        return False
    return True


async def enqueue_replies(reply_ids: Sequence[int]) -> int:
    """``enqueue_reply`` for several replies, off the event loop (the Redis client blocks); how many were queued."""
    if not reply_ids:
        return 0
    results = await asyncio.to_thread(lambda: [enqueue_reply(reply_id) for reply_id in reply_ids])
    return sum(results)


async def enqueue_pending_replies(
    sessions: async_sessionmaker[AsyncSession], *, reply_ids: Sequence[int] | None = None
) -> int:
    """Enqueue every PENDING reply (or those among ``reply_ids``) right away; how many were queued."""
    async with sessions() as session:
        pending = await repository.pending_reply_ids(session, reply_ids=reply_ids)
    return await enqueue_replies(pending)
