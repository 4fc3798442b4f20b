"""The schema with its guards: depth, alias and token limits, bounded caches, masked errors."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import strawberry
from graphql import GraphQLError
from strawberry.extensions import (
    DisableIntrospection,
    MaxAliasesLimiter,
    MaxTokensLimiter,
    ParserCache,
    QueryDepthLimiter,
    SchemaExtension,
    ValidationCache,
)
from strawberry.types import ExecutionContext

from hub.trail.service import record_read
from schema.context import HubContext
from schema.errors import ClientError, mask_errors
from schema.mutation import Mutation
from schema.query import Query
from schema.subscription import Subscription

MAX_DEPTH = 8
MAX_ALIASES = 15
MAX_TOKENS = 2000
CACHE_SIZE = 256


class CommitReads(SchemaExtension):
    """Commit what a query wrote (the read log) once the operation has run."""

    async def on_operation(self) -> AsyncIterator[None]:
        """Let the operation run, then commit its read-log rows."""
        yield
        ctx = self.execution_context.context
        if not isinstance(ctx, HubContext):
            return
        async with ctx.db() as session:
            if ctx.unmasked_cases and ctx.principal is not None:
                await record_read(
                    session,
                    actor=ctx.principal,
                    action="citizen.unmasked",
                    target=",".join(dict.fromkeys(ctx.unmasked_cases)),
                    request_id=ctx.request_id,
                )
                ctx.unmasked_cases.clear()
            if session.in_transaction():
                await session.commit()


class HubSchema(strawberry.Schema):
    """Logs only what went wrong on our side; expected client errors are answers, not incidents."""

    def process_errors(self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None) -> None:
        """Log errors that are not deliberate client errors."""
        unexpected = [e for e in errors if not isinstance(e.original_error, ClientError)]
        if unexpected:
            super().process_errors(unexpected, execution_context)


def build_schema(*, introspection: bool = True) -> HubSchema:
    """The hub's GraphQL schema; each extension is a factory, so no state is shared between requests."""
    extensions: list[Callable[[], SchemaExtension]] = [
        lambda: QueryDepthLimiter(max_depth=MAX_DEPTH),
        lambda: MaxAliasesLimiter(max_alias_count=MAX_ALIASES),
        lambda: MaxTokensLimiter(max_token_count=MAX_TOKENS),
        lambda: ParserCache(maxsize=CACHE_SIZE),
        lambda: ValidationCache(maxsize=CACHE_SIZE),
        mask_errors,
        CommitReads,
    ]
    if not introspection:
        extensions.append(DisableIntrospection)
    return HubSchema(query=Query, mutation=Mutation, subscription=Subscription, extensions=extensions)
