"""All SQL of staff users and service clients."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.accounts.models import ServiceClient, User


async def client_by_client_id(session: AsyncSession, *, client_id: str) -> ServiceClient | None:
    """The service client with this client id, active or not."""
    stmt = select(ServiceClient).where(ServiceClient.client_id == client_id)
    return (await session.execute(stmt)).scalar_one_or_none()


async def user_by_subject(session: AsyncSession, *, subject: str) -> User | None:
    """The staff user with this subject, active or not."""
    return (await session.execute(select(User).where(User.subject == subject))).scalar_one_or_none()


async def add_client(session: AsyncSession, client: ServiceClient) -> ServiceClient:
    """Stage a new service client and flush it, so its id is known (the caller's transaction commits)."""
    session.add(client)
    await session.flush()
    return client
