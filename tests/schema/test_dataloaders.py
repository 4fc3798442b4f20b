"""The inbox query costs the same number of SQL statements for 10 cases as for 200."""

from __future__ import annotations

from helpers import CONNECTOR, DISPATCHER, draft, handler
from sqlalchemy import event

from bench.inbox import DEPARTMENT, INBOX
from hub.cases import service as workflow
from hub.cases.intake import submit_case


def _inbox(first: int) -> dict[str, object]:
    """Variables of the benchmark's inbox query (bench/inbox.py): one document for the test and the harness."""
    return {"first": first, "department": DEPARTMENT, "status": None}


async def _fill(db, n: int) -> None:  # type: ignore[no-untyped-def]
    for i in range(n):
        async with db.ctx(CONNECTOR) as ctx:
            case = (
                await submit_case(
                    ctx,
                    draft=draft(
                        title=f"咨询第{i}号事项",
                        content="请问如何办理相关手续",
                        kind="CONSULTATION",
                        phone=f"139{i:08d}",
                    ),
                    auto_dispatch=False,
                )
            ).case
        async with db.ctx(DISPATCHER) as ctx:
            await workflow.dispatch_case(
                ctx, case_id=case.id, lead_department="NH-ZJ", co_departments=["NH-CG"] if i % 2 else []
            )
        if i % 3 == 0:
            async with db.ctx(handler("NH-ZJ")) as ctx:
                await workflow.claim_case(ctx, case_id=case.id)
                await workflow.answer_case(ctx, case_id=case.id, content="已答复")


async def _statements(db, gql, first: int) -> int:  # type: ignore[no-untyped-def]
    await gql(INBOX, handler("NH-ZJ"), _inbox(first))  # warm: the per-process department cache
    seen: list[str] = []

    def count(_conn, _cursor, statement, *_args) -> None:  # type: ignore[no-untyped-def]
        seen.append(statement)

    event.listen(db.engine.sync_engine, "before_cursor_execute", count)
    try:
        result = await gql(INBOX, handler("NH-ZJ"), _inbox(first))
    finally:
        event.remove(db.engine.sync_engine, "before_cursor_execute", count)
    assert result.errors is None, result.errors
    assert len(result.data["cases"]["edges"]) == first
    return len(seen)


async def test_statement_count_does_not_grow_with_the_page(district, gql) -> None:  # type: ignore[no-untyped-def]
    await _fill(district, 200)
    small, large = await _statements(district, gql, 10), await _statements(district, gql, 200)
    assert small == large
    # count, page, co-departments, citizens, last events, replies, the read-log row, and the fixture's own lookup
    # of the caller's department; on SQLite also two `BEGIN IMMEDIATE` (hub/db.py)
    assert small <= (8 if district.backend == "postgresql" else 10)
