"""Group commit for pushed messages: many concurrent deliveries, one transaction.

Each push request verifies and parses its message, then :meth:`PushBatcher.submit`\\ s it and awaits the outcome.
One writer task takes everything waiting (up to ``max_batch``), stores it with
:func:`hub.ingest.push.receive_pushes` in ONE transaction, commits, resolves every waiting request with its case
(so the reply can still name the case number: stored before the reply), then publishes the live notices. While
one batch commits, the next one gathers: the busier the endpoint, the larger the batches and the fewer the
commits, statements and hot-row updates per message.

WeChat messages (``deferred`` channels) are stored as *pending intake* instead
(:func:`hub.ingest.pending.accept_pushes`): verified, deduplicated, numbered from the day's counter and kept with
their parsed draft, so the passive reply names the case number after a transaction of three statements; the
batcher then wakes its :mod:`drainer <hub.ingest.drain>`, which has the cases created (routing, suggester,
citizens, trail) by the worker or in this process, each with exactly the number its reply named.

Failures: a draft the hub refuses fails only its own request (ValidationFailed); anything else that breaks the
transaction (the database away, a deadlock) rolls the whole batch back and fails every request of it with that
error, so nothing is stored half and the channel's retry finds a clean slate.

The writer starts with the app's lifespan (or lazily on the first submit, for routers mounted without one) and
:meth:`PushBatcher.aclose` drains: what was submitted before closing is stored and answered.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import defaultdict
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from connectors.base import CaseDraft
from hub.cases.notices import notices_for, publish
from hub.context import ServiceContext
from hub.db import transaction
from hub.errors import HubError, ValidationFailed
from hub.events import EventBus, EventNotice
from hub.ingest.drain import Drainer, LocalDrainer
from hub.ingest.pending import accept_pushes
from hub.ingest.push import PushItem, receive_pushes
from hub.ingest.service import PushResult, connector_principal
from hub.logs import request_id_var
from hub.settings import Settings

log = logging.getLogger("hub.ingest.batcher")


class BatchFailed(Exception):
    """The transaction of the batch this message was in failed (the cause is chained); nothing of it was stored."""


class BatcherClosed(HubError):
    """The process is shutting down and takes no more pushes (the channel retries elsewhere or later)."""

    code = "SHUTTING_DOWN"


@dataclass
class _Waiting:
    channel: str
    item: PushItem
    request_id: str | None
    future: asyncio.Future[PushResult] = field(repr=False)


_STOP = object()


def _fail_unanswered(waiting: list[_Waiting], why: str) -> None:
    for item in waiting:
        if not item.future.done():
            item.future.set_exception(BatchFailed(why))


def _retrieved(future: asyncio.Future[PushResult]) -> None:
    if not future.cancelled():
        future.exception()


class PushBatcher:
    """One writer task per process storing pushed messages in batches (see the module docstring)."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        settings: Settings,
        *,
        bus: EventBus | None = None,
        max_batch: int = 200,
        linger_seconds: float = 0.01,
        deferred: frozenset[str] = frozenset({"wechat"}),
        drainer: Drainer | None = None,
    ) -> None:
        self.sessions = sessions
        self.settings = settings
        self.bus = bus
        # Channels whose messages are stored as pending intake with a reserved number; the drainer creates the
        # cases after the reply (hub.ingest.pending). Others (the hotline push) get their case in the batch.
        self.deferred = deferred
        self.drainer: Drainer = drainer or LocalDrainer(sessions, settings, bus=bus)
        self.max_batch = max_batch
        # After the first message, wait this long for more: each batch costs a handful of statements and a commit
        # whatever its size, so a few milliseconds here buy larger batches at moderate rates (0: take what waits).
        self.linger_seconds = linger_seconds
        self._queue: asyncio.Queue[_Waiting | object] | None = None
        self._writer: asyncio.Task[None] | None = None
        self._closed = False
        self.batches = 0
        self.stored = 0

    def start(self) -> None:
        """Start the writer on the running loop (idempotent)."""
        if self._closed:
            raise BatcherClosed("the push batcher is closed")
        if self._writer is None or self._writer.done():
            self._queue = asyncio.Queue()
            self._writer = asyncio.get_running_loop().create_task(self._run(self._queue), name="push-batcher")

    def enqueue(
        self, channel: str, draft: CaseDraft | None, dedupe_key: str | None = None, *, request_id: str | None = None
    ) -> asyncio.Future[PushResult]:
        """Queue one pushed message for the next batch; the future resolves to its case or to what refused it."""
        if self._closed:
            raise BatcherClosed("the push batcher is closed")
        self.start()
        assert self._queue is not None
        future: asyncio.Future[PushResult] = asyncio.get_running_loop().create_future()
        future.add_done_callback(_retrieved)  # a request that gave up must not leave "never retrieved" noise
        self._queue.put_nowait(_Waiting(channel, PushItem(draft, dedupe_key), request_id, future))
        return future

    async def submit(
        self, channel: str, draft: CaseDraft | None, dedupe_key: str | None = None, *, request_id: str | None = None
    ) -> PushResult:
        """Store one pushed message (in the next batch) and return its case; raises what refused or failed it."""
        return await self.enqueue(channel, draft, dedupe_key, request_id=request_id)

    async def aclose(self, drain_seconds: float = 30.0) -> None:
        """Take no more, store and answer what is waiting, then stop the writer."""
        self._closed = True
        try:
            await self._stop_writer(drain_seconds)
        finally:
            await self.drainer.aclose()

    async def _stop_writer(self, drain_seconds: float) -> None:
        writer, queue = self._writer, self._queue
        if writer is None or queue is None or writer.done():
            return
        queue.put_nowait(_STOP)
        try:
            await asyncio.wait_for(asyncio.shield(writer), drain_seconds)
        except TimeoutError:
            log.error("push batcher did not drain within %.0f s; stopping it", drain_seconds)
            writer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await writer
            left = []
            while not queue.empty():
                item = queue.get_nowait()
                if isinstance(item, _Waiting):
                    left.append(item)
            _fail_unanswered(left, "the process stopped before this message was stored")

    async def _run(self, queue: asyncio.Queue[_Waiting | object]) -> None:
        stopping = False
        while not stopping:
            first = await queue.get()
            if first is _STOP:
                return
            batch = [first]
            if self.linger_seconds > 0:
                await asyncio.sleep(self.linger_seconds)
            while len(batch) < self.max_batch and not queue.empty():
                more = queue.get_nowait()
                if more is _STOP:
                    stopping = True  # store what came before it, then stop
                    break
                batch.append(more)
            waiting = [w for w in batch if isinstance(w, _Waiting)]
            try:
                await self._store(waiting)
            except Exception:  # never let one batch end the writer
                log.exception("push batch bookkeeping failed")
            finally:  # also when the writer is cancelled mid-batch: no request may wait forever
                _fail_unanswered(waiting, "the batch ended without an outcome for this message")

    async def _store(self, batch: list[_Waiting]) -> None:
        by_channel: dict[str, list[_Waiting]] = defaultdict(list)
        for waiting in batch:
            by_channel[waiting.channel].append(waiting)
        request_ids = [w.request_id for w in batch if w.request_id]
        token = request_id_var.set(request_ids[0] if len(request_ids) == 1 else f"batch:{len(batch)}")
        outcomes: list[tuple[_Waiting, PushResult | ValidationFailed]] = []
        notices: list[EventNotice] = []
        try:
            async with transaction(self.sessions) as session:
                for channel, group in by_channel.items():
                    ctx = ServiceContext(session, connector_principal(channel), self.settings,
                                         request_ids[0] if len(request_ids) == 1 else None)
                    store = accept_pushes if channel in self.deferred else receive_pushes
                    results = await store(ctx, channel=channel, items=[w.item for w in group])
                    outcomes.extend(zip(group, results, strict=True))
                if self.bus is not None:
                    notices = await notices_for(session)
        except Exception as exc:  # the whole batch rolled back: every request of it fails alike
            log.error("storing a batch of %d pushed messages failed: %s", len(batch), type(exc).__name__)
            for waiting in batch:
                if not waiting.future.done():
                    failed = BatchFailed(f"the batch failed: {type(exc).__name__}")
                    failed.__cause__ = exc
                    waiting.future.set_exception(failed)
            return
        finally:
            request_id_var.reset(token)
        self.batches += 1
        if any(isinstance(o, PushResult) and o.created and o.case is None for _, o in outcomes):
            self.drainer.wake()
        for waiting, outcome in outcomes:
            if waiting.future.done():  # the request gave up (client gone); its message is stored all the same
                continue
            if isinstance(outcome, ValidationFailed):
                waiting.future.set_exception(outcome)
            else:
                self.stored += int(outcome.created)
                waiting.future.set_result(outcome)
        if notices and self.bus is not None:
            try:
                await publish(self.bus, notices)
            except Exception as exc:  # subscribers miss a notice; the cases are stored and answered
                log.warning("publishing %d notices failed: %s", len(notices), type(exc).__name__)
