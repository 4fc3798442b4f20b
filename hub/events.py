"""Case events to live subscribers: in-process by default, Redis pub/sub when HUB_REDIS_URL is set."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Sequence
from dataclasses import asdict, dataclass
from typing import Any, Protocol


@dataclass(frozen=True)
class EventNotice:
    """What subscribers learn of a step: enough to scope it and fetch the rest."""

    case_id: int
    case_no: str
    event_id: int
    seq: int
    action: str
    status: str
    department_ids: tuple[int, ...]  # lead and co-handling departments when the event happened


class EventBus(Protocol):
    """Publish after commit; subscribe for as long as a client listens."""

    async def publish(self, notice: EventNotice) -> None:
        """Send a notice to every subscriber."""
        ...

    def subscribe(self) -> AsyncIterator[EventNotice]:
        """Every notice published from now on."""
        ...


class LocalBus:
    """One process: a queue per subscriber."""

    def __init__(self) -> None:
        self._queues: set[asyncio.Queue[EventNotice]] = set()

    @property
    def subscriber_count(self) -> int:
        """How many subscribers listen now."""
        return len(self._queues)

    async def publish(self, notice: EventNotice) -> None:
        """Send a notice to every subscriber."""
        for queue in list(self._queues):
            queue.put_nowait(notice)

    async def subscribe(self) -> AsyncIterator[EventNotice]:
        """Every notice published from now on."""
        queue: asyncio.Queue[EventNotice] = asyncio.Queue(maxsize=10000)
        self._queues.add(queue)
        try:
            while True:
                yield await queue.get()
        finally:
            self._queues.discard(queue)


class RedisBus:
    """Many API processes: Redis pub/sub on one channel."""

    CHANNEL = "hub:case-events"

    def __init__(self, url: str) -> None:
        import redis.asyncio as redis

        self._redis: Any = redis.from_url(url)

    async def publish(self, notice: EventNotice) -> None:
        """Send a notice to every subscriber of every process."""
        await self._redis.publish(self.CHANNEL, json.dumps(asdict(notice)))

    async def publish_many(self, notices: Sequence[EventNotice]) -> None:
        """Send several notices in one round trip (a pipeline), in order."""
        async with self._redis.pipeline(transaction=False) as pipe:
            for notice in notices:
                pipe.publish(self.CHANNEL, json.dumps(asdict(notice)))
            await pipe.execute()

    async def subscribe(self) -> AsyncIterator[EventNotice]:
        """Every notice published from now on."""
        pubsub = self._redis.pubsub()
        await pubsub.subscribe(self.CHANNEL)
        try:
            async for message in pubsub.listen():
                if message.get("type") != "message":
                    continue
                data = json.loads(message["data"])
                data["department_ids"] = tuple(data["department_ids"])
                yield EventNotice(**data)
        finally:
            with contextlib.suppress(Exception):
                await pubsub.unsubscribe(self.CHANNEL)
                await pubsub.aclose()

    async def close(self) -> None:
        """Release the connection pool."""
        await self._redis.aclose()


def make_bus(redis_url: str | None) -> LocalBus | RedisBus:
    """The bus the settings ask for."""
    return RedisBus(redis_url) if redis_url else LocalBus()
