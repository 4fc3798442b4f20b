"""The executor's short path for plain leaf fields answers exactly as graphql-core does, errors included."""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

import strawberry

from schema.execution import LeafShortcutExecutionContext


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
    short = strawberry.Schema(Query, execution_context_class=LeafShortcutExecutionContext)
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
