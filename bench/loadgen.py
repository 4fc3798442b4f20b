"""Load generators against 127.0.0.1 only, bounded in requests and seconds: closed loop and fixed rate."""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx

Send = Callable[[httpx.AsyncClient, int], Awaitable[httpx.Response]]


@dataclass
class LoadResult:
    """Latencies (seconds) of the requests that finished, errors, wall time."""

    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    seconds: float = 0.0
    first_error: str | None = None

    @property
    def count(self) -> int:
        """Requests answered with success."""
        return len(self.latencies)

    @property
    def rps(self) -> float:
        """Successful requests per second of wall time."""
        return self.count / self.seconds if self.seconds else 0.0

    def pct(self, p: float) -> float | None:
        """The p-th percentile latency in milliseconds."""
        if not self.latencies:
            return None
        ordered = sorted(self.latencies)
        return 1000 * ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]

    def summary(self) -> dict[str, Any]:
        """The figures as a dict (ms)."""
        return {
            "requests": self.count,
            "errors": self.errors,
            "seconds": round(self.seconds, 2),
            "rps": round(self.rps, 1),
            "p50_ms": _r(self.pct(50)),
            "p99_ms": _r(self.pct(99)),
            "mean_ms": _r(1000 * statistics.fmean(self.latencies) if self.latencies else None),
            "first_error": self.first_error,
        }


def _r(value: float | None) -> float | None:
    return round(value, 1) if value is not None else None


def _ok(result: LoadResult, response: httpx.Response, started: float) -> None:
    if response.status_code == 200:
        result.latencies.append(time.perf_counter() - started)
    else:
        result.errors += 1
        result.first_error = result.first_error or f"HTTP {response.status_code}: {response.text[:200]}"


async def closed_loop(
    base_url: str, send: Send, *, concurrency: int, max_requests: int, max_seconds: float, warmup: int = 20
) -> LoadResult:
    """``concurrency`` clients each sending the next request when the last is answered."""
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=base_url, limits=limits, timeout=30) as client:
        for i in range(warmup):
            await send(client, i)
        result, counter = LoadResult(), iter(range(max_requests))
        stop_at = time.perf_counter() + max_seconds

        async def worker() -> None:
            for i in counter:
                if time.perf_counter() > stop_at:
                    return
                started = time.perf_counter()
                try:
                    _ok(result, await send(client, i), started)
                except httpx.HTTPError as exc:
                    result.errors += 1
                    result.first_error = result.first_error or repr(exc)

        began = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        result.seconds = time.perf_counter() - began
    return result


async def paced(count: int, rate: float, start: Callable[[int, float], Coroutine[Any, Any, None]]) -> float:
    """Start ``start(index, due)`` for each of ``count`` requests when it is due at ``rate`` per second (open loop:
    none waits for an earlier one); the seconds until the last finished."""
    began = time.perf_counter()
    tasks: list[asyncio.Task[None]] = []
    for index in range(count):
        due = began + index / rate
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(start(index, due)))
    await asyncio.gather(*tasks)
    return time.perf_counter() - began


async def fixed_rate(
    base_url: str,
    requests: Sequence[Callable[[httpx.AsyncClient], Awaitable[httpx.Response]]],
    *,
    rate: float,
    deadline: float = 5.0,
    max_in_flight: int = 2000,
) -> LoadResult:
    """Send the prepared requests at ``rate`` per second (open loop); a request over ``deadline`` s is an error."""
    limits = httpx.Limits(max_connections=max_in_flight, max_keepalive_connections=256)
    result = LoadResult()
    async with httpx.AsyncClient(base_url=base_url, limits=limits, timeout=deadline) as client:
        gate = asyncio.Semaphore(max_in_flight)

        async def one(request: Callable[[httpx.AsyncClient], Awaitable[httpx.Response]], due: float) -> None:
            async with gate:
                try:
                    response = await request(client)
                except httpx.HTTPError as exc:
                    result.errors += 1
                    result.first_error = result.first_error or type(exc).__name__
                    return
                _ok(result, response, due)  # latency counts from when it was due: queueing here is the server's

        result.seconds = await paced(len(requests), rate, lambda index, due: one(requests[index], due))
    return result
