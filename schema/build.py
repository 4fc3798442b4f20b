"""The schema with its guards: depth, alias and token limits, bounded caches, masked errors."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import strawberry
from graphql import GraphQLError
from strawberry.extensions import (
    AddValidationRules,
    DisableIntrospection,
    MaxTokensLimiter,
    ParserCache,
    SchemaExtension,
    ValidationCache,
)
from strawberry.extensions.max_aliases import create_validator as alias_rule
from strawberry.extensions.query_depth_limiter import create_validator as depth_rule
from strawberry.types import ExecutionContext

from hub.trail.service import write_read
from schema.context import HubContext
from schema.errors import ClientError, mask_errors
from schema.execution import ShortPathExecutionContext
from schema.mutation import Mutation
from schema.query import Query
from schema.subscription import Subscription

MAX_DEPTH = 8
MAX_ALIASES = 15
MAX_TOKENS = 2000
CACHE_SIZE = 256

# The limits' validation rules, created once: `QueryDepthLimiter(...)` and `MaxAliasesLimiter(...)` make a new
# rule class per instance, i.e. per request, and the rules are part of ValidationCache's key, so every request
# was validated again (~5 ms for the inbox query).
GUARD_RULES = (depth_rule(MAX_DEPTH, None, None), alias_rule(MAX_ALIASES))


class GuardRules(AddValidationRules):
    """The depth and alias limits (the same rules as strawberry's limiters), cache-friendly."""

    def __init__(self) -> None:
        super().__init__(list(GUARD_RULES))


class CommitReads(SchemaExtension):
    """Commit what a query wrote (the read log) once the operation has run.

    The row goes into the request's own transaction (one INSERT, no ORM flush) and is committed before the
    answer leaves: a read of personal data in clear is never shown without being on record.
    """

    async def on_operation(self) -> AsyncIterator[None]:
        """Let the operation run, then commit its read-log rows."""
        yield
        ctx = self.execution_context.context
        if not isinstance(ctx, HubContext):
            return
        async with ctx.db() as session:
            if ctx.unmasked_cases and ctx.principal is not None:
                await write_read(
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
        GuardRules,
        lambda: MaxTokensLimiter(max_token_count=MAX_TOKENS),
        lambda: ParserCache(maxsize=CACHE_SIZE),
        lambda: ValidationCache(maxsize=CACHE_SIZE),
        mask_errors,
        CommitReads,
    ]
    if not introspection:
        extensions.append(DisableIntrospection)
    return HubSchema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        extensions=extensions,
        execution_context_class=ShortPathExecutionContext,
    )
