"""Who creates the cases of pending intake after the push batcher committed them (see ``hub.ingest.pending``).

:class:`QueueDrainer` (``hub serve`` with Redis) enqueues the ``create_pending_cases`` job for the worker
processes, at most once per ``interval``: the job drains until nothing waits, so wake-ups coalesce.
:class:`LocalDrainer` (no Redis: ``hub serve`` alone, the demo, tests) drains in this process, on its event
loop, in small transactions. Either way the scheduler drains rows left waiting too long (a lost job).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
from collections.abc import Callable
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub.events import EventBus
from hub.ingest.pending import drain_pending, drain_stale
from hub.settings import Settings

log = logging.getLogger("hub.ingest.drain")


class Drainer(Protocol):
    """Told when pending intake was committed; creates (or has a worker create) its cases."""

    def wake(self) -> None:
        """New pending rows were committed."""
        ...

    async def settled(self) -> None:
        """Wait until what was woken for is handed on (drained here, or enqueued)."""
        ...

    async def aclose(self) -> None:
        """Finish what was woken for, then stop."""
        ...


class _Loop:
    """One background task doing ``_work`` whenever woken; wake-ups while it works fold into one more round."""

    def __init__(self, name: str) -> None:
        self._name = name
        self._wanted = asyncio.Event()
        self._idle = asyncio.Event()
        self._idle.set()
        self._task: asyncio.Task[None] | None = None
        self._closing = False

    def wake(self) -> None:
        """Ask for a round (starts the task on the running loop if needed)."""
        if self._closing:
            return
        self._idle.clear()
        self._wanted.set()
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._run(), name=self._name)

    async def settled(self) -> None:
        """Wait until no round is wanted or running."""
        await self._idle.wait()

    async def aclose(self, within_seconds: float = 20.0) -> None:
        """Let a wanted round finish (for ``within_seconds``: what is left stays pending for the next start); stop."""
        self._closing = True
        if self._task is not None and not self._task.done():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.settled(), within_seconds)
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        while True:
            await self._wanted.wait()
            self._wanted.clear()
            try:
                await self._work()
            except Exception:  # the next wake (or the scheduler) tries again; nothing is lost, the rows wait
                log.exception("%s failed", self._name)
            if not self._wanted.is_set():
                self._idle.set()

    async def _work(self) -> None:
        raise NotImplementedError


class LocalDrainer(_Loop):
    """Drains pending intake in this process (small transactions, so the event loop keeps answering)."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], settings: Settings, *,
                 bus: EventBus | None = None, limit: int = 50) -> None:
        super().__init__("pending-intake-drain")
        self.sessions, self.settings, self.bus, self.limit = sessions, settings, bus, limit

    async def _work(self) -> None:
        await drain_pending(self.sessions, self.settings, bus=self.bus, limit=self.limit)


class QueueDrainer(_Loop):
    """Enqueues the drain job (a blocking broker call, so off the event loop), at most once per ``interval``."""

    def __init__(self, send: Callable[[], None], *, interval: float = 0.5) -> None:
        super().__init__("pending-intake-enqueue")
        self.send, self.interval = send, interval

    async def _work(self) -> None:
        await asyncio.to_thread(self.send)
        await asyncio.sleep(self.interval)


async def watch_stale(sessions: async_sessionmaker[AsyncSession], settings: Settings, *, bus: EventBus | None = None,
                      every: float = 30.0, older_than: float = 60.0) -> None:
    """Every ``every`` seconds, drain pending intake older than ``older_than`` here (runs until cancelled).

    The API's own safety net: in transactions of 50 so its event loop keeps answering callbacks meanwhile.
    """
    while True:
        await asyncio.sleep(every)
        try:
            await drain_stale(sessions, settings, older_than=dt.timedelta(seconds=older_than), bus=bus, limit=50)
        except Exception:  # the database away: the next round tries again
            log.exception("draining stale pending intake failed")
