"""`one_of`: the same rows as IN on both backends (keys given at once or when a prebuilt statement runs), and an
index condition on every key column in a cached plan."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import select, text
from sqlalchemy.dialects import postgresql

from hub.ingest.records import InboundReceipt
from hub.sql import one_of, one_of_parameter

NOW = dt.datetime(2026, 11, 28, 12, 0, tzinfo=dt.UTC)


async def _receipts(db: Any, count: int) -> None:
    async with db.ctx() as ctx:
        ctx.session.add_all(
            InboundReceipt(channel="WECHAT", dedupe_key=f"msg-{i:05d}", case_id=None, received_at=NOW)
            for i in range(count)
        )


async def test_one_of_finds_exactly_the_listed_keys(db: Any) -> None:
    await _receipts(db, 30)
    wanted = ["msg-00003", "msg-00017", "nope", "msg-00029"]
    stmt = select(InboundReceipt.dedupe_key).where(
        InboundReceipt.channel == "WECHAT", one_of(InboundReceipt.dedupe_key, wanted)
    )
    async with db.sessions() as session:
        assert sorted((await session.execute(stmt)).scalars()) == ["msg-00003", "msg-00017", "msg-00029"]
        assert list((await session.execute(stmt.where(one_of(InboundReceipt.dedupe_key, [])))).scalars()) == []


async def test_a_statement_built_once_takes_its_keys_when_it_runs(db: Any) -> None:
    await _receipts(db, 30)
    stmt = select(InboundReceipt.dedupe_key).where(one_of_parameter(InboundReceipt.dedupe_key, "keys"))
    async with db.sessions() as session:
        for wanted in (["msg-00003", "nope"], ["msg-00029", "msg-00001", "msg-00017"], []):
            found = sorted((await session.execute(stmt, {"keys": wanted})).scalars())
            assert found == sorted(k for k in wanted if k != "nope")


@pytest.mark.parametrize("db", ["postgresql"], indirect=True)
async def test_a_generic_plan_looks_up_every_key_through_the_index(db: Any) -> None:
    await _receipts(db, 2000)
    keys = [f"msg-{i:05d}" for i in range(0, 2000, 40)]  # fifty, as a pushed batch asks
    receipt = InboundReceipt
    stmt = select(receipt.case_id).where(receipt.channel == "WECHAT", one_of(receipt.dedupe_key, keys))
    compiled = stmt.compile(dialect=postgresql.asyncpg.dialect())  # type: ignore[attr-defined]
    params = compiled.construct_params()
    args = ", ".join(
        "ARRAY[" + ", ".join(f"'{k}'" for k in value) + "]" if isinstance(value, list) else f"'{value}'"
        for value in (params[name] for name in compiled.positiontup or [])
    )
    async with db.engine.connect() as conn:
        await conn.execute(text("ANALYZE inbound_receipt"))
        await conn.execute(text("SET plan_cache_mode = force_generic_plan"))  # what a statement gets after 5 runs
        await conn.exec_driver_sql(f"PREPARE receipts AS {compiled}")
        plan = "\n".join(r[0] for r in await conn.exec_driver_sql(f"EXPLAIN EXECUTE receipts({args})"))
    condition = next(line for line in plan.splitlines() if "Index Cond" in line)
    assert "channel" in condition and "dedupe_key" in condition, plan
