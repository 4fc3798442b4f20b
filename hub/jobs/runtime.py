"""A worker process's job runtime: one private event loop thread owning the engine, HTTP client and connectors.

Dramatiq runs actors on plain threads; each actor hands its coroutine to this loop and waits, so every job of
the process shares one connection pool, one HTTP client and one connector per channel (tokens reused).
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable, Mapping
from concurrent.futures import Future
from typing import Any, TypeVar

import httpx
from sqlalchemy.ext.asyncio import AsyncEngine

from hub.db import make_engine, make_sessionmaker
from hub.events import EventBus, EventNotice, make_bus
from hub.ingest.config import ConnectorPool
from hub.jobs.context import JobContext
from hub.jobs.settings import JobSettings
from hub.logs import request_id_var
from hub.settings import Settings

T = TypeVar("T")


async def _with_request_id(work: Awaitable[T], job_id: str | None) -> T:
    request_id_var.set(job_id)  # this task's own context: the id does not leak to other jobs
    return await work


class LoopBus:
    """Publishes on a bus that lives on another event loop (the API's in-process bus)."""

    def __init__(self, bus: EventBus, loop: asyncio.AbstractEventLoop) -> None:
        self._bus = bus
        self._loop = loop

    async def publish(self, notice: EventNotice) -> None:
        """Hand the notice to the bus's own loop without waiting for it."""
        if not self._loop.is_closed():
            asyncio.run_coroutine_threadsafe(self._bus.publish(notice), self._loop)

    def subscribe(self) -> Any:
        """Subscribe on the bus itself, from its own loop."""
        return self._bus.subscribe()


class JobRuntime:
    """Starts a loop thread, builds the JobContext on it, runs coroutines there for worker threads."""

    def __init__(self, settings: Settings, jobs: JobSettings, *, bus: EventBus | None = None,
                 connector_options: Mapping[str, Mapping[str, Any]] | None = None) -> None:
        self.settings = settings
        self.jobs = jobs
        self._bus = bus
        self._options = connector_options
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="hub-jobs-loop", daemon=True)
        self._context: JobContext | None = None
        self._own_bus: Any = None
        self._http: httpx.AsyncClient | None = None
        self._lock = threading.Lock()

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        """The runtime's event loop."""
        return self._loop

    @property
    def context(self) -> JobContext:
        """The job context (starts the runtime if needed)."""
        self.start()
        assert self._context is not None
        return self._context

    @property
    def engine(self) -> AsyncEngine:
        """The runtime's database engine (starts the runtime if needed)."""
        self.start()
        return self._engine

    def start(self) -> JobRuntime:
        """Start the loop thread and build the context on it (idempotent)."""
        with self._lock:
            if self._context is None:
                self._thread.start()
                self._context = self.submit(self._build()).result(timeout=30)
        return self

    async def _build(self) -> JobContext:
        engine = make_engine(self.settings.database_url)
        self._http = httpx.AsyncClient(timeout=httpx.Timeout(self.jobs.reply_send_timeout_seconds, connect=10.0))
        bus = self._bus
        if bus is None and self.settings.redis_url:
            bus = self._own_bus = make_bus(self.settings.redis_url)
        self._engine = engine
        return JobContext(make_sessionmaker(engine), self.settings, self.jobs,
                          ConnectorPool(self.settings, self._http, self._options), bus)

    def submit(self, coro: Awaitable[T]) -> Future[T]:
        """Schedule a coroutine on the runtime's loop."""
        return asyncio.run_coroutine_threadsafe(coro, self._loop)  # type: ignore[arg-type]

    def run(self, job: Callable[[JobContext], Awaitable[T]], *, timeout: float | None = None,
            job_id: str | None = None) -> T:
        """Run ``job(context)`` on the loop and wait for its result (from a worker thread); logs carry ``job_id``."""
        future = self.submit(_with_request_id(job(self.context), job_id))
        try:
            return future.result(timeout=timeout)
        finally:
            if not future.done():
                future.cancel()

    def close(self) -> None:
        """Dispose the engine and HTTP client and stop the loop thread."""
        with self._lock:
            if self._context is None:
                return
            self.submit(self._dispose()).result(timeout=30)
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout=10)
            self._loop.close()
            self._context = None

    async def _dispose(self) -> None:
        if self._http is not None:
            await self._http.aclose()
        close = getattr(self._own_bus, "close", None)
        if close is not None:
            await close()
        await self._engine.dispose()
