"""The trail is append-only in the database, and verification names the first altered row."""

from __future__ import annotations

import asyncio
import subprocess
import sys

import pytest
from helpers import CONNECTOR, DISPATCHER, draft
from sqlalchemy import event, select, text
from sqlalchemy.exc import DBAPIError

from hub.cases import service as workflow
from hub.cases.intake import submit_case
from hub.trail.models import CaseEvent
from hub.trail.service import verify_chains


async def _case_with_events(db) -> tuple[int, str]:  # type: ignore[no-untyped-def]
    async with db.ctx(CONNECTOR) as ctx:
        case = (
            await submit_case(
                ctx, draft=draft(title="咨询", content="请问怎么办理", kind="CONSULTATION"), auto_dispatch=False
            )
        ).case
    async with db.ctx(DISPATCHER) as ctx:
        await workflow.dispatch_case(ctx, case_id=case.id, lead_department="NH-ZJ")
    async with db.ctx(DISPATCHER) as ctx:
        await workflow.add_note(ctx, case_id=case.id, note="已电话联系来电人")
    return case.id, case.case_no


@pytest.mark.parametrize("verb", ["UPDATE case_event SET note = 'x'", "DELETE FROM case_event"])
async def test_database_refuses_changes_to_events(district, verb: str) -> None:  # type: ignore[no-untyped-def]
    await _case_with_events(district)
    with pytest.raises(DBAPIError) as err:
        async with district.sessions() as session, session.begin():
            await session.execute(text(verb))
    assert "append-only" in str(err.value)
    async with district.ctx() as ctx:
        assert len((await ctx.session.execute(select(CaseEvent))).scalars().all()) == 3


async def _tamper(db, case_id: int) -> None:  # type: ignore[no-untyped-def]
    """What an attacker with database access would do: switch the guard off and edit a row."""
    async with db.sessions() as session, session.begin():
        if db.backend == "postgresql":
            await session.execute(text("SET LOCAL session_replication_role = replica"))
        else:
            await session.execute(text("DROP TRIGGER case_event_no_update"))
        await session.execute(
            text("UPDATE case_event SET note = '已电话联系来电人（改）' WHERE case_id = :c AND seq = 3"), {"c": case_id}
        )


async def test_verify_names_the_altered_case_and_event(district) -> None:  # type: ignore[no-untyped-def]
    case_id, case_no = await _case_with_events(district)
    async with district.ctx() as ctx:
        assert (await verify_chains(ctx.session)).intact
    await _tamper(district, case_id)
    async with district.ctx() as ctx:
        report = await verify_chains(ctx.session)
    assert [(b.case_no, b.seq) for b in report.broken] == [(case_no, 3)]


def _verify_cli(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "hub.cli", "audit", "verify"], env=env, capture_output=True, text=True)


async def test_hub_audit_verify_exit_codes(district) -> None:  # type: ignore[no-untyped-def]
    case_id, case_no = await _case_with_events(district)
    env = {"HUB_DATABASE_URL": district.url, "PATH": "/usr/bin:/bin"}
    ok = await asyncio.to_thread(_verify_cli, env)
    assert ok.returncode == 0, ok.stderr
    assert "intact" in ok.stdout
    await _tamper(district, case_id)
    bad = await asyncio.to_thread(_verify_cli, env)
    assert bad.returncode == 1
    assert case_no in bad.stdout and "seq 3" in bad.stdout


async def test_a_unit_of_work_keeps_chain_heads_but_not_rolled_back_ones(district) -> None:  # type: ignore[no-untyped-def]
    case_id, _ = await _case_with_events(district)
    seen: list[str] = []
    async with district.ctx(DISPATCHER) as ctx:
        await workflow.add_note(ctx, case_id=case_id, note="一")  # reads the head once
        with pytest.raises(RuntimeError):
            async with ctx.session.begin_nested():
                await workflow.add_note(ctx, case_id=case_id, note="撤回")
                raise RuntimeError("rolled back with its savepoint")

        def count(_conn, _cursor, statement, *_args) -> None:  # type: ignore[no-untyped-def]
            seen.append(statement)

        event.listen(district.engine.sync_engine, "before_cursor_execute", count)
        try:
            await workflow.add_note(ctx, case_id=case_id, note="二")  # the cached head was undone: read again
            await workflow.add_note(ctx, case_id=case_id, note="三")  # now known: no read
        finally:
            event.remove(district.engine.sync_engine, "before_cursor_execute", count)
    heads = [s for s in seen if s.lstrip().startswith("SELECT") and "FROM case_event" in s]
    assert len(heads) == 1
    async with district.sessions() as session:
        notes = (await session.execute(
            select(CaseEvent.seq, CaseEvent.note).where(CaseEvent.case_id == case_id).order_by(CaseEvent.seq)
        )).all()
        assert [n for _, n in notes][-3:] == ["一", "二", "三"] and [s for s, _ in notes] == [1, 2, 3, 4, 5, 6]
        assert (await verify_chains(session, case_id=case_id)).intact
