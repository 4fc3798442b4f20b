"""graphql-core's executor with a short path for plain data: attribute reads down to the leaves.

An inbox page of 50 cases is ~1,450 fields, nearly all of them attributes of plain objects (`Case.case_no`,
`Citizen.phone`, a department's parent's code, an event's actor, …). For each, graphql-core builds a
resolve-info object and a path, looks for arguments, calls the resolver, checks twice for an awaitable and
dispatches on the return type; that was most of the request's CPU. Here a selection whose every field is a plain
attribute (strawberry's default resolver, no directives, no @defer) or a `plain_resolver` with scalar arguments is
compiled into a small reader (once: kept for later requests with the same parsed document and variables), and each
value is read and serialised directly.

Anything unusual on the short path (a null for a non-null field, a value the scalar refuses, an exception, an
awaitable, an iterable that is not a list) abandons it for that field, which then goes graphql-core's way, so
results and errors are exactly graphql-core's: reading an attribute has no side effect, so reading it again is safe.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections import OrderedDict
from collections.abc import Callable, Hashable
from operator import attrgetter
from typing import Any, TypeVar, cast

from graphql import (
    FieldNode,
    GraphQLField,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLResolveInfo,
    GraphQLScalarType,
    Undefined,
    get_nullable_type,
    is_leaf_type,
)
from graphql.execution.collect_fields import FieldDetailsList
from graphql.execution.values import get_argument_values
from graphql.pyutils import Path
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

SLOW = object()  # "take graphql-core's path for this field"
SHARED_PLANS = 512  # plans kept across requests (a plan per selection of each distinct document and variables)
PLAIN = "__plain_resolver__"
F = TypeVar("F", bound=Callable[..., Any])
T = TypeVar("T")
Complete = Callable[[Any], Any]  # a value → its JSON-ready result, or SLOW
# Values of these classes are never awaitable; anything else is checked.
_PLAIN = frozenset({str, int, float, bool, list, dict, tuple, dt.datetime, dt.date})
_SHARED: OrderedDict[Hashable, tuple[object, Any]] = OrderedDict()


class ShortPathExecutionContext(StrawberryGraphQLCoreExecutionContext):
    """Plain attribute selections are read and serialised without the executor's per-field ceremony."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        middleware = self.middleware_manager
        self._shortcut = middleware is None or not middleware.middlewares
        # Per request: field groups are the executor's own (kept alive with the plan, so an id is not reused).
        self._fields: dict[tuple[int, int], tuple[FieldDetailsList, tuple[Complete, Complete] | None]] = {}
        self._types: dict[tuple[int, int], tuple[FieldDetailsList, Complete | None]] = {}
        try:  # plans depend on the document (cached: the same nodes) and the variables (@skip, arguments)
            self._variables: Hashable | None = _frozen(getattr(self.variable_values, "coerced", self.variable_values))
        except TypeError:  # a value without a faithful key: this request builds its own plans
            self._variables = None

    def execute_field(
        self,
        parent_type: GraphQLObjectType,
        source: Any,
        field_details_list: FieldDetailsList,
        path: Path,
        position_context: Any,
    ) -> Any:
        """A plain attribute field directly; every other field as graphql-core does it."""
        if self._shortcut:
            plan = self._field_plan(parent_type, field_details_list)
            if plan is not None:
                read, complete = plan
                try:
                    result = complete(read(source))
                except Exception:  # the full path reads again and reports the error at its path
                    result = SLOW
                if result is not SLOW:
                    return result
        return super().execute_field(parent_type, source, field_details_list, path, position_context)

    def complete_value(
        self,
        return_type: GraphQLOutputType,
        field_details_list: FieldDetailsList,
        info: GraphQLResolveInfo,
        path: Path,
        result: Any,
        position_context: Any,
    ) -> Any:
        """A resolver's value whose selection is plain data directly (e.g. the events `events(last:)` returns)."""
        if self._shortcut:
            complete = self._type_plan(return_type, field_details_list)
            if complete is not None:
                try:
                    completed = complete(result)
                except Exception:  # the full path completes again and reports the error at its path
                    completed = SLOW
                if completed is not SLOW:
                    return completed
        return super().complete_value(return_type, field_details_list, info, path, result, position_context)

    def _field_plan(
        self, parent_type: GraphQLObjectType, field_details_list: FieldDetailsList
    ) -> tuple[Complete, Complete] | None:
        key = (id(parent_type), id(field_details_list))
        found = self._fields.get(key)
        if found is None:
            plan = self._shared("field", parent_type, field_details_list, self._build_field)
            found = self._fields[key] = (field_details_list, plan)
        return found[1]

    def _type_plan(self, return_type: GraphQLOutputType, field_details_list: FieldDetailsList) -> Complete | None:
        key = (id(return_type), id(field_details_list))
        found = self._types.get(key)
        if found is None:
            plan = self._shared("type", return_type, field_details_list, self._build_type)
            found = self._types[key] = (field_details_list, plan)
        return found[1]

    def _shared(self, kind: str, gql_type: Any, field_details_list: FieldDetailsList, build: Callable[..., T]) -> T:
        """A plan from earlier requests with the same document nodes and variables, else built (and kept)."""
        if self._variables is None:
            return build(gql_type, field_details_list)
        nodes = [d.node for d in field_details_list]
        key = (kind, id(gql_type), *map(id, nodes), self._variables)
        found = _SHARED.get(key)
        if found is not None:
            _SHARED.move_to_end(key)
            return cast(T, found[1])
        plan = build(gql_type, field_details_list)
        _SHARED[key] = ((gql_type, nodes), plan)  # the type and nodes stay alive: their ids are not reused
        if len(_SHARED) > SHARED_PLANS:
            _SHARED.popitem(last=False)
        return plan

    def _build_field(
        self, parent_type: GraphQLObjectType, field_details_list: FieldDetailsList
    ) -> tuple[Complete, Complete] | None:
        """How to read and complete one field of ``parent_type``, if it is a plain attribute."""
        if any(d.defer_usage is not None or d.fragment_variable_values is not None for d in field_details_list):
            return None
        node = field_details_list[0].node
        if any(d.node.directives for d in field_details_list):
            return None
        name = node.name.value
        if name == "__typename":
            typename = parent_type.name
            return (lambda _source: typename), (lambda value: value)
        field_def = self.schema.get_field(parent_type, name)
        if field_def is None:
            return None
        definition = field_def.extensions.get("strawberry-definition")
        if getattr(field_def.resolve, "_is_default", False) and not field_def.args and not node.arguments:
            read: Complete | None = _reader(field_def.resolve, definition)
        else:
            read = self._plain_call(field_def, definition, node)
        if read is None:
            return None
        complete = self._type_plan(field_def.type, field_details_list)
        if complete is None:
            return None
        return read, complete

    def _plain_call(self, field_def: GraphQLField, definition: Any, node: FieldNode) -> Complete | None:
        """A call of a `plain_resolver` with this request's arguments (scalars: no input objects to convert)."""
        resolver = getattr(definition, "base_resolver", None)
        if resolver is None or definition.extensions or not getattr(resolver.wrapped_func, PLAIN, False):
            return None
        root = resolver.root_parameter
        if resolver.is_async or resolver.info_parameter or resolver.self_parameter or resolver.parent_parameter:
            return None
        if any(not isinstance(get_nullable_type(a.type), GraphQLScalarType) for a in field_def.args.values()):
            return None
        try:  # the same arguments for every object of this selection: the variables are the request's
            values = get_argument_values(field_def, node, self.variable_values)
        except Exception:  # graphql-core's way reports it
            return None
        kwargs = {field_def.args[name].extensions["strawberry-definition"].python_name: v for name, v in values.items()}
        function = resolver.wrapped_func
        if root is None:
            return lambda _source: function(**kwargs)
        return lambda source: function(**{root.name: source}, **kwargs)

    def _build_type(self, gql_type: GraphQLOutputType, field_details_list: FieldDetailsList) -> Complete | None:
        """How to complete a value of ``gql_type`` for this selection, if every part of it is plain data."""
        non_null = isinstance(gql_type, GraphQLNonNull)
        inner = gql_type.of_type if isinstance(gql_type, GraphQLNonNull) else gql_type
        is_awaitable = self.is_awaitable
        if is_leaf_type(inner):
            coerce = inner.coerce_output_value

            def leaf(value: Any) -> Any:
                if value is None or value is Undefined:
                    return SLOW if non_null else None
                if value.__class__ not in _PLAIN and (is_awaitable(value) or isinstance(value, Exception)):
                    return SLOW
                coerced = coerce(value)
                return SLOW if coerced is None or coerced is Undefined else coerced

            return leaf
        if isinstance(inner, GraphQLList):
            item = self._type_plan(inner.of_type, field_details_list)
            if item is None:
                return None

            def items(value: Any) -> Any:
                if value is None or value is Undefined:
                    return SLOW if non_null else None
                if not isinstance(value, list | tuple):  # generators, async iterables: graphql-core's way
                    return SLOW
                out = []
                for v in value:
                    completed = item(v)
                    if completed is SLOW:
                        return SLOW
                    out.append(completed)
                return out

            return items
        if not isinstance(inner, GraphQLObjectType) or inner.is_type_of is not None:
            return None  # interfaces, unions, type checks: graphql-core's way
        collected = self.collect_subfields(inner, field_details_list)
        if collected.new_defer_usages:
            return None
        fields: list[tuple[str, Complete, Complete]] = []
        for response_name, sub_fields in collected.grouped_field_set.items():
            plan = self._field_plan(inner, sub_fields)
            if plan is None:
                return None
            fields.append((response_name, *plan))

        def obj(value: Any) -> Any:
            if value is None or value is Undefined:
                return SLOW if non_null else None
            if is_awaitable(value) or isinstance(value, Exception):
                return SLOW
            out = {}
            for response_name, read, complete in fields:
                completed = complete(read(value))
                if completed is SLOW:
                    return SLOW
                out[response_name] = completed
            return out

        return obj


