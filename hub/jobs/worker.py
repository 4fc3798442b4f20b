"""Running jobs: ``hub worker`` (Redis), ``hub scheduler``, and the embedded worker inside ``hub serve``.

Without HUB_REDIS_URL messages live in this process (dramatiq's StubBroker), so the process that enqueues must
also run them: ``start_embedded_worker`` starts dramatiq worker threads, the job runtime and (optionally) the
scheduler inside the API process; ``hub scheduler`` without Redis does the same without the API.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import threading
from collections.abc import Mapping
from typing import Any

import dramatiq

from hub.db import make_engine, make_sessionmaker
from hub.errors import SettingsError
from hub.events import EventBus
from hub.jobs.broker import is_in_process
from hub.jobs.queue import Jobs, configure_jobs, get_jobs, release_jobs
from hub.jobs.runtime import LoopBus
from hub.jobs.scheduler import Scheduler, leader_lock
from hub.jobs.settings import JobSettings, load_job_settings
from hub.settings import Settings, get_settings

log = logging.getLogger("hub.worker")


class EmbeddedWorker:
    """Dramatiq worker threads on this process's broker, plus the scheduler on the job runtime's loop."""

    def __init__(self, jobs: Jobs, *, threads: int, scheduler: bool) -> None:
        self.jobs = jobs
        self.worker = dramatiq.Worker(jobs.broker, worker_threads=threads, worker_timeout=200)
        self._with_scheduler = scheduler
        self._stop: asyncio.Event | None = None
        self._scheduler_done: Any = None

    def start(self) -> EmbeddedWorker:
        """Start the worker threads and, if asked, the scheduler."""
        runtime = self.jobs.runtime
        self.worker.start()
        if self._with_scheduler:
            self._scheduler_done = runtime.submit(self._schedule())
        return self

    async def _schedule(self) -> None:
        self._stop = asyncio.Event()
        runtime, jc = self.jobs.runtime, self.jobs.runtime.context
        scheduler = Scheduler(settings=jc.settings, jobs=jc.jobs, sessions=jc.sessions,
                              lock=leader_lock(jc.settings, jc.jobs, runtime.engine),
                              enqueue_sync=self.jobs.enqueue_sync, enqueue_reply=self.jobs.enqueue_reply)
        await scheduler.run(self._stop)

    def stop(self, timeout_seconds: float = 10.0) -> None:
        """Stop the scheduler and the worker threads, then the runtime and broker."""
        if self._stop is not None and self._scheduler_done is not None:
            self.jobs.runtime.loop.call_soon_threadsafe(self._stop.set)
            with contextlib.suppress(Exception):
                self._scheduler_done.result(timeout=timeout_seconds)
        self.worker.stop(timeout=int(timeout_seconds * 1000))
        release_jobs(self.jobs)


def start_embedded_worker(settings: Settings | None = None, *, bus: EventBus | None = None, scheduler: bool = True,
                          jobs: JobSettings | None = None,
                          connector_options: Mapping[str, Mapping[str, Any]] | None = None) -> EmbeddedWorker:
    """Run jobs inside this process (``hub serve``); call from the API's lifespan, ``stop()`` on shutdown.

    ``bus`` is the API's event bus; called inside a running event loop it is published to on that loop.
    """
    settings = settings or get_settings()
    job_settings = jobs or load_job_settings()
    if bus is not None:
        with contextlib.suppress(RuntimeError):
            bus = LoopBus(bus, asyncio.get_running_loop())
    configured = configure_jobs(settings, job_settings, bus=bus, connector_options=connector_options)
    return EmbeddedWorker(configured, threads=job_settings.worker_threads, scheduler=scheduler).start()


def _wait_for_signal() -> None:
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_args: stop.set())
    while not stop.wait(timeout=1.0):
        pass


def run_worker(settings: Settings | None = None, *, threads: int | None = None) -> int:
    """``hub worker``: consume the Redis queues until SIGINT/SIGTERM."""
    settings = settings or get_settings()
    job_settings = load_job_settings()
    if not settings.redis_url:
        raise SettingsError("hub worker needs HUB_REDIS_URL; without Redis, `hub serve` runs the jobs in-process")
    if job_settings.worker_nice:
        os.nice(job_settings.worker_nice)
    jobs = configure_jobs(settings, job_settings)
    worker = dramatiq.Worker(jobs.broker, worker_threads=threads or job_settings.worker_threads)
    worker.start()
    log.info("worker started")
    try:
        _wait_for_signal()
    finally:
        worker.stop(timeout=30_000)
        jobs.close()
    return 0


def run_scheduler(settings: Settings | None = None) -> int:
    """``hub scheduler``: lead the schedule until SIGINT/SIGTERM (with an in-process worker when there is no Redis)."""
    settings = settings or get_settings()
    job_settings = load_job_settings()
    if not settings.redis_url:
        embedded = start_embedded_worker(settings, jobs=job_settings, scheduler=True)
        try:
            _wait_for_signal()
        finally:
            embedded.stop()
        return 0
    return asyncio.run(_scheduler_main(settings, job_settings))


async def _scheduler_main(settings: Settings, job_settings: JobSettings) -> int:
    jobs = configure_jobs(settings, job_settings)
    if is_in_process(jobs.broker):
        raise SettingsError("the scheduler needs a shared broker (HUB_REDIS_URL)")
    engine = make_engine(settings.database_url)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    scheduler = Scheduler(settings=settings, jobs=job_settings, sessions=make_sessionmaker(engine),
                          lock=leader_lock(settings, job_settings, engine),
                          enqueue_sync=get_jobs().enqueue_sync, enqueue_reply=get_jobs().enqueue_reply)
    try:
        await scheduler.run(stop)
    finally:
        await engine.dispose()
        jobs.close()
    return 0
