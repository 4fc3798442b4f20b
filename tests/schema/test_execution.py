"""The executor's short path for plain leaf fields answers exactly as graphql-core does, errors included."""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

import strawberry

from schema.execution import ShortPathExecutionContext, plain_resolver


@strawberry.enum
class Colour(enum.Enum):
    RED = "RED"
    BLUE = "BLUE"


@strawberry.type
class Item:
    name: str
    note: str | None
    colour: Colour
    at: dt.datetime
    count: int


@strawberry.type
class Query:
    @strawberry.field
    def items(self) -> list[Item | None]:
        at = dt.datetime(2026, 11, 28, 12, 0, tzinfo=dt.UTC)
        return [
            Item(name="a", note=None, colour=Colour.RED, at=at, count=1),
            Item(name=None, note="n", colour=Colour.BLUE, at=at, count=2),  # type: ignore[arg-type]
            Item(name="c", note="x", colour="GREEN", at=at, count="many"),  # type: ignore[arg-type]
        ]


QUERY = "{ items { name note colour at count alias: name } }"


def _run(schema: strawberry.Schema) -> Any:
    result = schema.execute_sync(QUERY)
    return result.data, sorted((str(e.message), tuple(e.path or ())) for e in result.errors or [])


def test_short_path_matches_graphql_core() -> None:
    plain = strawberry.Schema(Query)
    short = strawberry.Schema(Query, execution_context_class=ShortPathExecutionContext)
    data, errors = _run(short)
    assert (data, errors) == _run(plain)
    assert data["items"][0] == {
        "name": "a",
        "note": None,
        "colour": "RED",
        "at": "2026-11-28T12:00:00+00:00",
        "count": 1,
        "alias": "a",
    }
    assert data["items"][1] is None and data["items"][2] is None  # a null name, a bad enum and a bad int
    assert any("non-nullable" in message for message, _path in errors)


@strawberry.type
class Leaf:
    code: str
    tags: list[str]


calls: list[int | None] = []


@plain_resolver
def _leaves(root: Node, last: int | None = None) -> list[Leaf]:
    calls.append(last)
    return root.all_leaves if last is None else root.all_leaves[-last:]


@strawberry.type
class Node:
    name: str
    parent: Node | None
    leaves: list[Leaf] = strawberry.field(resolver=_leaves)
    strict: list[Leaf]  # a None item below breaks it: the error is graphql-core's
    lazy: list[Leaf]  # a generator: graphql-core's way
    all_leaves: strawberry.Private[list[Leaf]]


@strawberry.type
class Tree:
    @strawberry.field
    def nodes(self) -> list[Node | None]:  # a broken node is null, the others stay
        top = Node(name="top", parent=None, strict=[], lazy=[], all_leaves=[Leaf(code="t", tags=[])])
        leaves = [Leaf(code=c, tags=[c, c + c]) for c in "abc"]
        return [
            Node(name="n1", parent=top, strict=leaves, lazy=(x for x in leaves), all_leaves=leaves),  # type: ignore[arg-type]
            Node(name="n2", parent=None, strict=[None], lazy=[], all_leaves=[]),  # type: ignore[list-item]
            Node(name="n3", parent=Node(name=None, parent=None, strict=[], lazy=[], all_leaves=[]),  # type: ignore[arg-type]
                 strict=[], lazy=[], all_leaves=[]),
        ]


TREE = """query($n: Int) {
  nodes {
    __typename name
    parent { name __typename parent { name } leaves(last: 1) { code } }
    leaves(last: $n) { code tags __typename }
    two: leaves(last: 2) { code }
    every: leaves { code }
    strict { code tags }
    lazy { code }
  }
}"""


def test_nested_plain_data_and_plain_resolvers_match_graphql_core() -> None:
    plain = strawberry.Schema(Tree)
    short = strawberry.Schema(Tree, execution_context_class=ShortPathExecutionContext)
    for n in (1, None):
        expected = plain.execute_sync(TREE, variable_values={"n": n})
        got = short.execute_sync(TREE, variable_values={"n": n})
        assert got.data == expected.data
        assert sorted((e.message, tuple(e.path or ())) for e in got.errors or []) == sorted(
            (e.message, tuple(e.path or ())) for e in expected.errors or []
        )
    assert expected.data is not None and len(expected.errors or []) == 2  # n2's strict list, n3's parent's name
    assert got.data is not None and got.data["nodes"][1] is None and got.data["nodes"][2]["parent"] is None
    first = got.data["nodes"][0]
    assert [leaf["code"] for leaf in first["two"]] == ["b", "c"]
    assert first["lazy"] == [{"code": "a"}, {"code": "b"}, {"code": "c"}]


SWITCHED = """query($with: Boolean!, $n: Int) {
  nodes { name parent @include(if: $with) { name } leaves(last: $n) { code } }
}"""


def test_plans_kept_across_requests_follow_the_variables() -> None:
    plain = strawberry.Schema(Tree)
    short = strawberry.Schema(Tree, execution_context_class=ShortPathExecutionContext)
    for variables in ({"with": True, "n": 1}, {"with": False, "n": 1}, {"with": True, "n": 2}, {"with": False}):
        got = short.execute_sync(SWITCHED, variable_values=variables)
        assert got.data == plain.execute_sync(SWITCHED, variable_values=variables).data
        first = got.data["nodes"][0]  # type: ignore[index]
        assert ("parent" in first) is variables["with"]
        assert len(first["leaves"]) == variables.get("n", 3)


async def test_a_repeated_query_is_validated_once(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import strawberry.schema.schema as strawberry_schema

    from schema.build import build_schema

    calls: list[object] = []
    validate = strawberry_schema.validate

    def counting(*args: Any, **kwargs: Any) -> Any:
        calls.append(args)
        return validate(*args, **kwargs)

    monkeypatch.setattr(strawberry_schema, "validate", counting)
    schema = build_schema()
    for _ in range(3):
        assert (await schema.execute("query Unique { n: __typename }")).data == {"n": "Query"}
    assert len(calls) <= 1  # the depth and alias rules are the same objects on every request: the cache hits
