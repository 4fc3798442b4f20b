"""graphql-core's executor with a short path for plain leaf fields.

An inbox page of 50 cases is ~1,450 fields, ~1,100 of them scalars and enums read straight off an object
(`Case.case_no`, `Actor.role`, …). For each, the executor builds a resolve-info object, looks for arguments,
calls the resolver, checks twice for an awaitable and dispatches on the return type before serialising; that
was a third of the request's CPU. Here such a field is read and serialised directly. Anything else, and anything
unusual on the short path (a null for a non-null field, a value the scalar refuses), goes the full way, so
results and errors are exactly graphql-core's.
"""

from __future__ import annotations

from typing import Any

from graphql import GraphQLLeafType, GraphQLNonNull, GraphQLObjectType, Undefined, is_leaf_type
from graphql.pyutils import Path
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext


class LeafShortcutExecutionContext(StrawberryGraphQLCoreExecutionContext):
    """Plain leaf fields without resolver or middleware are read and serialised without the executor's ceremony."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        middleware = self.middleware_manager
        self._shortcut = middleware is None or not middleware.middlewares

    def execute_field(
        self,
        parent_type: GraphQLObjectType,
        source: Any,
        field_details_list: Any,
        path: Path,
        position_context: Any,
    ) -> Any:
        """A plain scalar or enum field directly; every other field as graphql-core does it."""
        if self._shortcut:
            field_def = self.schema.get_field(parent_type, field_details_list[0].node.name.value)
            # strawberry marks the resolver of a field without its own resolver (a plain attribute read)
            if field_def is not None and getattr(field_def.resolve, "_is_default", False):
                field_type = field_def.type
                leaf = field_type.of_type if isinstance(field_type, GraphQLNonNull) else field_type
                if is_leaf_type(leaf):
                    value = _read(field_def.resolve, source)
                    if value is None and leaf is field_type:
                        return None
                    if value is not None and value is not Undefined and not self.is_awaitable(value):
                        serialized = _serialize(leaf, value)
                        if serialized is not None and serialized is not Undefined:
                            return serialized
        return super().execute_field(parent_type, source, field_details_list, path, position_context)


def _read(resolve: Any, source: Any) -> Any:
    try:
        return resolve(source, None)  # strawberry's plain-field resolver ignores the info argument
    except Exception:  # the full path resolves again and reports the error at its path
        return Undefined


def _serialize(leaf: GraphQLLeafType, value: Any) -> Any:
    try:
        return leaf.serialize(value)
    except Exception:  # the full path serialises again and reports the error at its path
        return Undefined
