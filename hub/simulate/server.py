"""The hub's API served in this process on 127.0.0.1, with the embedded job worker, for `hub demo` and
`hub simulate` (the same app `hub serve` runs; the worker gets the caller's job settings)."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import socket
from collections.abc import Iterator
from typing import Any

import uvicorn
from fastapi import FastAPI

from auth.principal import Principal
from hub.app import Runtime, create_app
from hub.errors import SettingsError
from hub.jobs.settings import JobSettings, load_job_settings
from hub.jobs.worker import EmbeddedWorker, start_embedded_worker
from hub.routing.suggester import default_suggester
from hub.settings import Settings

LOCALHOST = "127.0.0.1"


class _Server(uvicorn.Server):
    """uvicorn without its own signal handling: Ctrl-C reaches our command, which shuts down in order."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        """Leave the signal handlers alone."""
        yield


class HubServer:
    """``async with HubServer(settings) as hub``: the API on ``hub.base_url`` with the embedded worker running."""

    def __init__(self, settings: Settings, *, port: int = 0, jobs: JobSettings | None = None,
                 scheduler: bool = False) -> None:
        self.settings = settings
        self.port = port
        self.jobs = jobs or load_job_settings()
        self.scheduler = scheduler
        self.app: FastAPI | None = None
        self.worker: EmbeddedWorker | None = None
        self._server: _Server | None = None
        self._task: asyncio.Task[None] | None = None
        self._socket: socket.socket | None = None
        self._tokens: dict[str, str] = {}

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:<port>``."""
        return f"http://{LOCALHOST}:{self.port}"

    @property
    def runtime(self) -> Runtime:
        """The app's runtime (settings, engine, security, bus)."""
        assert self.app is not None
        runtime: Runtime = self.app.state.runtime
        return runtime

    async def __aenter__(self) -> HubServer:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((LOCALHOST, self.port))
        except OSError as exc:
            sock.close()
            raise SettingsError(f"cannot listen on {LOCALHOST}:{self.port}: {exc.strerror} (choose --port)") from None
        self._socket = sock
        self.port = sock.getsockname()[1]
        # the category model loads once per process: now, not inside the first citizen's 5-second WeChat window
        await asyncio.to_thread(default_suggester().suggest, "预热", "预热")
        self.app = create_app(self.settings)
        config = uvicorn.Config(self.app, log_level="warning", access_log=False, lifespan="on")
        self._server = _Server(config)
        self._task = asyncio.create_task(self._server.serve(sockets=[sock]))
        while not self._server.started:
            if self._task.done():
                await self._task
                raise SettingsError("the API did not start")
            await asyncio.sleep(0.01)
        self.worker = start_embedded_worker(self.settings, bus=self.runtime.bus, jobs=self.jobs,
                                            scheduler=self.scheduler)
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self.worker is not None:
            await asyncio.to_thread(self.worker.stop)
            self.worker = None
        if self._server is not None and self._task is not None:
            self._server.should_exit = True
            await asyncio.shield(self._task)
        if self._socket is not None:
            self._socket.close()

    async def wait_closed(self) -> None:
        """Serve until Ctrl-C or SIGTERM asks the server to stop; leaving the ``async with`` then shuts down."""
        assert self._task is not None and self._server is not None
        server = self._server
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, setattr, server, "should_exit", True)
        try:
            await asyncio.shield(self._task)
        finally:
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.remove_signal_handler(sig)

    def token(self, principal: Principal) -> str:
        """A bearer token for ``principal`` from the embedded issuer (what `hub token` prints)."""
        if principal.subject not in self._tokens:
            issuer = self.runtime.security.issuer
            if issuer is None:
                raise SettingsError("this needs the embedded token issuer; unset HUB_OIDC_ISSUER")
            self._tokens[principal.subject] = issuer.issue(principal)
        return self._tokens[principal.subject]

    def headers(self, principal: Principal) -> dict[str, Any]:
        """Authorization headers for ``principal``."""
        return {"Authorization": f"Bearer {self.token(principal)}"}