def _frozen(value: Any) -> Hashable:
    """A key equal for equal variable values (types included: 1, 1.0 and True differ); TypeError for others."""
    if value is None or value is Undefined or isinstance(value, str | bool | int | enum.Enum):
        return (value.__class__, value)
    if isinstance(value, float | dt.date | dt.time):  # equal is not the same: -0.0 and 0.0, an instant in two zones
        return (value.__class__, repr(value))
    if isinstance(value, list | tuple):
        return ("list", *map(_frozen, value))
    if isinstance(value, dict):
        return ("dict", *((str(k), _frozen(v)) for k, v in value.items()))
    raise TypeError(f"no key for {type(value).__name__}")


def plain_resolver(function: F) -> F:
    """Mark a resolver as a plain function of its root and scalar arguments: no info, no awaiting, no side effect.

    The short path then calls it directly (once per object, arguments coerced once per request), and calls it
    again through graphql-core if the value turns out unusual.
    """
    setattr(function, PLAIN, True)
    return function


def _reader(resolve: Any, field: Any) -> Complete:
    """An attribute read equal to strawberry's default resolver for the field."""
    if field is not None and getattr(field, "default_resolver", None) is getattr:
        return attrgetter(field.python_name)
    return lambda source: resolve(source, None)  # strawberry's plain-field resolver ignores the info argument
