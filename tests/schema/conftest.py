"""Running GraphQL operations against the real schema with a real per-request context."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from strawberry.types import ExecutionResult

from auth.principal import Principal
from hub.departments import repository as departments
from hub.events import LocalBus
from schema.build import build_schema
from schema.context import HubContext

Run = Callable[..., Awaitable[ExecutionResult]]


@pytest.fixture(scope="session")
def schema():  # type: ignore[no-untyped-def]
    """The schema as served."""
    return build_schema()


@pytest.fixture
def bus() -> LocalBus:
    """An in-process event bus."""
    return LocalBus()


@pytest.fixture
def gql(district, schema, bus) -> Run:  # type: ignore[no-untyped-def]
    """Execute an operation as a principal, with a fresh context (session, loaders) as one request would."""

    async def run(
        query: str, principal: Principal | None, variables: dict[str, Any] | None = None, request_id: str = "test"
    ) -> ExecutionResult:
        async with district.sessions() as session:
            ctx = HubContext(
                principal=principal, session=session, settings=district.settings, bus=bus, request_id=request_id
            )
            if principal and principal.department:
                found = await departments.by_code(session, code=principal.department)
                ctx.actor_department_id = found.id if found else None
                await session.rollback()
            return await schema.execute(query, variable_values=variables, context_value=ctx)

    return run
