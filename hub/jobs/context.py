"""What a job runs with: sessions, settings, connectors and (optionally) the event bus, on one event loop."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub.events import EventBus
from hub.ingest.config import ConnectorPool
from hub.jobs.settings import JobSettings
from hub.settings import Settings


@dataclass(frozen=True)
class JobContext:
    """The dependencies of a job; everything in it belongs to the event loop the job runs on."""

    sessions: async_sessionmaker[AsyncSession]
    settings: Settings
    jobs: JobSettings
    connectors: ConnectorPool
    bus: EventBus | None = None
