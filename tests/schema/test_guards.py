"""Query limits hold through fragments and aliases; unexpected errors are masked; reads are audited."""

from __future__ import annotations

import logging

import pytest
from helpers import AUDITOR, CONNECTOR, DISPATCHER, codes, draft

from hub.cases.intake import submit_case
from schema.build import MAX_ALIASES, build_schema
from schema.export import SDL_PATH, sdl

DEEP_VIA_FRAGMENTS = """
query { cases { edges { node { ...A } } } }
fragment A on Case { leadDepartment { ...B } }
fragment B on Department { parent { ...C } }
fragment C on Department { parent { parent { parent { parent { parent { code } } } } } }
"""
CIRCULAR = """
query { departments { ...A } }
fragment A on Department { parent { ...B } }
fragment B on Department { parent { ...A } }
"""


def _aliases(n: int) -> str:
    return "query { " + " ".join(f"a{i}: me {{ subject }}" for i in range(n)) + " }"


ALIASED_IN_FRAGMENT = (
    "query { ...F }\nfragment F on Query { "
    + " ".join(f"x{i}: me {{ subject }}" for i in range(MAX_ALIASES + 1))
    + " }"
)


@pytest.mark.parametrize("query", [DEEP_VIA_FRAGMENTS, _aliases(MAX_ALIASES + 1), ALIASED_IN_FRAGMENT])
async def test_limits_hold_through_fragments_and_aliases(gql, query: str) -> None:  # type: ignore[no-untyped-def]
    result = await gql(query, DISPATCHER)
    assert result.errors and result.data is None


async def test_circular_fragments_are_refused(gql) -> None:  # type: ignore[no-untyped-def]
    result = await gql(CIRCULAR, DISPATCHER)
    assert result.errors and "Cannot spread fragment" in str(result.errors[0])


async def test_within_limits_passes(gql) -> None:  # type: ignore[no-untyped-def]
    result = await gql(_aliases(MAX_ALIASES), DISPATCHER)
    assert result.errors is None


async def test_introspection_can_be_turned_off(district, bus) -> None:  # type: ignore[no-untyped-def]
    from schema.context import HubContext

    closed = build_schema(introspection=False)
    async with district.sessions() as session:
        ctx = HubContext(principal=DISPATCHER, session=session, settings=district.settings, bus=bus, request_id="r")
        result = await closed.execute("{ __schema { types { name } } }", context_value=ctx)
    assert result.errors and result.data is None


async def test_unexpected_errors_are_masked_and_logged(gql, caplog) -> None:  # type: ignore[no-untyped-def]
    caplog.set_level(logging.ERROR, logger="hub.api")
    result = await gql('{ case(id: "not-a-number") { caseNo } }', DISPATCHER, request_id="req-42")
    assert result.errors and result.errors[0].message == "Internal error; see the server log"
    assert "not-a-number" not in result.errors[0].message
    assert any("unexpected error" in r.getMessage() and "req-42" in r.getMessage() for r in caplog.records)


async def test_auditor_queries_and_unmasked_reads_are_recorded(gql, district) -> None:  # type: ignore[no-untyped-def]
    async with district.ctx(CONNECTOR) as ctx:
        case = (await submit_case(ctx, draft=draft(), auto_dispatch=False)).case
    await gql(
        "query($no: String!) { case(caseNo: $no) { citizen { phone } } }",
        DISPATCHER,
        {"no": case.case_no},
        request_id="req-dispatch",
    )
    await gql("{ cases { totalCount } }", AUDITOR, request_id="req-audit")
    log = await gql("{ readLog { subject action target requestId } }", AUDITOR)
    assert log.errors is None
    entries = log.data["readLog"]
    assert {
        "subject": "dispatcher",
        "action": "citizen.unmasked",
        "target": case.case_no,
        "requestId": "req-dispatch",
    } in entries
    assert any(e["subject"] == "auditor" and e["action"] == "cases" for e in entries)
    assert codes(await gql("{ readLog { subject } }", DISPATCHER)) == ["NOT_ALLOWED"]


async def test_chinese_search_finds_two_and_five_character_terms(gql, district) -> None:  # type: ignore[no-untyped-def]
    async with district.ctx(CONNECTOR) as ctx:
        await submit_case(
            ctx, draft=draft(title="小区停车难问题", content="晚上没有车位，只能停在路边。"), auto_dispatch=False
        )
        await submit_case(ctx, draft=draft(), auto_dispatch=False)
    query = "query($q: String!) { cases(filter: {search: $q}) { totalCount edges { node { title } } } }"
    two = await gql(query, DISPATCHER, {"q": "油烟"})
    five = await gql(query, DISPATCHER, {"q": "小区停车难"})
    assert [e["node"]["title"] for e in two.data["cases"]["edges"]] == ["小区楼下餐馆油烟直排扰民"]
    assert [e["node"]["title"] for e in five.data["cases"]["edges"]] == ["小区停车难问题"]


def test_schema_graphql_is_current() -> None:
    assert SDL_PATH.read_text(encoding="utf-8") == sdl(), "run `python -m schema.export` and commit schema.graphql"
