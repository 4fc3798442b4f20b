"""`stats` and `hotTopics` over GraphQL: every department for auditors, one's own for a handler."""

from __future__ import annotations

from helpers import AUDITOR, CONNECTOR, DISPATCHER, codes, draft, handler

from hub.cases import service as workflow
from hub.cases.intake import submit_case

QUERY = """query($f: StatsFilterInput) { stats(filter: $f, groupBy: [DEPARTMENT]) {
  department received dispatched signed answered onTimeRate handlingHoursMedian } }"""


async def test_stats_scoped_by_role(gql, district, clock) -> None:  # type: ignore[no-untyped-def]
    for lead in ("NH-ZJ", "NH-ZJ", "NH-JY"):
        async with district.ctx(CONNECTOR) as ctx:
            case = (
                await submit_case(
                    ctx, draft=draft(title="咨询", content="请问如何办理", kind="CONSULTATION"), auto_dispatch=False
                )
            ).case
        async with district.ctx(DISPATCHER) as ctx:
            await workflow.dispatch_case(ctx, case_id=case.id, lead_department=lead)
        clock.advance(hours=1)
        async with district.ctx(handler(lead)) as ctx:
            await workflow.claim_case(ctx, case_id=case.id)
            await workflow.answer_case(ctx, case_id=case.id, content="已答复")
    every = await gql(QUERY, AUDITOR)
    assert every.errors is None
    rows = {r["department"]: r for r in every.data["stats"]}
    assert (rows["NH-ZJ"]["received"], rows["NH-ZJ"]["answered"], rows["NH-JY"]["received"]) == (2, 2, 1)
    assert rows["NH-ZJ"]["onTimeRate"] == 1.0 and rows["NH-ZJ"]["handlingHoursMedian"] == 1.0
    own = await gql(QUERY, handler("NH-ZJ"))
    assert [r["department"] for r in own.data["stats"]] == ["NH-ZJ"]
    other = await gql(QUERY, handler("NH-ZJ"), {"f": {"department": "NH-JY"}})
    assert codes(other) == ["NOT_ALLOWED"]
