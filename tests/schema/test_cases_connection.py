"""The `cases` connection: keyset pages that neither skip nor repeat, and the inbox filters."""

from __future__ import annotations

from helpers import CONNECTOR, DISPATCHER, codes, draft, handler

from hub.cases import service as workflow
from hub.cases.intake import submit_case

PAGE = """query($after: String, $filter: CaseFilterInput, $order: CaseOrder!) {
  cases(first: 4, after: $after, filter: $filter, orderBy: $order) {
    totalCount edges { node { caseNo } } pageInfo { hasNextPage endCursor } } }"""


async def _walk(gql, principal, filter=None, order="RECEIVED_AT_DESC") -> tuple[list[str], int]:  # type: ignore[no-untyped-def]
    seen: list[str] = []
    after = None
    while True:
        result = await gql(PAGE, principal, {"after": after, "filter": filter, "order": order})
        assert result.errors is None, result.errors
        data = result.data["cases"]
        seen += [e["node"]["caseNo"] for e in data["edges"]]
        if not data["pageInfo"]["hasNextPage"]:
            return seen, data["totalCount"]
        after = data["pageInfo"]["endCursor"]


async def test_pages_cover_everything_once_in_order(gql, district) -> None:  # type: ignore[no-untyped-def]
    numbers = []
    for i in range(11):
        async with district.ctx(CONNECTOR) as ctx:
            case = (
                await submit_case(
                    ctx,
                    draft=draft(title=f"咨询事项{i}", content="请问如何办理", kind="CONSULTATION"),
                    auto_dispatch=False,
                )
            ).case
            numbers.append(case.case_no)
        if i % 2:
            async with district.ctx(DISPATCHER) as ctx:
                await workflow.dispatch_case(ctx, case_id=case.id, lead_department="NH-ZJ")
    seen, total = await _walk(gql, DISPATCHER)
    assert total == 11 and sorted(seen) == sorted(numbers) and len(set(seen)) == 11
    due, _ = await _walk(gql, DISPATCHER, order="DUE_AT_ASC")
    assert sorted(due) == sorted(numbers)
    inbox, total = await _walk(gql, handler("NH-ZJ"))
    assert total == 5 and set(inbox) == {numbers[i] for i in range(1, 11, 2)}
    received, total = await _walk(gql, DISPATCHER, filter={"status": ["RECEIVED"]})
    assert len(received) == 6
    assert total == 6
    other, total = await _walk(gql, handler("NH-JY"))
    assert (other, total) == ([], 0)


async def test_a_forged_cursor_is_a_validation_error(gql, district) -> None:  # type: ignore[no-untyped-def]
    result = await gql(PAGE, DISPATCHER, {"after": "bm90LWEtY3Vyc29y", "filter": None, "order": "RECEIVED_AT_DESC"})
    assert codes(result) == ["VALIDATION_FAILED"]


async def test_the_total_is_the_same_on_every_page_and_past_the_last(gql, district) -> None:  # type: ignore[no-untyped-def]
    for i in range(5):
        async with district.ctx(CONNECTOR) as ctx:
            case = (await submit_case(ctx, draft=draft(title=f"噪音{i}"), auto_dispatch=False)).case
        async with district.ctx(DISPATCHER) as ctx:
            await workflow.dispatch_case(ctx, case_id=case.id, lead_department="NH-ZJ")
    totals, after = [], None
    for _ in range(3):  # 4 cases, 1 case, then past the last one
        result = await gql(PAGE, handler("NH-ZJ"), {"after": after, "filter": None, "order": "RECEIVED_AT_DESC"})
        assert result.errors is None, result.errors
        data = result.data["cases"]
        totals.append((len(data["edges"]), data["totalCount"]))
        after = data["pageInfo"]["endCursor"] or after
    assert totals == [(4, 5), (1, 5), (0, 5)]
