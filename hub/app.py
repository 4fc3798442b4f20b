"""The composition root: the one place that wires settings, database, auth, the bus and schema/ together."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import orjson
from fastapi import FastAPI, Request, WebSocket
from fastapi.responses import JSONResponse
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from strawberry.fastapi import GraphQLRouter
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL, GRAPHQL_WS_PROTOCOL

from auth.errors import AuthError
from auth.principal import Principal
from hub.auth_routes import auth_router
from hub.channel_routes import channel_router
from hub.db import make_engine, make_sessionmaker
from hub.departments.cache import active_by_code
from hub.events import EventBus, make_bus
from hub.ingest.batcher import PushBatcher
from hub.ingest.drain import QueueDrainer, watch_stale
from hub.jobs.queue import get_jobs
from hub.jobs.worker import start_embedded_worker
from hub.security import Security, build_security
from hub.settings import Settings, get_settings
from schema.build import build_schema
from schema.context import HubContext

log = logging.getLogger("hub.app")


class HubGraphQLRouter(GraphQLRouter[Any, None]):
    """GraphQL over HTTP, answers encoded by orjson (an inbox page is ~40 KB; `json.dumps` escaped every
    Chinese character and took a tenth of the request)."""

    def encode_json(self, data: object) -> str | bytes:
        """The answer as UTF-8 JSON; what orjson refuses (an integer beyond 64 bits in a JSON scalar) as before."""
        try:
            return orjson.dumps(data)
        except TypeError:
            return super().encode_json(data)


@dataclass
class Runtime:
    """What lives as long as the process."""

    settings: Settings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    security: Security
    bus: EventBus
    pushes: PushBatcher


def create_app(
    settings: Settings | None = None,
    *,
    security: Security | None = None,
    bus: EventBus | None = None,
    embedded_worker: bool = False,
) -> FastAPI:
    """The API: GraphQL, health, the token endpoint, channel callbacks and the issuer's discovery documents.

    `embedded_worker` (what `hub serve` asks for) runs the job worker and scheduler inside this process when
    there is no Redis; it also warms the category model so the first WeChat message is answered in time.
    """
    settings = settings or get_settings()
    engine = make_engine(settings.database_url)
    sessions = make_sessionmaker(engine)
    bus = bus or make_bus(settings.redis_url)
    runtime = Runtime(
        settings,
        engine,
        sessions,
        security or build_security(settings),
        bus,
        # With Redis the worker processes create the cases of pending intake; without, this process does.
        PushBatcher(sessions, settings, bus=bus,
                    drainer=QueueDrainer(lambda: get_jobs().enqueue_intake()) if settings.redis_url else None),
    )

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        await runtime.security.warm_up()
        # Without Redis, jobs exist only inside this process, so `hub serve` runs the worker here.
        worker = (
            start_embedded_worker(runtime.settings, bus=runtime.bus)
            if embedded_worker and not runtime.settings.redis_url
            else None
        )
        runtime.pushes.start()  # channel pushes are stored in batches by one writer task (group commit)
        runtime.pushes.drainer.wake()  # messages a previous run accepted but did not turn into cases
        # … and those whose job was lost; with Redis only when the workers are gone, not merely behind
        stale = asyncio.get_running_loop().create_task(
            watch_stale(runtime.sessions, runtime.settings, bus=runtime.bus,
                        older_than=600.0 if runtime.settings.redis_url else 60.0), name="stale-intake")
        yield
        stale.cancel()
        await runtime.pushes.aclose()  # store and answer what is still waiting before the engine goes
        if worker is not None:
            await asyncio.to_thread(worker.stop)
        runtime.security.close()
        await runtime.engine.dispose()
        close = getattr(runtime.bus, "close", None)
        if close is not None:
            await close()

    app = FastAPI(title="Case hub", lifespan=lifespan)
    app.state.runtime = runtime

    async def context(request: Request = None, websocket: WebSocket = None) -> AsyncIterator[HubContext]:  # type: ignore[assignment]
        connection = request or websocket
        header = connection.headers.get("authorization") if connection else None
        if websocket is not None and header is None:
            header = websocket.query_params.get("access_token") and f"Bearer {websocket.query_params['access_token']}"
        request_id = (connection.headers.get("x-request-id") if connection else None) or uuid.uuid4().hex[:16]
        try:
            principal = await runtime.security.authenticate(header)
        except AuthError:
            principal = None  # resolvers answer UNAUTHENTICATED; the token's contents are never echoed
        async with runtime.sessions() as session:
            ctx = HubContext(
                principal=principal, session=session, settings=runtime.settings, bus=runtime.bus, request_id=request_id
            )
            ctx.actor_department_id = await _department_id(session, principal)
            yield ctx

    graphql = HubGraphQLRouter(
        build_schema(introspection=settings.graphql_introspection),
        context_getter=context,
        subscription_protocols=[GRAPHQL_TRANSPORT_WS_PROTOCOL, GRAPHQL_WS_PROTOCOL],
    )
    app.include_router(graphql, prefix="/graphql")
    app.include_router(auth_router(runtime.security, runtime.sessions))
    app.include_router(
        channel_router(settings=runtime.settings, sessions=runtime.sessions, bus=runtime.bus, warm_up=embedded_worker,
                       batcher=runtime.pushes)
    )

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/readyz")
    async def readyz() -> JSONResponse:
        try:
            async with runtime.sessions() as session:
                await session.execute(text("SELECT 1"))
        except Exception:  # any failure means not ready
            log.warning("database not reachable")
            return JSONResponse({"status": "unavailable", "database": "down"}, status_code=503)
        return JSONResponse({"status": "ready", "database": "up"})

    return app


def served_app() -> FastAPI:
    """`hub serve --workers N`: each uvicorn worker process builds its app from the environment."""
    from hub.logs import configure_logging

    settings = get_settings()
    configure_logging(json_lines=settings.log_json)
    return create_app(settings, embedded_worker=True)


async def _department_id(session: AsyncSession, principal: Principal | None) -> int | None:
    if principal is None or not principal.department:
        return None
    department = await active_by_code(session, principal.department)  # no SQL while the cache is fresh
    if session.in_transaction():
        await session.rollback()  # the request's own transactions start clean
    return department.id if department else None
