"""The dramatiq broker: Redis when HUB_REDIS_URL is set, else an in-process StubBroker.

The Redis broker's heartbeat and maintenance are tuned so a killed worker's unacknowledged messages return to
the queue within about ``heartbeat_timeout`` plus a few seconds (dramatiq's defaults, 60 s and a 0.1 % chance of
maintenance per call, leave them stranded for many minutes on a quiet queue).
"""

from __future__ import annotations

import dramatiq
from dramatiq.brokers.redis import RedisBroker
from dramatiq.brokers.stub import StubBroker
from dramatiq.middleware import CurrentMessage, Retries, default_middleware

from hub.jobs.settings import JobSettings
from hub.settings import Settings

QUEUE = "hub"
# infrastructure failures (database down …) retried by dramatiq: 2 s, 4 s … capped at 5 min
MIN_BACKOFF_MS = 2_000
MAX_BACKOFF_MS = 300_000


def _middleware() -> list[dramatiq.Middleware]:
    stack = [m() if m is not Retries else Retries(max_retries=5, min_backoff=MIN_BACKOFF_MS,
                                                  max_backoff=MAX_BACKOFF_MS) for m in default_middleware]
    return [*stack, CurrentMessage()]  # the job id for log lines


def make_broker(settings: Settings, jobs: JobSettings, *, namespace: str | None = None) -> dramatiq.Broker:
    """A RedisBroker on HUB_REDIS_URL (heartbeat and maintenance from the job settings), else a StubBroker."""
    if settings.redis_url:
        return RedisBroker(
            url=settings.redis_url,
            namespace=namespace or jobs.redis_namespace,
            middleware=_middleware(),
            heartbeat_timeout=jobs.redis_heartbeat_timeout_ms,
            maintenance_chance=jobs.redis_maintenance_chance,
            dead_message_ttl=jobs.redis_dead_message_ttl_ms,
        )
    return StubBroker(middleware=_middleware())


def is_in_process(broker: dramatiq.Broker) -> bool:
    """Whether messages live only in this process (the embedded default)."""
    return isinstance(broker, StubBroker)
