"""What every fake channel shares: a uvicorn runner on an ephemeral port, fault injection, a record of replies.

State is touched from the test's thread and from the server's thread, so every mutation holds ``self.lock``.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import enum
import json
import socket
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Self

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

Endpoint = Callable[[Request], Awaitable[Response]]


class RunningServer:
    """A uvicorn server serving one ASGI app on 127.0.0.1 in a daemon thread."""

    def __init__(self, app: Any, *, host: str = "127.0.0.1", port: int = 0, start_timeout: float = 10.0) -> None:
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._socket.bind((host, port))
        self.host, self.port = self._socket.getsockname()[:2]
        config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off")
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, kwargs={"sockets": [self._socket]},
                                        name=f"fake-channel-{self.port}", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + start_timeout
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                self._socket.close()
                raise RuntimeError("fake channel server did not start")
            time.sleep(0.005)

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:<port>``."""
        return f"http://{self.host}:{self.port}"

    def stop(self) -> None:
        """Shut the server down and wait for its thread."""
        self._server.should_exit = True
        self._server.force_exit = True  # a fake has nothing to drain: don't wait for idle keep-alives
        self._thread.join(timeout=10)
        self._socket.close()


def serve(app: Any) -> RunningServer:
    """Run an ASGI app on 127.0.0.1 on an ephemeral port in a background thread; ``.base_url``, ``.stop()``."""
    return RunningServer(app)


class FaultKind(enum.StrEnum):
    """A failure a fake can play for its next requests."""

    SERVER_ERROR = "server_error"  # HTTP 500
    TOO_MANY_REQUESTS = "too_many_requests"  # HTTP 429 with Retry-After when given
    GARBAGE = "garbage"  # HTTP 200 with a body that is not JSON
    RATE_LIMIT_CODE = "rate_limit_code"  # the channel's own code: Weibo 10023, WeChat 45009, hotline 4290
    EXPIRED_TOKEN = "expired_token"  # Weibo 21327, WeChat 42001, hotline/website 401
    SLOW = "slow"  # answer normally after ``delay`` seconds (client timeouts)


@dataclass
class Fault:
    """A fault and how many more requests it applies to."""

    kind: FaultKind
    remaining: int
    retry_after: str | None = None
    path: str | None = None
    delay: float = 0.0


def utc_now() -> dt.datetime:
    """The wall clock, timezone-aware UTC (the default clock of every fake)."""
    return dt.datetime.now(dt.UTC)


class FakeChannel:
    """Base of the four fakes: start/stop, ``inject`` faults, ``replies`` received, ``requests`` seen."""

    name = "fake"
    #: paths that faults skip unless a fault names them (token endpoints, so a refresh can succeed)
    fault_exempt: tuple[str, ...] = ()

    def __init__(self, *, clock: Callable[[], dt.datetime] | None = None) -> None:
        self.lock = threading.RLock()
        self.clock = clock or utc_now
        self._faults: list[Fault] = []
        self._replies: list[dict[str, Any]] = []
        self._requests: list[tuple[str, str]] = []
        self._server: RunningServer | None = None
        self._app: Starlette | None = None

    # --- control API -----------------------------------------------------------------------------------

    def inject(self, kind: FaultKind | str, count: int = 1, *, retry_after: float | str | None = None,
               path: str | None = None, delay: float = 0.0) -> None:
        """Play ``kind`` for the next ``count`` requests (only those whose path starts with ``path``)."""
        value = None if retry_after is None else str(int(retry_after) if isinstance(retry_after, float)
                                                     and retry_after.is_integer() else retry_after)
        with self.lock:
            self._faults.append(Fault(FaultKind(kind), count, value, path, delay))

    def clear_faults(self) -> None:
        """Forget every pending fault."""
        with self.lock:
            self._faults.clear()

    @property
    def replies(self) -> list[dict[str, Any]]:
        """The answers this channel received, in its own wire format, oldest first."""
        with self.lock:
            return [dict(reply) for reply in self._replies]

    @property
    def requests(self) -> list[tuple[str, str]]:
        """``(method, path)`` of every request served, faults included."""
        with self.lock:
            return list(self._requests)

    @property
    def app(self) -> Starlette:
        """The ASGI app (built once)."""
        if self._app is None:
            self._app = Starlette(routes=[Route(path, self._wrap(handler), methods=methods)
                                          for path, handler, methods in self.routes()])
        return self._app

    def start(self) -> str:
        """Serve on 127.0.0.1 on an ephemeral port; returns the base URL."""
        if self._server is None:
            self._server = serve(self.app)
        return self._server.base_url

    def stop(self) -> None:
        """Stop serving (idempotent)."""
        if self._server is not None:
            self._server.stop()
            self._server = None

    @property
    def base_url(self) -> str:
        """The base URL of the running server."""
        if self._server is None:
            raise RuntimeError(f"{self.name} fake is not running: call start()")
        return self._server.base_url

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- for subclasses --------------------------------------------------------------------------------

    def routes(self) -> list[tuple[str, Endpoint, list[str]]]:
        """``(path, handler, methods)`` of the channel's endpoints."""
        raise NotImplementedError

    def render_fault(self, fault: Fault, request: Request) -> Response:
        """The response for a fault; subclasses render the channel-specific kinds."""
        if fault.kind is FaultKind.TOO_MANY_REQUESTS:
            headers = {"Retry-After": fault.retry_after} if fault.retry_after else {}
            return JSONResponse({"error": "too many requests"}, status_code=429, headers=headers)
        if fault.kind is FaultKind.GARBAGE:
            return PlainTextResponse("<html><body>502 upstream glitch", status_code=200)
        return PlainTextResponse("Internal Server Error", status_code=500)

    def record_reply(self, reply: dict[str, Any]) -> None:
        """Keep an answer the channel received."""
        with self.lock:
            self._replies.append(reply)

    def _take_fault(self, path: str) -> Fault | None:
        with self.lock:
            for fault in self._faults:
                if fault.path:
                    applies = path.startswith(fault.path)
                else:
                    applies = not any(path.startswith(exempt) for exempt in self.fault_exempt)
                if applies and fault.remaining > 0:
                    fault.remaining -= 1
                    taken = Fault(fault.kind, 1, fault.retry_after, fault.path, fault.delay)
                    self._faults = [f for f in self._faults if f.remaining > 0]
                    return taken
        return None

    def _wrap(self, handler: Endpoint) -> Endpoint:
        async def endpoint(request: Request) -> Response:
            with self.lock:
                self._requests.append((request.method, request.url.path))
            fault = self._take_fault(request.url.path)
            if fault is not None:
                if fault.kind is not FaultKind.SLOW:
                    return self.render_fault(fault, request)
                await asyncio.sleep(fault.delay)
            return await handler(request)

        return endpoint


def json_response(payload: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    """JSON with Chinese kept readable (as the real platforms send it)."""
    return Response(json.dumps(payload, ensure_ascii=False), status_code=status, headers=headers,
                    media_type="application/json; charset=utf-8")
