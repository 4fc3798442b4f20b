"""A lean open-loop HTTP/1.1 load generator (raw asyncio streams, keep-alive) for rates httpx cannot send.

httpx spends about a millisecond of CPU per request; at 500+ requests per second on this 2-core machine the
generator would compete with the server it measures. Here every request is serialised to bytes before the clock
starts, a request is one ``write`` and one read of the status line, headers and a ``Content-Length`` body, and
connections are reused (opened as needed, up to ``max_connections``: WeChat opens one per delivery in flight).
The loop runs on uvloop in a thread of its own when uvloop is installed.

Latency counts from when each request was *due*, so queueing anywhere (a connection being opened, the server's
backlog) is charged to the server; ``lag`` records how late the generator itself started each request, which
says whether the generator kept up.
"""

from __future__ import annotations

import asyncio
import time
import urllib.parse
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from bench.loadgen import LoadResult, paced


def build_request(base_url: str, method: str, target: str, body: bytes = b"",
                  headers: Mapping[str, str] | None = None) -> bytes:
    """The bytes of one HTTP/1.1 keep-alive request to ``base_url`` + ``target`` (path and query)."""
    host = urllib.parse.urlsplit(base_url).netloc
    lines = [f"{method} {target} HTTP/1.1", f"Host: {host}", f"Content-Length: {len(body)}"]
    lines += [f"{k}: {v}" for k, v in (headers or {}).items() if k.lower() not in {"host", "content-length"}]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


@dataclass
class RawResult(LoadResult):
    """A LoadResult plus the generator's own lateness and a few response bodies to check."""

    lag: list[float] = field(default_factory=list)
    bodies: list[bytes] = field(default_factory=list)
    connections: int = 0

    def summary(self) -> dict[str, Any]:
        """The LoadResult figures plus the generator's start lag (ms) and connections opened."""
        ordered = sorted(self.lag)
        late = {
            "gen_lag_p50_ms": round(1000 * ordered[len(ordered) // 2], 2) if ordered else None,
            "gen_lag_max_ms": round(1000 * ordered[-1], 2) if ordered else None,
            "connections": self.connections,
        }
        return {**super().summary(), **late}


# uvicorn closes a keep-alive connection after 5 s without a request; one idle nearly that long is not reused.
IDLE_REUSE_SECONDS = 4.0


class _Closed(Exception):
    pass


async def _exchange(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, data: bytes) -> tuple[int, bytes, bool]:
    """Send one request, read one response: (status, body, keep the connection)."""
    writer.write(data)
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError:
        raise _Closed("connection closed by the server") from None
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    length, chunked, keep = 0, False, True
    for line in lines[1:]:
        name, _, value = line.partition(":")
        name = name.strip().lower()
        if name == "content-length":
            length = int(value)
        elif name == "transfer-encoding" and "chunked" in value.lower():
            chunked = True
        elif name == "connection" and value.strip().lower() == "close":
            keep = False
    if not chunked:
        return status, await reader.readexactly(length), keep
    parts = []
    while True:
        size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
        parts.append(await reader.readexactly(size + 2))
        if size == 0:
            return status, b"".join(p[:-2] for p in parts), keep


async def fixed_rate_raw(
    base_url: str,
    requests: Sequence[bytes],
    *,
    rate: float,
    deadline: float = 10.0,
    max_connections: int = 1000,
    keep_bodies: int = 0,
    idle_reuse: float = IDLE_REUSE_SECONDS,
) -> RawResult:
    """Send the prepared requests at ``rate`` per second (open loop); over ``deadline`` s from due is an error.

    Bounded: exactly ``len(requests)`` requests, each at most ``deadline`` seconds.
    """
    parts = urllib.parse.urlsplit(base_url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    result = RawResult()
    idle: list[tuple[float, tuple[asyncio.StreamReader, asyncio.StreamWriter]]] = []  # (last used, connection)
    opened: list[asyncio.StreamWriter] = []
    slots = asyncio.Semaphore(max_connections)

    def reuse() -> tuple[asyncio.StreamReader, asyncio.StreamWriter] | None:
        while idle:
            used, conn = idle.pop()
            if time.perf_counter() - used < idle_reuse:
                return conn
            conn[1].close()  # the server may have closed it: a client opens a new one, as real senders do
        return None

    async def one(index: int, data: bytes, due: float) -> None:
        result.lag.append(time.perf_counter() - due)
        async with slots:
            conn = reuse()
            try:
                async with asyncio.timeout(max(0.001, due + deadline - time.perf_counter())):
                    if conn is None:
                        conn = await asyncio.open_connection(host, port)
                        opened.append(conn[1])
                        result.connections += 1
                    status, body, keep = await _exchange(*conn, data)
            except (TimeoutError, OSError, _Closed, asyncio.IncompleteReadError, ValueError) as exc:
                result.errors += 1
                result.first_error = result.first_error or f"{type(exc).__name__}: {exc}"[:200]
                if conn is not None:
                    conn[1].close()
                return
            if keep:
                idle.append((time.perf_counter(), conn))
            else:
                conn[1].close()
            if status == 200:
                result.latencies.append(time.perf_counter() - due)
                if index < keep_bodies:
                    result.bodies.append(body)
            else:
                result.errors += 1
                result.first_error = result.first_error or f"HTTP {status}: {body[:200]!r}"

    result.seconds = await paced(len(requests), rate, lambda index, due: one(index, requests[index], due))
    for writer in opened:
        writer.close()
    return result


def run_fixed_rate_raw(base_url: str, requests: Sequence[bytes], **kwargs: Any) -> RawResult:
    """:func:`fixed_rate_raw` on a fresh event loop (uvloop when installed): call it from a thread."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run(fixed_rate_raw(base_url, requests, **kwargs))
    return uvloop.run(fixed_rate_raw(base_url, requests, **kwargs))
