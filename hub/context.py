"""What every service call carries: the unit of work, who acts, and the settings in force."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from auth.principal import Principal
from hub.settings import Settings


@dataclass(frozen=True)
class ServiceContext:
    """One caller inside one transaction; services never commit it."""

    session: AsyncSession
    actor: Principal
    settings: Settings
    request_id: str | None = None

    def as_actor(self, actor: Principal) -> ServiceContext:
        """The same unit of work on behalf of another actor (the system after a submit)."""
        return ServiceContext(self.session, actor, self.settings, self.request_id)
