"""The per-request GraphQL context: who asks, one database session, what to write to the read log."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncSession
from strawberry.fastapi import BaseContext

from auth.principal import Principal
from hub.context import ServiceContext
from hub.events import EventBus
from hub.logs import request_id_var
from hub.settings import Settings


@dataclass
class HubContext(BaseContext):
    """Built per request."""

    principal: Principal | None
    session: AsyncSession
    settings: Settings
    bus: EventBus
    request_id: str
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    actor_department_id: int | None = None
    unmasked_cases: list[str] = field(default_factory=list)  # personal data shown in clear, logged once

    def __post_init__(self) -> None:
        super().__init__()
        request_id_var.set(self.request_id)

    @asynccontextmanager
    async def db(self) -> AsyncIterator[AsyncSession]:
        """The request's session, one user at a time (resolvers run concurrently)."""
        async with self.lock:
            yield self.session

    def service(self, principal: Principal) -> ServiceContext:
        """A service context for this request's session."""
        return ServiceContext(self.session, principal, self.settings, self.request_id)
